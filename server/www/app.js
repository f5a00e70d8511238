// The officials' page: sign-in, the applicant form, the answer per programme with the official's
// decision, the receipt and the figures. State lives in memory only (nothing in localStorage or
// sessionStorage); signing out drops it and empties the screen. Losing the session (idle expiry)
// empties the screen too, but the official's work is held in memory while the sign-in screen is
// shown: the same user signing in again gets it back where they were, anyone else (or a reload)
// starts from nothing. Before the session ends, a warning says when, and lets the official keep
// it (session.js). Decisions changed on an answer and not recorded are not dropped silently by a
// lookup of another file: the official is asked first (confirm.js).
import { h, clear, fieldId, append } from './dom.js';
import { LANGS, loadCatalogue, ltr } from './i18n.js';
import {
  api, ApiError, setCsrf, onSessionLost, onSessionSeen, pointerToPath,
} from './api.js';
import { sessionWatch } from './session.js';
import { ask, withdraw } from './confirm.js';
import {
  emptyModel, renderFields, buildRecord, validate, loadRecord, shownNumber,
} from './form.js';
import {
  renderAnswer, cssId, REASON_MAX, OBSERVATIONS_MAX,
} from './answer.js';
import { titleOf } from './outcome.js';
import { renderReceipt } from './receipt.js';
import { renderFigures } from './figures.js';

const root = {
  header: document.getElementById('top'),
  main: document.getElementById('main'),
  status: document.getElementById('status'),
};

/** Everything the page knows; reset() forgets all of it. */
let state;
/** The latest lookup: one answering after another lookup, a new applicant, an examination, an
 *  earlier decision opened or a sign-out is not drawn (it would put its file over what the
 *  official moved on to). Each of those counts one. */
let lookupSeq = 0;
/** The work of a user whose session expired, until the next sign-in: {user, role, office, at,
 *  work} (the state as it was). Memory only; given back to the same user in the same role and
 *  office within HELD_MS, dropped otherwise (an official moved to another office does not get
 *  the old office's applicant back; an applicant erased overnight is not redrawn the next day). */
let held = null;
const HELD_MS = 12 * 60 * 60 * 1000;  // the server's absolute session lifetime
function reset(lang = 'fr') {
  lookupSeq += 1;
  state = {
    tr: state?.tr && state.tr.lang === lang ? state.tr : null,
    lang,
    me: null,
    screen: 'signin',
    flash: null,          // {key, params, kind: 'info'|'error', also, until, after} at the top of the
                          // screen it was given for (see flashElement)
    schemas: new Map(),   // lang, or lang and ruleset hash → schema (not personal)
    model: emptyModel(),
    asOf: today(),
    fieldErrors: {},      // path → {key, params}
    evaluation: null,     // the POST /evaluate or GET /decisions/{id} answer
    reviews: [],
    draft: {},            // rule → {outcome, value, reason}
    touched: new Set(),   // rules whose decision the official changed on this screen
    colleague: null,      // {user, rules}: what a colleague changed meanwhile (after a 409)
    reviewErrors: {},     // field id → {key, params}: the server's refusal of a review, per field
    observations: '',
    receiptLang: null,
    history: null,        // {applicant, decisions: […]}
    lookupId: '',
    langChosen: null,     // a language picked on the sign-in screen, applied once signed in
    busy: false,
    stats: null,
    statsMonth: null,     // the counter's month chosen on the figures screen (null: the latest)
  };
}

function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

const tr = () => state.tr;
const t = (k, p) => state.tr.t(k, p);

// --- Session -----------------------------------------------------------------------------------

/** The warnings before the session's idle expiry and absolute end ("Stay signed in" asks for the
 *  session: a request of it, which starts its idle time again). */
const watch = sessionWatch({ tr, ask: () => api('GET', '/api/v1/session') });
onSessionSeen((at) => watch.seen(at));

onSessionLost(() => {
  watch.stop();
  withdraw();  // a question about the work on screen: that screen is gone
  const lang = state.lang;
  // Held for the same user only (see signedIn); nothing of it stays on the screen.
  if (state.me) {
    held = {
      user: state.me.user, role: state.me.role, office: state.me.office || null, at: Date.now(), work: state,
    };
  }
  setCsrf('');
  reset(lang);
  go('signin', { key: 'signin.expired', kind: 'error' });
});

/** A review starts again from the latest recorded one (a new answer, a review recorded). */
function freshReview() {
  state.draft = {};
  state.touched = new Set();
  state.colleague = null;
  state.reviewErrors = {};
  state.observations = '';
}

async function setLanguage(lang) {
  if (!LANGS.includes(lang)) lang = 'fr';
  state.tr = await loadCatalogue(lang);
  state.lang = lang;
}

async function start() {
  held = null;
  reset('fr');
  await setLanguage('fr');
  try {
    const me = await api('GET', '/api/v1/session', undefined, { quiet401: true });
    await signedIn(me, { focus: false });
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 401 && e.status !== 0)) console.error(e);
    go('signin', e.status === 0 ? { key: 'error.network', kind: 'error' } : null, { focus: false });
  }
}

