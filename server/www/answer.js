// The answer per programme: the recommendation in words, in force or not, provisional or
// verified, the reasons, the sources (folded), the documents to ask for when undetermined, and the
// official's decision (accept, or override with a reason) recorded through the review endpoint.
import { h } from './dom.js';
import { ltr, LANGS } from './i18n.js';
import {
  describe, outcomeNode, overrideChoices, groupByModule, titleOf,
} from './outcome.js';

/** The server's limits on the official's words, in UTF-8 bytes (server/handlers.cpp, post_review). */
export const REASON_MAX = 4096;
export const OBSERVATIONS_MAX = 16384;

const encoder = new TextEncoder();
/** The size the server counts: the UTF-8 bytes of the text as sent (trimmed). */
export function byteLength(text) {
  return encoder.encode(String(text ?? '').trim()).length;
}

export function renderAnswer({ tr, state, schema, submitReview, newApplicant, showReceipt }) {
  const ev = state.evaluation;
  const { t } = tr;
  const latest = state.reviews.length ? state.reviews[state.reviews.length - 1] : null;
  const decisions = ev.decisions || [];

  const meta = h('dl', { class: 'meta' },
    h('dt', {}, t('answer.applicant')), h('dd', {}, ltr(ev.applicant ?? '—')),
    h('dt', {}, t('answer.as_of')), h('dd', {}, h('bdi', {}, tr.date(ev.as_of))),
    h('dt', {}, t('answer.decision_id')), h('dd', {}, ltr(ev.decision_id ?? '—', 'code')),
    h('dt', {}, t('answer.ruleset')), h('dd', {}, ltr(shortHash(ev.ruleset?.hash), 'code')),
    ev.office ? [h('dt', {}, t('answer.office')), h('dd', {}, ev.office)] : null);

  const undetermined = decisions.filter((d) => d.status === 'undetermined' && d.in_force);
  const summary = h('p', { class: 'summary' }, tr.tn(undetermined.length ? 'answer.summary' : 'answer.summary_all_decided', {
    n: tr.num(decisions.length), u: tr.num(undetermined.length),
  }));

  const overview = h('table', { class: 'overview' },
    h('caption', {}, t('answer.overview')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('receipt.col.decision')),
      h('th', { scope: 'col' }, t('answer.recommendation_col')),
      h('th', { scope: 'col' }, t('answer.documents_col')))),
    groupByModule(decisions, schema).map((g) => h('tbody', {},
      g.module.title ? h('tr', { class: 'programme-row' }, h('th', { scope: 'rowgroup', colspan: '3' },
        g.module.title, g.module.osp ? [' (', ltr(g.module.osp), ')'] : null)) : null,
      g.decisions.map((d) => {
        const o = describe(d, undefined, tr, schema);
        const n = d.status === 'undetermined' ? (d.documents || []).length : 0;
        return h('tr', { class: d.in_force ? null : 'out-of-force' },
          h('th', { scope: 'row' }, h('a', { href: `#decision-${cssId(d.rule)}` }, titleOf(d, tr.lang))),
          h('td', {}, outcomeNode(o), d.in_force ? null : [' ', h('small', {}, t('answer.not_in_force'))]),
          h('td', {}, n ? h('bdi', {}, tr.num(n)) : '—'));
      }))));

  const groups = groupByModule(decisions, schema).map((g) => {
    const heading = g.module.title
      ? h('h2', {}, g.module.title, g.module.osp ? [' ', h('span', { class: 'osp' }, '(', ltr(g.module.osp), ')')] : null)
      : null;
    return h('section', { class: 'programme', 'aria-label': g.module.title || titleOf(g.decisions[0], tr.lang) },
      heading,
      g.decisions.map((d) => renderDecision(d, { tr, state, schema, latest })));
  });

  const reviewForm = h('form', {
    class: 'card review-submit', novalidate: true, id: 'review-form',
    on: {
      submit: (e) => {
        e.preventDefault();
        if (state.busy) return;  // a review already on its way (a double click, Enter twice)
        const body = reviewBody(decisions, state, latest, tr);
        if (!body) {
          // The first field marked, in the page's order (the programmes, then the observations).
          const el = [...document.querySelectorAll('#main [aria-invalid="true"]')].find((x) => x.getClientRects().length);
          if (el) el.focus();
          return;
        }
        submitReview(body);
      },
    },
  },
  h('h2', {}, t(latest ? 'review.revise_title' : 'review.title')),
  h('p', { class: 'help' }, t('review.help')),
  h('div', { class: 'field' },
    h('label', { for: 'observations' }, t('review.observations')),
    limitNote('observations', state.observations, OBSERVATIONS_MAX, tr),
    h('textarea', {
      id: 'observations', rows: '3', value: state.observations,
      'aria-describedby': 'observations-limit observations-err',
      'aria-invalid': state.reviewErrors.observations ? 'true' : null,
      on: {
        input: (e) => {
          state.observations = e.target.value;
          liveLimit('observations', e.target.value, OBSERVATIONS_MAX, state, tr);
        },
      },
    }),
    errorSlot('observations', state, tr)),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary', id: 'record-review' }, t(latest ? 'review.submit_again' : 'review.submit'))));

  const receiptLang = state.receiptLang || tr.lang;
  const receipt = h('form', {
    class: 'card receipt-controls', novalidate: true,
    on: { submit: (e) => { e.preventDefault(); showReceipt(new FormData(e.target).get('receipt-lang')); } },
  },
  h('h2', {}, t('receipt.prepare_title')),
  h('div', { class: 'inline' },
    h('label', { for: 'receipt-lang' }, t('receipt.lang')),
    h('select', { id: 'receipt-lang', name: 'receipt-lang' },
      LANGS.map((l) => h('option', { value: l, lang: l, selected: l === receiptLang }, t(`lang.name.${l}`)))),
    h('button', { type: 'submit', class: 'secondary', id: 'show-receipt' }, t('receipt.prepare'))));

  return [
    h('h1', { tabindex: '-1' }, t('answer.heading')),
    meta,
    h('p', { class: 'notice-inline' }, t('notice11.short')),
    summary,
    overview,
    latest ? renderRecorded(latest, decisions, { tr, schema }) : null,
    groups,
    reviewForm,
    receipt,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', on: { click: newApplicant } }, t('answer.new_applicant'))),
  ];
}

