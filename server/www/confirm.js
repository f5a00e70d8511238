// A question the page asks before it drops work the official has not recorded (decisions changed
// on an answer, when another file is looked up): a modal alert dialog, as the session's warning
// is (session.js), for the same reasons: heard by a screen-reader user wherever the focus was, its
// choices reached with one key, the rest of the page inert meanwhile. The focus goes to the first
// choice (the one that loses nothing); Escape answers nothing (null: nothing is done); closed, the
// dialog gives the focus back where it was. Nothing personal is shown in it.
import { h, append } from './dom.js';

let current = null;  // {dialog, settle}: the question open, if any

/**
 * Asks `title` / `text` with a button per choice ({value, label, primary}); resolves to the value
 * chosen, or null when dismissed (Escape) or withdrawn (withdraw(): the session ended meanwhile).
 * `id` names the dialog and its parts (`${id}-title`, `${id}-text`, `${id}-${value}`).
 */
export function ask({ id, title, text, choices }) {
  withdraw();
  return new Promise((resolve) => {
    const before = document.activeElement;
    const dialog = h('dialog', {
      id, class: 'confirm', role: 'alertdialog', 'aria-modal': 'true',
      'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-text`,
    });
    const settle = (value, { restoreFocus = true } = {}) => {
      if (current?.dialog !== dialog) return;  // already answered (closing fires `close` again)
      current = null;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (restoreFocus && before && before.isConnected && before !== document.body) before.focus({ preventScroll: true });
      resolve(value);
    };
    // Closed by the browser (Escape): nothing chosen.
    dialog.addEventListener('close', () => settle(null));
    append(dialog,
      h('h2', { id: `${id}-title` }, title),
      h('p', { id: `${id}-text` }, text),
      h('div', { class: 'actions' }, choices.map((c) => h('button', {
        type: 'button', id: `${id}-${c.value}`, class: c.primary ? 'primary' : 'secondary',
        on: { click: () => settle(c.value) },
      }, c.label))));
    current = { dialog, settle };
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('button').focus();
  });
}

/** Closes the question open, if any, as unanswered (the screen it was asked over is gone). */
export function withdraw() {
  current?.settle(null, { restoreFocus: false });
}