async function signedIn(me, opts = {}) {
  watch.start(me);
  // The work held since the session expired: back for the same user, forgotten for anyone else.
  const back = held && held.user === me.user && held.role === me.role
    && held.office === (me.office || null) && Date.now() - held.at < HELD_MS ? held.work : null;
  held = null;
  if (back) {
    const { tr: current, lang, langChosen } = state;
    state = { ...back, tr: current, lang, langChosen, busy: false, flash: null };
  }
  state.me = me;
  setCsrf(me.csrf);
  // A language chosen on the sign-in screen is the user's choice from now on.
  if (state.langChosen && state.langChosen !== me.lang) {
    await api('PUT', '/api/v1/session/lang', { lang: state.langChosen });
    me.lang = state.langChosen;
  }
  state.langChosen = null;
  await setLanguage(me.lang || 'fr');
  if (back && (canCounter() || !['form', 'answer', 'receipt'].includes(back.screen)) && back.screen !== 'signin') {
    // The explanations in the user's language, if it is not the one the answer was read in: for
    // an answer on screen only (each read is an audited read of the applicant's decision).
    if (['answer', 'receipt'].includes(back.screen)) {
      await explanationsIn(state.lang).catch((e) => console.error('explanations', e.status));
    }
    go(back.screen, { key: 'signin.restored', kind: 'info' }, opts);
    return;
  }
  go(canCounter() ? 'form' : 'figures', undefined, opts);
}

const canCounter = () => ['official', 'admin'].includes(state.me?.role);
const canFigures = () => ['adviser', 'auditor', 'admin', 'official'].includes(state.me?.role);

async function signIn(user, password) {
  try {
    const me = await api('POST', '/api/v1/login', { user, password }, { quiet401: true });
    await signedIn(me);
  } catch (e) {
    if (e.status === 429) {
      // The seconds are counted from the deadline whenever the message is drawn (in another
      // language too) and each second while it is shown; at the deadline, it says so.
      flash({
        key: 'signin.rate_limited', until: Date.now() + (e.retryAfter || 60) * 1000, kind: 'error',
        after: { key: 'signin.rate_limit_over', kind: 'info' },
      });
    } else if (e.status === 401 || e.status === 403) {
      flash({ key: 'signin.refused', kind: 'error' });
    } else {
      flash({ key: e.status === 0 ? 'error.network' : 'error.server', kind: 'error' });
    }
    render({ focusOn: '#password' });
  }
}

async function signOut() {
  watch.stop();
  withdraw();
  try {
    await api('POST', '/api/v1/logout', undefined, { quiet401: true });
  } catch (e) {
    // The session is dropped on this screen whatever the server said (it may have expired).
    if (e.status !== 401) console.error('logout', e.status);
  }
  const lang = state.lang;
  setCsrf('');
  held = null;
  reset(lang);
  await setLanguage(lang);
  go('signin', { key: 'signin.signed_out', kind: 'info' });
}

// --- Rendering -----------------------------------------------------------------------------------

function flash(f) { state.flash = f; }

/** Shows a screen; its heading takes the focus (a screen reader announces it), except on the
 *  first load, where the focus stays at the top of the page (the skip link comes first). A
 *  message (`f`) is about the screen it is given for: another screen shown without one of its
 *  own drops it (a refused sign-in, or "signed out", is not said again on the form once signed
 *  in, in the user's language). */
function go(screen, f = undefined, { focus = true, focusOn = null } = {}) {
  if (f === undefined && screen !== state.screen) f = null;
  state.screen = screen;
  if (f !== undefined) state.flash = f;
  return render({ focus, focusOn });
}

/** Messages already drawn once (a flash, a form's errors): drawn again with their screen (in
 *  another language, or with a list's item more), they are shown as they were but not
 *  announced again (a live region inserted anew is read out again). */
const announced = new WeakSet();
function firstDrawing(messages) {
  const first = !announced.has(messages);
  announced.add(messages);
  return first;
}

/** Seconds left until a message's deadline (`until`, a Date.now() time), rounded up. */
const secondsLeft = (f) => Math.max(0, Math.ceil((f.until - Date.now()) / 1000));

/** The message at the top of a screen ({key, params, kind}), announced on its first drawing only.
 *  `also`: a second message's key said after it (a failed lookup's cause); `rules`: a 409's
 *  programmes; `until`: a deadline whose seconds left are the `seconds` parameter, reckoned when
 *  drawn (see keepCounting). */
function flashElement(f) {
  const r = tr();
  const role = firstDrawing(f) ? (f.kind === 'error' ? 'alert' : 'status') : null;
  const params = f.until ? { ...f.params, seconds: r.num(secondsLeft(f)) } : f.params || {};
  return h('div', {
    class: `flash flash-${f.kind || 'info'}`, role, tabindex: '-1',
  }, r.tn(f.key, params), f.also ? [' ', r.tn(f.also)] : null, f.rules ? changedRules(f) : null);
}

/** A message counting down to its deadline ("try again in N seconds") is drawn again each second
 *  while it is on the screen, as on a change of language: shown anew, not announced again (a
 *  live region read out each second would drown what the official does meanwhile). At the
 *  deadline it gives way to its `after` message, which is announced. */