function shortHash(hash) {
  return hash ? `${hash.slice(0, 12)}…` : '—';
}

export function cssId(rule) {
  return String(rule).replace(/[^A-Za-z0-9_-]/g, '-');
}

/** The official's entries for a rule: those of the latest recorded review until changed, so
 *  that recording a new version does not silently drop an earlier override. */
function draftOf(state, rule) {
  if (!state.draft[rule]) {
    const latest = state.reviews.length ? state.reviews[state.reviews.length - 1] : null;
    const r = (latest?.decisions || []).find((x) => x.rule === rule);
    state.draft[rule] = r && r.outcome === 'overridden'
      ? { outcome: 'overridden', value: r.value === undefined ? '' : JSON.stringify(r.value), reason: r.reason || '' }
      : { outcome: 'accepted', value: '', reason: '' };
  }
  return state.draft[rule];
}

/** A message's words in the language drawn: its counts (bytes, limits) written as that
 *  language writes numbers. */
function words(msg, tr) {
  const params = { ...(msg.params || {}) };
  for (const [k, v] of Object.entries(msg.counts || {})) params[k] = tr.num(v);
  return tr.tn(msg.key, params);
}

/** Says a field's problem at it ({key, params, counts} or null to clear): the message in its
 *  slot (`${id}-err`), the input marked aria-invalid. Kept in state.reviewErrors until the
 *  field changes, so that the screen drawn again (another language) says it again, in that
 *  language; a message withdrawn does not come back. */
