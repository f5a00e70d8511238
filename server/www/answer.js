// The answer per programme: the recommendation in words, in force or not, provisional or
// verified, the reasons, the sources (folded), the documents to ask for when undetermined, and the
// official's decision (accept, or override with a reason) recorded through the review endpoint.
import { h } from './dom.js';
import { ltr, LANGS } from './i18n.js';
import {
  describe, outcomeNode, overrideChoices, groupByModule, titleOf,
} from './outcome.js';

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
        const body = reviewBody(decisions, state, latest);
        if (!body) {
          const first = decisions.find((d) => missingReason(state.draft[d.rule]));
          const el = first && document.querySelector(`#decision-${cssId(first.rule)} [aria-invalid="true"]`);
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
    h('textarea', {
      id: 'observations', rows: '3', value: state.observations,
      on: { input: (e) => { state.observations = e.target.value; } },
    })),
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

function cssId(rule) {
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

function missingReason(d) {
  return d && d.outcome === 'overridden' && (!String(d.reason || '').trim() || d.value === '');
}

function flagField(id, bad) {
  const err = document.getElementById(`${id}-err`);
  const input = document.getElementById(id);
  if (err) err.hidden = !bad;
  if (input) {
    if (bad) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

/** The request body, or null when an override lacks its value or reason (the fields say so). */
function reviewBody(decisions, state, latest) {
  let ok = true;
  const out = decisions.map((d) => {
    const dr = draftOf(state, d.rule);
    const item = { rule: d.rule, outcome: dr.outcome };
    if (dr.outcome === 'overridden') {
      const id = cssId(d.rule);
      const noValue = dr.value === '';
      const noReason = !String(dr.reason).trim();
      flagField(`value-${id}`, noValue);
      flagField(`reason-${id}`, noReason);
      if (noValue || noReason) ok = false;
      item.reason = String(dr.reason).trim();
      if (!noValue) item.value = JSON.parse(dr.value);
    }
    if (d.status === 'undetermined' && (d.documents || []).length) {
      item.documents = d.documents.map((x) => x.document);
    }
    return item;
  });
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
  const choices = overrideChoices(d, tr, schema);
  const overrideBody = h('div', { class: 'override', hidden: dr.outcome !== 'overridden', id: `override-${id}` },
    h('div', { class: 'field' },
      h('label', { for: `value-${id}` }, t('review.value')),
      h('select', {
        id: `value-${id}`, 'aria-describedby': `value-${id}-err`, 'aria-required': 'true',
        on: { change: (e) => { dr.value = e.target.value; if (e.target.value !== '') flagField(`value-${id}`, false); } },
      },
      h('option', { value: '', selected: dr.value === '' }, t('review.value_choose')),
      (choices || []).map((c) => h('option', { value: JSON.stringify(c.value), selected: dr.value === JSON.stringify(c.value) }, c.label)),
      h('option', { value: 'null', selected: dr.value === 'null' }, t('value.undetermined'))),
      h('p', { class: 'field-error', id: `value-${id}-err`, hidden: true }, t('review.value_required'))),
    h('div', { class: 'field' },
      h('label', { for: `reason-${id}` }, t('review.reason')),
      h('textarea', {
        id: `reason-${id}`, rows: '2', value: dr.reason, 'aria-describedby': `reason-${id}-err`,
        'aria-required': 'true',
        on: { input: (e) => { dr.reason = e.target.value; if (e.target.value.trim()) flagField(`reason-${id}`, false); } },
      }),
      h('p', { class: 'field-error', id: `reason-${id}-err`, hidden: true }, t('review.reason_required'))));
  const radio = (value, key) => h('label', { class: 'choice' },
    h('input', {
      type: 'radio', name: `outcome-${id}`, value, checked: dr.outcome === value,
      on: { change: () => { dr.outcome = value; overrideBody.hidden = value !== 'overridden'; } },
    }), ' ', t(key));
  const review = h('fieldset', { class: 'review' },
    h('legend', {}, t('review.legend')),
    h('div', { class: 'choices' }, radio('accepted', 'review.accept'), radio('overridden', 'review.override')),
    overrideBody);

  return h('article', { class: `decision decision-${o.kind}`, id: `decision-${id}`, 'data-rule': d.rule, 'aria-labelledby': `title-${id}` },
    h('h3', { id: `title-${id}` }, titleOf(d, tr.lang)),
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
          h('br'), h('span', { class: 'reason' }, t('review.reason_shown'), t('punct.colon'), x.reason || ''));
      }
      return h('li', { 'data-rule': x.rule }, h('strong', {}, title), t('punct.colon'), t('review.was_accepted'));
    })),
    review.observations ? h('p', {}, t('review.observations'), t('punct.colon'), review.observations) : null);
}