let countdown = 0;
function keepCounting() {
  clearTimeout(countdown);
  const f = state.flash;
  if (!f || !f.until) return;
  const left = f.until - Date.now();
  countdown = setTimeout(() => {
    const shown = root.main.querySelector(':scope > .flash');
    if (state.flash !== f || !shown) return;  // another message, or another screen, meanwhile
    if (Date.now() >= f.until) state.flash = f.after || null;
    const next = state.flash ? flashElement(state.flash) : null;
    const focused = shown.contains(document.activeElement);
    if (next && !shown.getAttribute('role') && !next.getAttribute('role')) {
      // Already drawn without a live role: its words change in place, the focus stays where it
      // is (moving it to a new element would have it read out again each second).
      shown.replaceChildren(...next.childNodes);
    } else {
      if (next) shown.replaceWith(next);
      else shown.remove();
      if (next && focused) next.focus({ preventScroll: true });
    }
    keepCounting();
  }, left > 0 ? (left % 1000 || 1000) + 10 : 0);
}

/** The record's schema in `lang`: of the pack in effect today, or of the stored ruleset of the
 *  hash `ruleset` when given. */
async function schemaFor(lang, ruleset = null) {
  const key = ruleset ? `${lang}|${ruleset}` : lang;
  if (!state.schemas.has(key)) {
    const of = ruleset ? `&ruleset=${encodeURIComponent(ruleset)}` : '';
    const schema = await api('GET', `/api/v1/schema?lang=${encodeURIComponent(lang)}${of}`);
    if (state.schemas.size >= 24) state.schemas.clear();  // a few packs, three languages
    state.schemas.set(key, schema);
  }
  return state.schemas.get(key);
}

/** The schema of the pack that decided `ev` (by its ruleset's hash: a back-dated answer, or
 *  one opened from the history after a new publication, was decided by another pack than
 *  today's): its decisions' values and titles are the ones a review of it may give (the server
 *  refuses another pack's). Today's, without a second request, when it is the same pack. */
async function schemaOf(ev, lang) {
  const today = await schemaFor(lang);
  const hash = ev?.ruleset?.hash;
  if (!hash || today.ruleset?.hash === hash) return today;
  return schemaFor(lang, hash);
}

let renders = 0;

/** Draws the current screen. Screens are drawn asynchronously (they may read the schema first):
 *  the focus moves once the screen is there, to `focusOn` (a selector, or a function giving the
 *  element) when it exists, else to the heading when `focus`. Resolves when drawn. */
function render({ focus = false, focusOn = null } = {}) {
  const seq = ++renders;
  const r = tr();
  document.documentElement.lang = r.lang;
  document.documentElement.dir = r.dir;
  document.title = `${t(`screen.${state.screen}`)} — ${t('app.name')}`;
  renderHeader();
  clear(root.main);
  clear(root.status);
  if (state.flash) append(root.main, flashElement(state.flash));
  keepCounting();
  const screens = {
    signin: renderSignIn, form: renderForm, answer: renderAnswerScreen,
    receipt: renderReceiptScreen, figures: renderFiguresScreen,
  };
  const done = screens[state.screen]().then(() => {
    if (seq !== renders) return;  // drawn again meanwhile: that drawing places the focus
    root.main.setAttribute('data-screen', state.screen);
    root.main.setAttribute('aria-busy', 'false');
    const target = typeof focusOn === 'function' ? focusOn() : focusOn ? document.querySelector(focusOn) : null;
    if (target) target.focus();
    else if (focus) (root.main.querySelector('h1') || root.main).focus();
  }).catch(handleError);
  root.main.setAttribute('aria-busy', 'true');
  return done;
}

/** After a 409: the programmes a colleague changed, by title, those the official changed as
 *  well said so (their own choice is kept). */
function changedRules(f) {
  const r = tr();
  const byRule = new Map((state.evaluation?.decisions || []).map((d) => [d.rule, d]));
  if (!f.rules.length) return h('p', {}, r.tn('review.conflict_none', { user: f.params.user }));
  return [
    h('p', {}, r.tn('review.conflict_changed', { user: f.params.user })),
    h('ul', {}, f.rules.map((rule) => h('li', {},
      titleOf(byRule.get(rule) || { rule }, r.lang),
      (f.mine || []).includes(rule) ? [' — ', t('review.conflict_yours_kept')] : null))),
  ];
}

/** Marks a button busy while its request is in flight (aria-busy, aria-disabled: it keeps the
 *  focus, unlike `disabled`) with the words saying so; returns the function that undoes it. */
function busyButton(id, key) {
  const el = document.getElementById(id);
  if (!el) return () => {};
  const text = el.textContent;
  el.setAttribute('aria-busy', 'true');
  el.setAttribute('aria-disabled', 'true');
  el.textContent = t(key);
  return () => {
    if (!el.isConnected) return;  // the screen was drawn again
    el.removeAttribute('aria-busy');
    el.removeAttribute('aria-disabled');
    el.textContent = text;
  };
}