function fieldMessage(id, msg, state, tr) {
  const err = document.getElementById(`${id}-err`);
  const input = document.getElementById(id);
  if (msg) state.reviewErrors[id] = msg;
  else delete state.reviewErrors[id];
  if (err) {
    err.replaceChildren(...(msg ? words(msg, tr) : []));
    err.hidden = !msg;
    err.dataset.key = msg ? msg.key : '';
  }
  if (input) {
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

/** A text's problem with its limit in bytes, or null. */
function tooLong(text, max) {
  const used = byteLength(text);
  return used > max ? { key: 'review.too_long', counts: { used, max } } : null;
}

/** The limit said before anything is typed, with the bytes used so far (updated as typed). */
function limitNote(id, text, max, tr) {
  const used = h('span', { class: 'used', id: `${id}-used` }, tr.num(byteLength(text)));
  return h('p', { class: 'help limit', id: `${id}-limit` },
    tr.tn('review.limit', { max: tr.num(max), half: tr.num(Math.floor(max / 2)), used }));
}

/** As the official types: the bytes used, and a message as soon as the text is over its limit
 *  (gone once it fits; a "required" message goes once something is typed). */
function liveLimit(id, text, max, state, tr) {
  const used = document.getElementById(`${id}-used`);
  if (used) used.textContent = tr.num(byteLength(text));
  const over = tooLong(text, max);
  const shown = document.getElementById(`${id}-err`)?.dataset.key || '';
  if (over) fieldMessage(id, over, state, tr);
  else if (shown && (shown !== 'review.reason_required' || String(text).trim())) fieldMessage(id, null, state, tr);
}

/** The slot of a field's message, filled when the field's entry was refused, by the page or by
 *  the server (state.reviewErrors). */
function errorSlot(id, state, tr) {
  const msg = state.reviewErrors[id];
  return h('p', { class: 'field-error', id: `${id}-err`, hidden: !msg, 'data-key': msg ? msg.key : '' },
    msg ? words(msg, tr) : null);
}

/** The request body, or null when an override lacks its value or reason, or a text is over its
 *  limit (the fields say so). */
function reviewBody(decisions, state, latest, tr) {
  let ok = true;
  const out = decisions.map((d) => {
    const dr = draftOf(state, d.rule);
    const item = { rule: d.rule, outcome: dr.outcome };
    if (dr.outcome === 'overridden') {
      const id = cssId(d.rule);
      const noValue = dr.value === '';
      const noReason = !String(dr.reason).trim();
      const over = tooLong(dr.reason, REASON_MAX);
      fieldMessage(`value-${id}`, noValue ? { key: 'review.value_required' } : null, state, tr);
      fieldMessage(`reason-${id}`, noReason ? { key: 'review.reason_required' } : over, state, tr);
      if (noValue || noReason || over) ok = false;
      item.reason = String(dr.reason).trim();
      if (!noValue) item.value = JSON.parse(dr.value);
    } else {
      // Marks left on the fields of an override given up (folded away) no longer apply.
      fieldMessage(`value-${cssId(d.rule)}`, null, state, tr);
      fieldMessage(`reason-${cssId(d.rule)}`, null, state, tr);
    }
    if (d.status === 'undetermined' && (d.documents || []).length) {
      // The pack's documents by name; a fact proved by the applicant's own statement has none
      // (null), and the server takes names only.
      item.documents = d.documents.map((x) => x.document).filter((x) => typeof x === 'string');
    }
    return item;
  });
  const obsOver = tooLong(state.observations, OBSERVATIONS_MAX);
  fieldMessage('observations', obsOver, state, tr);
  if (obsOver) ok = false;
  if (!ok) return null;
  const body = { supersedes: latest ? latest.review_id : null, decisions: out };
  if (String(state.observations).trim()) body.observations = String(state.observations).trim();
  return body;
}

function renderDecision(d, { tr, state, schema }) {
  const { t } = tr;
  const id = cssId(d.rule);
  const o = describe(d, undefined, tr, schema);
  const explanation = d.explanation && d.explanation[tr.lang];
  // A reason the explanation already says is not said twice.
  const reasons = ((d.reason_texts && d.reason_texts[tr.lang]) || []).filter((r) => !(explanation || '').includes(r));
  const docs = d.documents || [];
  const badges = h('ul', { class: 'badges', 'aria-label': t('answer.status_label') },
    h('li', { class: d.in_force ? 'badge' : 'badge badge-warn' }, t(d.in_force ? 'answer.in_force' : 'answer.not_in_force')),
    h('li', { class: d.provisional ? 'badge badge-warn' : 'badge' }, t(d.provisional ? 'answer.provisional' : 'answer.verified')));

  const documents = d.status === 'undetermined' && docs.length
    ? h('div', { class: 'documents' },
      h('h4', { id: `docs-${id}` }, t('answer.documents')),
      h('ul', { class: 'checklist', 'aria-labelledby': `docs-${id}` },
        docs.map((x) => h('li', {}, (x.title && (x.title[tr.lang] || x.title.fr)) || t('answer.document_unnamed')))))
    : d.status === 'undetermined' && d.in_force
      ? h('p', { class: 'help' }, t('answer.no_documents'))
      : null;

  const sources = (d.sources || []).length
    ? h('details', { class: 'sources' },
      h('summary', {}, tr.tn('answer.sources', { n: tr.num(d.sources.length) })),
      h('ul', { lang: 'fr', dir: 'ltr' }, d.sources.map((x) => h('li', {}, x))))
    : null;

  const dr = draftOf(state, d.rule);
  // The programme named in the review's group and in each of its fields, for a screen reader
  // that lists or reaches them out of their article (every programme has a "Reason" field).
  const title = titleOf(d, tr.lang);
  const of = () => h('span', { class: 'visually-hidden' }, ' — ', title);
  // The official's own changes on this screen, kept when a colleague records meanwhile (409).
  const touch = () => state.touched.add(d.rule);
  const choices = overrideChoices(d, tr, schema);
  const overrideBody = h('div', { class: 'override', hidden: dr.outcome !== 'overridden', id: `override-${id}` },
    h('div', { class: 'field' },
      h('label', { for: `value-${id}` }, t('review.value'), of()),
      h('select', {
        id: `value-${id}`, 'aria-describedby': `value-${id}-err`, 'aria-required': 'true',
        'aria-invalid': state.reviewErrors[`value-${id}`] ? 'true' : null,
        on: {
          change: (e) => {
            dr.value = e.target.value;
            touch();
            if (e.target.value !== '') fieldMessage(`value-${id}`, null, state, tr);
          },
        },
      },
      h('option', { value: '', selected: dr.value === '' }, t('review.value_choose')),
      (choices || []).map((c) => h('option', { value: JSON.stringify(c.value), selected: dr.value === JSON.stringify(c.value) }, c.label)),
      h('option', { value: 'null', selected: dr.value === 'null' }, t('value.undetermined'))),
      errorSlot(`value-${id}`, state, tr)),
    h('div', { class: 'field' },
      h('label', { for: `reason-${id}` }, t('review.reason'), of()),
      limitNote(`reason-${id}`, dr.reason, REASON_MAX, tr),
      h('textarea', {
        id: `reason-${id}`, rows: '2', value: dr.reason, 'aria-describedby': `reason-${id}-limit reason-${id}-err`,
        'aria-required': 'true', 'aria-invalid': state.reviewErrors[`reason-${id}`] ? 'true' : null,
        on: {
          input: (e) => {
            dr.reason = e.target.value;
            touch();
            liveLimit(`reason-${id}`, e.target.value, REASON_MAX, state, tr);
          },
        },
      }),
      errorSlot(`reason-${id}`, state, tr)));
  const radio = (value, key) => h('label', { class: 'choice' },
    h('input', {
      type: 'radio', name: `outcome-${id}`, value, checked: dr.outcome === value,
      on: { change: () => { dr.outcome = value; touch(); overrideBody.hidden = value !== 'overridden'; } },
    }), ' ', t(key));
  // A colleague recorded a new version meanwhile (409) in which this programme changed.
  const colleague = state.colleague && state.colleague.rules.includes(d.rule)
    ? h('p', { class: 'colleague-note', role: 'note' }, tr.tn(
      state.touched.has(d.rule) ? 'review.changed_by_yours_kept' : 'review.changed_by', { user: state.colleague.user }))
    : null;
  const review = h('fieldset', { class: 'review' },
    h('legend', {}, t('review.legend'), of()),
    colleague,
    h('div', { class: 'choices' }, radio('accepted', 'review.accept'), radio('overridden', 'review.override')),
    overrideBody);

  return h('article', { class: `decision decision-${o.kind}`, id: `decision-${id}`, 'data-rule': d.rule, 'aria-labelledby': `title-${id}` },
    h('h3', { id: `title-${id}` }, title),
    h('p', { class: 'recommendation' }, h('span', { class: 'label' }, t('answer.recommendation')), ' ', outcomeNode(o)),
    badges,
    explanation ? h('p', { class: 'explanation' }, explanation) : null,
    reasons.length ? h('ul', { class: 'reasons' }, reasons.map((x) => h('li', {}, x))) : null,
    documents,
    sources,
    review);
}

/** The latest recorded review, as recorded (who, when, each programme's outcome). */
export function renderRecorded(review, decisions, { tr, schema }) {
  const { t } = tr;
  const byRule = new Map(decisions.map((d) => [d.rule, d]));
  return h('section', { class: 'card recorded', id: 'recorded', tabindex: '-1', 'aria-labelledby': 'recorded-title' },
    h('h2', { id: 'recorded-title' }, t('review.recorded_title')),
    h('p', {}, tr.tn('review.recorded_by', { user: review.user, at: tr.stamp(review.at) })),
    h('ul', { class: 'recorded-list' }, (review.decisions || []).map((x) => {
      const d = byRule.get(x.rule) || { rule: x.rule, status: 'decided', value: x.value };
      const title = titleOf(d, tr.lang);
      if (x.outcome === 'overridden') {
        const o = x.value === undefined ? null : describe(d, x.value, tr, schema);
        return h('li', { 'data-rule': x.rule, class: 'overridden' },
          h('strong', {}, title), t('punct.colon'), t('review.was_overridden'),
          o ? [' — ', outcomeNode(o)] : null,
          h('br'), h('span', { class: 'reason' }, t('review.reason_shown'), t('punct.colon'), h('bdi', {}, x.reason || '')));
      }
      return h('li', { 'data-rule': x.rule }, h('strong', {}, title), t('punct.colon'), t('review.was_accepted'));
    })),
    review.observations ? h('p', {}, t('review.observations'), t('punct.colon'), h('bdi', {}, review.observations)) : null);
}
