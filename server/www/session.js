// The session's two ends as the page sees them (docs/identity.md, "Sessions"): the idle expiry,
// which every request of the session moves, and the absolute end, which nothing moves. A modal
// alert dialog warns before each; past the idle expiry the page asks the server, whose 401 takes
// it back to the sign-in screen as any 401 does (the official's work held, app.js).
//
// Why modal, taking the focus: the warning must be heard by a screen-reader user and its one
// action ("Stay signed in") reached with one key, wherever the focus was (WCAG 2.2.1); an alert
// the focus does not reach would leave them hunting for the button while the time runs. It says
// it is modal (aria-modal, the rest of the page inert), closing it (the button, or Escape, which
// only dismisses) gives the focus back where it was, and a key typed meanwhile falls on the
// button: at worst, Enter or Space keeps the session. Nothing is stored, no personal data shown.
import { h, clear, append } from './dom.js';

/** Warned this long before the idle expiry (two minutes), or at half the idle time when that is
 *  shorter (under four minutes: the tests' few seconds). */
export const IDLE_LEAD_MS = 2 * 60 * 1000;
/** Warned this long before the absolute end (five minutes), or at half the lifetime left at
 *  sign-in when that is shorter (under ten minutes). */
export const ABSOLUTE_LEAD_MS = 5 * 60 * 1000;
/** Past the page's reckoning of an end before it asks the server: the server counts whole
 *  seconds from when it handled the request, a little before the page had the answer. */
const MARGIN_MS = 1000;
/** A check that could not reach the server is tried again this much later. */
const RETRY_MS = 5000;
/** The watch looks again at least this often (a PC that slept, a clock set meanwhile). */
const LOOK_MS = 30 * 1000;

const lead = (lifetimeMs, maxMs) => Math.min(maxMs, lifetimeMs / 2);

/**
 * The watch over one signed-in page. `tr()` gives the current translator; `ask()` asks the server
 * for the session (GET /api/v1/session, a 401 reported to the page as any), resolving to its JSON.
 * start(me) after each sign-in, seen(at) after each answer showing the session alive (the server
 * slid the idle expiry), stop() when the session ends or is left.
 */