/** The words of a failure: of the network, the server, a refusal, or the page's own. */
function errorKey(e) {
  if (!(e instanceof ApiError)) return 'error.page';
  return e.status === 0 ? 'error.network' : e.csrf ? 'error.csrf' : e.status === 403 ? 'error.forbidden' : 'error.server';
}

function handleError(e) {
  if (e instanceof ApiError && e.status === 401) return;  // already back to the sign-in screen
  console.error(e);
  clear(root.status);
  const alert = h('p', { class: 'flash flash-error', role: 'alert', tabindex: '-1' }, t(errorKey(e)));
  root.status.append(alert);
  // The official may be at the bottom of a long form: bring the message to them.
  alert.scrollIntoView({ block: 'center' });
  alert.focus({ preventScroll: true });
}

function renderHeader() {
  const r = tr();
  clear(root.header);
  const navItem = (screen, key) => h('li', {}, h('a', {
    href: `#${screen}`, 'aria-current': state.screen === screen || (screen === 'form' && ['answer', 'receipt'].includes(state.screen)) ? 'page' : null,
    on: { click: (ev) => { ev.preventDefault(); navigate(screen); } },
  }, t(key)));
  append(root.header, 
    h('a', { class: 'skip', href: '#main' }, t('app.skip')),
    h('div', { class: 'brand' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'د'),
      h('span', { class: 'brand-name' }, t('app.name')),
      h('span', { class: 'brand-sub' }, t('app.subtitle'))),
    state.me ? h('nav', { 'aria-label': t('nav.label') }, h('ul', {},
      canCounter() ? navItem('form', 'nav.form') : null,
      canFigures() ? navItem('figures', 'nav.figures') : null)) : null,
    h('div', { class: 'tools' },
      h('label', { for: 'ui-lang', class: 'lang-label' }, t('lang.label')),
      h('select', {
        id: 'ui-lang',
        on: { change: (ev) => changeLanguage(ev.target.value) },
      }, LANGS.map((l) => h('option', { value: l, lang: l, selected: l === r.lang }, t(`lang.name.${l}`)))),
      state.me ? h('span', { class: 'who' }, r.tn(state.me.office ? 'user.with_office' : 'user.alone', {
        user: state.me.user, office: state.me.office, role: t(`role.${state.me.role}`),
      })) : null,
      state.me ? h('button', { type: 'button', id: 'sign-out', class: 'secondary', on: { click: signOut } }, t('signout.button')) : null));
}

/** The answer on screen was asked in one language (its explanations only in it): switched to
 *  another, the explanations in that one are read again (an audited read of the same decision). */
async function explanationsIn(lang) {
  const ev = state.evaluation;
  if (!ev || !ev.decision_id || !(ev.decisions || []).some((d) => d.explanation && !(lang in d.explanation))) return;
  const again = await api('GET', `/api/v1/decisions/${encodeURIComponent(ev.decision_id)}?lang=${lang}`);
  const byRule = new Map((again.decisions || []).map((d) => [d.rule, d]));
  for (const d of ev.decisions) {
    const n = byRule.get(d.rule);
    if (n && n.explanation) d.explanation = { ...d.explanation, ...n.explanation };
  }
}

async function changeLanguage(lang) {
  // Busy from the choice until the screen is drawn again in that language (render sets it back):
  // a screen reader is told, and nothing typed meanwhile is taken for the new screen's (the
  // browser tests wait on it: a lookup typed while the language was still being stored was
  // erased by the redrawing).
  root.main.setAttribute('aria-busy', 'true');
  try {
    if (state.me) await api('PUT', '/api/v1/session/lang', { lang });
    else state.langChosen = lang;
    await setLanguage(lang);
    if (state.me) state.me.lang = lang;
    // The language is stored and its words loaded: the screen is drawn in it whatever follows.
    // Should the explanations in it not be read (the network, the store), the answer shows its
    // reasons without them and the error is said, rather than a selector naming a language the
    // screen is not in.
    // Only for an answer on screen: each read is an audited read of the applicant's decision.
    let unread = null;
    try {
      if (['answer', 'receipt'].includes(state.screen)) await explanationsIn(lang);
    } catch (e) {
      unread = e;
    }
    render();
    if (unread) {
      handleError(unread);
      return;
    }
    document.getElementById('ui-lang')?.focus();
  } catch (e) {
    root.main.setAttribute('aria-busy', 'false');  // the screen stays as it was
    handleError(e);
  }
}

function navigate(screen) {
  if (screen === 'form' && state.screen !== 'form') {
    go('form');  // another screen's message is dropped with it (go)
  } else if (screen === 'figures') {
    state.stats = null;
    go('figures', null);  // read again: a new visit
  }
}

// --- Sign-in ---------------------------------------------------------------------------------------

async function renderSignIn() {
  const form = h('form', {
    class: 'card signin', novalidate: true,
    on: {
      submit: (ev) => {
        ev.preventDefault();
        const fd = new FormData(ev.target);
        signIn(String(fd.get('user') || ''), String(fd.get('password') || ''));
      },
    },
  },
  h('div', { class: 'field' },
    h('label', { for: 'user' }, t('signin.user')),
    h('input', { id: 'user', name: 'user', autocomplete: 'username', required: true, spellcheck: 'false', dir: 'ltr' })),
  h('div', { class: 'field' },
    h('label', { for: 'password' }, t('signin.password')),
    h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, dir: 'ltr' })),
  h('button', { type: 'submit', class: 'primary' }, t('signin.button')));
  append(root.main, 
    h('h1', { tabindex: '-1' }, t('signin.title')),
    h('p', { class: 'lead' }, t('signin.lead')),
    form,
    h('p', { class: 'note' }, t('signin.shared_pc')));
}

// --- The applicant form -------------------------------------------------------------------------

async function renderForm() {
  const schema = await schemaFor(state.lang);
  const r = tr();
  const documents = Object.fromEntries((schema.documents || []).map((d) => [d.name, d.title]));
  const ctx = { tr: r, model: state.model, documents, redraw: (opts) => render(opts) };

  const lookup = h('form', {
    class: 'card lookup', novalidate: true, 'aria-labelledby': 'lookup-title',
    on: { submit: (ev) => { ev.preventDefault(); lookupApplicant(new FormData(ev.target).get('lookup')); } },
  },
  h('h2', { id: 'lookup-title' }, t('form.returning.title')),
  h('p', { class: 'help', id: 'lookup-help' }, t('form.returning.help')),
  h('div', { class: 'inline' },
    h('label', { for: 'lookup' }, t('form.returning.id')),
    h('input', { id: 'lookup', name: 'lookup', dir: 'ltr', autocomplete: 'off', value: state.lookupId, 'aria-describedby': 'lookup-help' }),
    h('button', { type: 'submit', class: 'secondary' }, t('form.returning.button'))),
  state.history ? renderHistory() : null);

  const errors = Object.entries(state.fieldErrors);
  const summary = errors.length ? h('div', {
    class: 'error-summary', role: firstDrawing(state.fieldErrors) ? 'alert' : null, tabindex: '-1', id: 'error-summary',
  },
    h('h2', {}, t('form.errors.title', { n: r.num(errors.length) })),
    h('ul', {}, errors.map(([path, e]) => h('li', {}, h('a', {
      href: `#${fieldId(path)}`,
      on: { click: (ev) => { ev.preventDefault(); focusField(path); } },
    }, labelOfPath(schema.fields, path) || t('form.as_of'), t('punct.colon'), errorWords(e)))))) : null;

  const form = h('form', {
    class: 'applicant', id: 'applicant-form', novalidate: true, autocomplete: 'off', 'aria-labelledby': 'form-title',
    on: { submit: (ev) => { ev.preventDefault(); evaluate(); } },
  },
  h('h2', { id: 'form-title' }, t('form.title')),
  h('p', { class: 'help' }, t('form.unknown_is_fine')),
  h('div', { class: 'field date as-of' },
    h('label', { for: 'as-of' }, t('form.as_of')),
    h('p', { class: 'help', id: 'as-of-help' }, t('form.as_of_help')),
    h('input', {
      id: 'as-of', type: 'date', required: true, value: state.asOf, 'aria-describedby': 'as-of-help as-of-err',
      on: { input: (ev) => { state.asOf = ev.target.value; }, change: (ev) => { state.asOf = ev.target.value; } },
    }),
    h('p', { class: 'field-error', id: 'as-of-err', hidden: true })),
  renderFields(schema.fields, ctx),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary', id: 'evaluate' }, t('form.submit')),
    h('button', { type: 'button', class: 'secondary', id: 'clear-form', on: { click: newApplicant } }, t('form.clear'))));

  append(root.main, 
    h('h1', { tabindex: '-1' }, t('form.heading')),
    renderNotice(r),
    lookup,
    summary,
    form);
  showFieldErrors();
}

function renderNotice(r) {
  return h('section', { class: 'notice', 'aria-labelledby': 'notice-title' },
    h('h2', { id: 'notice-title' }, t('notice5.title')),
    h('p', {}, r.tn('notice5.controller', { office: state.me?.office || '—' })),
    h('p', {}, t('notice5.purpose')),
    h('p', {}, t('notice5.recipients')),
    h('p', {}, t('notice5.optional')),
    h('p', {}, t('notice5.rights')),
    h('p', {}, t('notice5.automated')));
}

function renderHistory() {
  const r = tr();
  const hist = state.history;
  if (!hist.decisions.length) return h('p', { class: 'help' }, t('form.returning.no_decisions'));
  return h('div', { class: 'history' },
    h('h3', {}, t('form.returning.earlier')),
    h('ul', {}, hist.decisions.map((d) => h('li', {},
      r.tn('form.returning.entry', {
        date: r.date(d.as_of), at: d.at ? r.stamp(d.at) : '—', office: d.office || '—',
      }),
      ' ',
      h('span', { class: 'badge' }, t(d.reviewed ? 'form.returning.reviewed' : 'form.returning.not_reviewed')),
      ' ',
      h('button', { type: 'button', class: 'link', on: { click: () => openDecision(d.decision_id) } },
        t('form.returning.open'), h('span', { class: 'visually-hidden' }, ' ', r.date(d.as_of)))))));
}