export function sessionWatch({ tr, ask }) {
  let on = false;
  let idleMs = 0;
  let idleEnd = 0;        // Date.now() time of the idle expiry (the last answer + idleMs)
  let absoluteEnd = 0;    // Date.now() time of the absolute end, placed by the server's own "now"
  let absoluteMs = 0;     // the absolute end's distance from sign-in, as first seen (for its lead)
  let timer = 0;
  let asking = false;
  let absoluteDismissed = false;
  let idleDismissedFor = 0;  // the idle end whose warning was dismissed with Escape
  let shown = null;          // {kind: 'idle'|'absolute', end, dialog, left, before}

  /** The absolute end in this PC's clock: the server's distance between its "now" and the end,
   *  from the moment the answer is here (a PC whose clock is wrong is warned on time anyway). */
  function place(me) {
    const end = Date.parse(me.expires_at || '');
    const now = Date.parse(me.now || '');
    if (Number.isNaN(end)) return;
    absoluteEnd = Date.now() + (Number.isNaN(now) ? end - Date.now() : end - now);
  }

  function start(me, at = Date.now()) {
    stop();
    if (!me || !Number.isFinite(me.idle_timeout_s) || !me.expires_at) return;  // not a browser session
    on = true;
    idleMs = me.idle_timeout_s * 1000;
    idleEnd = at + idleMs;
    place(me);
    absoluteMs = Math.max(0, absoluteEnd - at);
    tick();
  }

  function seen(at = Date.now()) {
    if (!on) return;
    idleEnd = Math.max(idleEnd, at + idleMs);
    tick();
  }

  function stop() {
    on = false;
    clearTimeout(timer);
    absoluteDismissed = false;
    idleDismissedFor = 0;
    hide({ restoreFocus: false });
  }

  /** What is due now: a warning, the check past an end, and when to look again. */
  function tick() {
    clearTimeout(timer);
    if (!on) return;
    const now = Date.now();
    const idleFirst = idleEnd < absoluteEnd;
    const end = Math.min(idleEnd, absoluteEnd);
    if (now >= end + MARGIN_MS) {
      check();
      return;
    }
    const absoluteDue = !absoluteDismissed && now >= absoluteEnd - lead(absoluteMs, ABSOLUTE_LEAD_MS);
    const idleDue = idleFirst && idleDismissedFor !== idleEnd && now >= idleEnd - lead(idleMs, IDLE_LEAD_MS);
    if (absoluteDue) show('absolute', absoluteEnd, now);
    else if (idleDue) show('idle', idleEnd, now);
    else hide();
    const next = [idleEnd - lead(idleMs, IDLE_LEAD_MS), absoluteEnd - lead(absoluteMs, ABSOLUTE_LEAD_MS), end + MARGIN_MS]
      .filter((x) => x > now);
    // While a warning is shown, its time left is counted down each second.
    if (shown) next.push(now + ((shown.end - now) % 1000 || 1000) + 10);
    timer = setTimeout(tick, Math.min(LOOK_MS, Math.max(50, Math.min(...next) - now)));
  }

  /** Past an end by the page's reckoning: the server says whether the session is still alive
   *  (another tab of this browser may have used it). A 401 takes the page to the sign-in screen
   *  (api.js); an answer moves the ends, and the watch goes on. */
  async function check() {
    if (asking) return;
    asking = true;
    let failed = false;
    try {
      const me = await ask();
      if (on) place(me);
    } catch (e) {
      failed = e.status !== 401;  // a 401 has already taken the page to the sign-in screen
    } finally {
      asking = false;
    }
    if (!on) return;
    if (failed) {
      clearTimeout(timer);
      timer = setTimeout(tick, RETRY_MS);
    } else {
      tick();
    }
  }

  async function stay() {
    if (asking || !shown) return;  // a check already asks: its answer closes the warning
    const button = shown.dialog.querySelector('button');
    const text = button.textContent;
    button.setAttribute('aria-busy', 'true');
    button.setAttribute('aria-disabled', 'true');
    button.textContent = tr().t('session.staying');
    asking = true;
    try {
      const me = await ask();
      if (on) place(me);
      asking = false;
      tick();  // the answer moved the idle end (seen): the warning closes
    } catch (e) {
      asking = false;
      if (e.status === 401 || !shown) return;
      button.removeAttribute('aria-busy');
      button.removeAttribute('aria-disabled');
      button.textContent = text;
      const slot = shown.dialog.querySelector('.session-error');
      slot.hidden = false;
      clear(slot).append(tr().t(e.status === 0 ? 'error.network' : 'error.server'));
    }
  }

  function dismiss() {
    if (!shown) return;
    if (shown.kind === 'absolute') absoluteDismissed = true;
    else idleDismissedFor = idleEnd;
    tick();
  }

  function dialogElement() {
    let d = document.getElementById('session-warning');
    if (!d) {
      d = h('dialog', {
        id: 'session-warning', class: 'session-warning', role: 'alertdialog', 'aria-modal': 'true',
        'aria-labelledby': 'session-warning-title', 'aria-describedby': 'session-warning-text',
        on: {
          // Closed by the browser (Escape): the warning is dismissed, the session not kept (it
          // ends as announced). The watch's own closing has forgotten `shown` first.
          close: () => { if (shown) dismiss(); },
        },
      });
      document.body.append(d);
    }
    return d;
  }

  function leftText(ms) {
    const r = tr();
    const s = Math.max(0, Math.ceil(ms / 1000));
    if (s < 60) return r.t('session.left_seconds', { seconds: r.num(s) });
    return r.t('session.left', { minutes: r.num(Math.floor(s / 60)), seconds: r.num(s % 60) });
  }

  function show(kind, end, now) {
    const r = tr();
    if (shown && shown.kind === kind && Math.abs(shown.end - end) < 1000) {
      shown.end = end;
      shown.left.textContent = leftText(end - now);
      return;
    }
    const before = shown ? shown.before : document.activeElement;
    const dialog = dialogElement();
    clear(dialog);
    const left = h('p', { class: 'session-left', role: 'timer', id: 'session-warning-left' }, leftText(end - now));
    append(dialog,
      h('h2', { id: 'session-warning-title' }, r.t(`session.${kind}.title`)),
      h('p', { id: 'session-warning-text' }, r.tn(`session.${kind}.text`, { time: r.time(end) })),
      left,
      h('p', { class: 'field-error session-error', role: 'alert', hidden: true }),
      h('div', { class: 'actions' }, kind === 'idle'
        ? h('button', { type: 'button', class: 'primary', id: 'session-stay', on: { click: stay } }, r.t('session.stay'))
        : h('button', { type: 'button', class: 'primary', id: 'session-understood', on: { click: dismiss } }, r.t('session.understood'))));
    shown = { kind, end, dialog, left, before };
    if (!dialog.open) dialog.showModal();
    dialog.querySelector('button').focus();
  }

  function hide({ restoreFocus = true } = {}) {
    if (!shown) return;
    const { dialog, before } = shown;
    shown = null;
    if (dialog.open) dialog.close();
    clear(dialog);
    if (!restoreFocus) return;
    // Back where it was; if that screen was drawn again meanwhile, to the new screen's heading.
    if (before && before.isConnected && before !== document.body) before.focus({ preventScroll: true });
    else document.querySelector('#main h1')?.focus();
  }

  return { start, seen, stop };
}