function labelOfPath(fields, path) {
  const parts = path.split('.');
  let list = fields;
  const labels = [];
  for (let i = 0; i < parts.length; i += 1) {
    const f = (list || []).find((x) => x.name === parts[i]);
    if (!f) {
      if (/^\d+$/.test(parts[i])) { labels.push(tr().t('form.list.item', { n: Number(parts[i]) + 1 })); continue; }
      return labels.join(' › ') || null;
    }
    labels.push(f.label);
    list = f.type === 'list' ? (f.of.fields || []) : f.fields;
  }
  return labels.join(' › ');
}

/** The controls of a field: its input, or every choice of a yes/no field (the field's id is its
 *  first choice's), or those of a record or list (its group: the fieldset, or an optional
 *  field's `-group`). */
function controlsOf(path) {
  const id = path === '' ? 'as-of' : fieldId(path);
  const el = document.getElementById(id) || document.getElementById(`${id}-group`);
  if (!el) return [];
  if (el.matches('input[type="radio"]')) return [...document.getElementsByName(el.name)];
  if (el.matches('input,select,textarea')) return [el];
  return [...el.querySelectorAll('input,select,textarea')];
}

function focusField(path) {
  const controls = controlsOf(path);
  // A group of choices is entered at the choice made, as the Tab key would.
  const target = controls.find((x) => x.type === 'radio' && x.checked && x.name === controls[0].name) || controls[0];
  target?.focus();
}

/** An error's words in the language drawn: a limit it names is written as that language writes
 *  numbers (kept as the schema gives it until drawn). */
function errorWords(e) {
  const params = { ...(e.params || {}) };
  for (const k of e.numbers || []) params[k] = shownNumber(params[k], state.lang);
  return tr().tn(e.key, params);
}

function showFieldErrors() {
  for (const [path, e] of Object.entries(state.fieldErrors)) {
    const id = path === '' ? 'as-of' : fieldId(path);
    const slot = document.getElementById(`${id}-err`);
    if (slot) {
      clear(slot).append(...errorWords(e));
      slot.hidden = false;
    }
    const input = document.getElementById(id);
    // A field's own input (or the choices of a yes/no field), not every input of a record.
    if (input && input.matches('input,select')) {
      for (const c of controlsOf(path)) c.setAttribute('aria-invalid', 'true');
    }
  }
}

/** Whether the answer on screen may be left: nothing on it changed and not recorded, or the
 *  official chose to drop it when asked ('back' takes them to it; Escape, a sign-out or another
 *  action meanwhile: stay). */
async function mayLeaveReview() {
  if (!reviewPending()) return true;
  const seq = lookupSeq;
  const choice = await askReviewPending();
  if (seq !== lookupSeq) return false;
  if (choice === 'back') backToReview();
  return choice === 'drop';
}

async function newApplicant() {
  if (!(await mayLeaveReview())) return;
  lookupSeq += 1;
  state.model = emptyModel();
  state.fieldErrors = {};
  forgetAnswer();
  state.history = null;
  state.lookupId = '';
  state.asOf = today();
  go('form', null);
}

async function lookupApplicant(id) {
  id = String(id || '').trim();
  state.lookupId = id;
  const seq = ++lookupSeq;
  if (!id) return;
  // Whatever it finds, a lookup drops the answer on screen with the official's decisions on it:
  // those changed and not recorded, the official says first whether to go back to them.
  if (!(await mayLeaveReview()) || seq !== lookupSeq) return;  // the number typed stays
  try {
    const schema = await schemaFor(state.lang);
    const [record, hist] = await Promise.all([
      api('GET', `/api/v1/applicants/${encodeURIComponent(id)}/record`),
      api('GET', `/api/v1/applicants/${encodeURIComponent(id)}/decisions`).catch((e) => {
        if (e.status === 404) return { applicant: id, decisions: [] };
        throw e;
      }),
    ]);
    if (seq !== lookupSeq) return;
    forgetAnswer();
    state.model = loadRecord(schema.fields, record, emptyModel());
    if (!state.model.values.id) state.model.values.id = id;
    state.history = hist;
    state.fieldErrors = {};
    state.asOf = today();  // a file taken up at the counter is examined today, as a new one is
    go('form', { key: 'form.returning.loaded', kind: 'info' });
  } catch (e) {
    // A 401 has already taken the page to the sign-in screen (reset: another lookupSeq).
    if (seq !== lookupSeq) return;
    if (!(e instanceof ApiError)) console.error(e);  // the page's own failure, not the server's
    // No file under this number (404), or it could not be read (the network, the server): either
    // way, whatever the form holds, the answer and the history on screen were another file's,
    // and are not left under the number looked up.
    forgetAnswer();
    state.history = null;
    const missing = e.status === 404;
    const typed = String(state.model.values.id ?? '').trim();
    if (typed && typed !== id) {
      // The form holds another applicant's entries (one loaded or examined before): examining
      // now would examine that applicant again, or mix their facts with this one's. A new
      // applicant's form is started, under the number looked up.
      state.model = emptyModel();
      state.model.values.id = id;
      state.fieldErrors = {};
      state.asOf = today();
      go('form', missing
        ? { key: 'form.returning.not_found_new', kind: 'error' }
        : { key: 'form.returning.failed_new', also: errorKey(e), kind: 'error' });
    } else {
      // Nothing typed yet, or this applicant's own entries typed first: kept, under the
      // number looked up.
      state.model.values.id = id;
      go('form', missing
        ? { key: 'form.returning.not_found', kind: 'error' }
        : { key: 'form.returning.failed', also: errorKey(e), kind: 'error' });
    }
  }
}

/** Whether the official changed decisions on the answer (or typed observations) and has not
 *  recorded them: an entry that differs from the latest recorded review's (a choice made and
 *  undone is no work to lose). */
function reviewPending() {
  if (!state.evaluation) return false;
  return Boolean(String(state.observations || '').trim()) || [...state.touched].some(unrecorded);
}

/** Whether the official's entry for `rule` differs from the latest recorded review's. */
function unrecorded(rule) {
  const d = state.draft[rule];
  if (!d || !state.touched.has(rule)) return false;
  const latest = state.reviews.length ? state.reviews[state.reviews.length - 1] : null;
  if (d.outcome !== 'overridden') return entryOf(latest, rule) !== 'accepted';
  if (d.value === '') return true;  // an override begun, its decision not chosen yet
  return JSON.stringify(['overridden', JSON.parse(d.value), String(d.reason || '').trim()]) !== entryOf(latest, rule);
}

/** Asks whether to go back to the decisions not recorded ('back'), to drop them ('drop'), or
 *  neither (null: Escape). */
function askReviewPending() {
  return ask({
    id: 'review-pending',
    title: t('review.pending.title'),
    text: t('review.pending.text'),
    choices: [
      { value: 'back', label: t('review.pending.back'), primary: true },
      { value: 'drop', label: t('review.pending.drop') },
    ],
  });
}

/** The answer again, its decisions as the official left them, the focus on the first one they
 *  changed (or on the observations). */
function backToReview() {
  go('answer', null, {
    focusOn: () => {
      const rule = (state.evaluation?.decisions || []).map((d) => d.rule).find(unrecorded);
      return (rule && document.querySelector(`#decision-${cssId(rule)} input[type="radio"]:checked`))
        || document.getElementById('observations');
    },
  });
}

/** Forgets the answer on screen, its reviews and the official's review in progress: a lookup is
 *  another file (a language change would otherwise read the previous applicant's explanations
 *  again, an audited read of a file no longer at the counter). */
function forgetAnswer() {
  state.evaluation = null;
  state.reviews = [];
  freshReview();
  state.receiptLang = null;
}

async function evaluate() {
  // One evaluation at a time (a double click, Enter pressed twice): set before any await.
  if (state.busy) return;
  const s = state;
  s.busy = true;
  const idle = busyButton('evaluate', 'form.submitting');
  try {
    await evaluateNow();
  } finally {
    s.busy = false;
    idle();
  }
}

async function evaluateNow() {
  // A new examination is another decision: the official's entries on the last one go with it.
  if (!(await mayLeaveReview())) return;
  lookupSeq += 1;
  const schema = await schemaFor(state.lang);
  const errors = validate(schema.fields, state.model, state.asOf);
  state.fieldErrors = {};
  if (!/^\d{4}-\d{2}-\d{2}$/.test(state.asOf || '')) state.fieldErrors[''] = { key: 'form.error.date' };
  for (const e of errors) state.fieldErrors[e.path] = { key: e.key, params: e.params, numbers: e.numbers };
  if (Object.keys(state.fieldErrors).length) {
    state.flash = null;
    await render({ focusOn: '#error-summary' });
    return;
  }
  const applicant = buildRecord(schema.fields, state.model);
  try {
    const ev = await api('POST', '/api/v1/evaluate', { as_of: state.asOf, applicant, lang: state.lang, trace: false });
    state.evaluation = ev;
    state.reviews = ev.reviews || [];
    freshReview();
    state.receiptLang = state.lang;
    go('answer', null);
  } catch (e) {
    if (e.status === 400 || e.status === 422) {
      const list = e.problem.errors || [];
      for (const x of list) state.fieldErrors[pointerToPath(x.pointer)] = { key: 'form.error.server' };
      state.flash = { key: list.length ? 'form.error.refused' : 'form.error.refused_whole', kind: 'error' };
      await render({ focusOn: '#error-summary' });
    } else {
      handleError(e);
    }
  }
}

async function openDecision(id) {
  if (!(await mayLeaveReview())) return;
  lookupSeq += 1;
  try {
    const ev = await api('GET', `/api/v1/decisions/${encodeURIComponent(id)}?lang=${state.lang}`);
    state.evaluation = ev;
    state.reviews = ev.reviews || [];
    freshReview();
    state.receiptLang = state.lang;
    go('answer', null);
  } catch (e) {
    handleError(e);
  }
}

// --- Answer, review, receipt, figures ---------------------------------------------------------------

async function renderAnswerScreen() {
  const schema = await schemaOf(state.evaluation, state.lang);
  append(root.main, renderAnswer({
    tr: tr(), state, schema,
    submitReview, newApplicant,
    showReceipt: async (lang) => { state.receiptLang = lang; go('receipt', null); },
    rerender: () => render(),
  }));
}

async function submitReview(body) {
  // One review at a time: a second one would carry the same `supersedes` and be refused (409).
  if (state.busy) return;
  const s = state;
  s.busy = true;
  const idle = busyButton('record-review', 'review.submitting');
  try {
    await submitReviewNow(body);
  } finally {
    s.busy = false;
    idle();
  }
}

/** A rule's entry in a review, comparable: an absent rule reads as accepted. */
function entryOf(review, rule) {
  const x = (review?.decisions || []).find((d) => d.rule === rule);
  if (!x || x.outcome !== 'overridden') return 'accepted';
  return JSON.stringify(['overridden', x.value === undefined ? null : x.value, x.reason || '']);
}

async function submitReviewNow(body) {
  const decision = state.evaluation.decision_id;
  try {
    const review = await api('POST', `/api/v1/decisions/${encodeURIComponent(decision)}/review`, body);
    state.reviews = [...state.reviews, review];
    freshReview();
    state.flash = { key: 'review.recorded', kind: 'info' };
    await render({ focusOn: '#recorded' });
  } catch (e) {
    if (e.status === 409) {
      // Someone recorded a review meanwhile: read it; the programmes this official changed on
      // this screen keep their entries, every other one takes the colleague's (recording again
      // must not silently revert what the colleague decided), and the changed ones are named.
      const before = state.reviews.length ? state.reviews[state.reviews.length - 1] : null;
      try {
        const ev = await api('GET', `/api/v1/decisions/${encodeURIComponent(decision)}`);
        state.reviews = ev.reviews || [];
      } catch (e2) { handleError(e2); return; }
      const after = state.reviews.length ? state.reviews[state.reviews.length - 1] : null;
      const rules = (state.evaluation.decisions || []).map((d) => d.rule);
      const changed = rules.filter((rule) => entryOf(before, rule) !== entryOf(after, rule));
      for (const rule of Object.keys(state.draft)) {
        if (!state.touched.has(rule)) delete state.draft[rule];  // filled again from `after`
      }
      const user = after?.user || '—';
      state.colleague = { user, rules: changed };
      state.reviewErrors = {};
      state.flash = {
        key: 'review.conflict', params: { user }, kind: 'error',
        rules: changed, mine: changed.filter((rule) => state.touched.has(rule)),
      };
      await render({ focusOn: '#recorded' });
    } else if (e.status === 400 || e.status === 422) {
      // Each refusal at the field its pointer names (/decisions/N/reason, /observations…).
      state.reviewErrors = {};
      for (const x of e.problem.errors || []) {
        const m = /^\/decisions\/(\d+)\/(reason|value)$/.exec(String(x.pointer || ''));
        const item = m && body.decisions[Number(m[1])];
        if (item && m[2] === 'reason') {
          state.reviewErrors[`reason-${cssId(item.rule)}`] = { key: 'review.error.server_text', counts: { max: REASON_MAX } };
        } else if (item) {
          state.reviewErrors[`value-${cssId(item.rule)}`] = { key: 'review.error.server_value' };
        } else if (x.pointer === '/observations') {
          state.reviewErrors.observations = { key: 'review.error.server_text', counts: { max: OBSERVATIONS_MAX } };
        }
      }
      state.flash = { key: 'review.refused', kind: 'error' };
      await render({
        focusOn: () => [...document.querySelectorAll('#main [aria-invalid="true"]')].find((el) => el.getClientRects().length)
          || document.querySelector('#main .flash'),
      });
    } else {
      handleError(e);
    }
  }
}

async function renderReceiptScreen() {
  const lang = state.receiptLang || state.lang;
  const rtr = await loadCatalogue(lang);
  const schema = await schemaOf(state.evaluation, lang);
  append(root.main, 
    h('h1', { tabindex: '-1', class: 'no-print' }, t('receipt.heading')),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', class: 'primary', id: 'print', on: { click: () => window.print() } }, t('receipt.print')),
      h('button', { type: 'button', class: 'secondary', on: { click: () => go('answer', null) } }, t('receipt.back'))),
    renderReceipt({ tr: rtr, state, schema }));
}

async function renderFiguresScreen() {
  if (!state.stats) {
    const month = state.statsMonth ? `?month=${encodeURIComponent(state.statsMonth)}` : '';
    state.stats = await api('GET', `/api/v1/stats${month}`);
  }
  const schema = await schemaFor(state.lang).catch(() => null);
  // Another month: its figures, the focus kept on the choice.
  const onMonth = (m) => {
    state.statsMonth = m;
    state.stats = null;
    go('figures', undefined, { focus: false, focusOn: '#figures-month' });
  };
  append(root.main, renderFigures({ tr: tr(), stats: state.stats, schema, onMonth }));
}

// The page never keeps a screen of personal data when it is left or restored from the cache.
window.addEventListener('pagehide', () => { clear(root.main); });
window.addEventListener('pageshow', (ev) => { if (ev.persisted) window.location.reload(); });

start().catch((e) => { console.error(e); });

export { ltr };
