// The receipt handed to the applicant, in the applicant's language (which may differ from the
// official's): decision id, date, ruleset hash, each programme's outcome (the official's decision
// when recorded, else the recommendation, said as such) and the documents still missing, with the
// Law 09-08 art. 11 notice. The print stylesheet prints this section alone.
import { h } from './dom.js';
import { ltr } from './i18n.js';
import { describe, outcomeNode, groupByModule, titleOf } from './outcome.js';

export function renderReceipt({ tr, state, schema }) {
  const { t } = tr;
  const ev = state.evaluation;
  const latest = state.reviews.length ? state.reviews[state.reviews.length - 1] : null;
  const reviewed = new Map((latest?.decisions || []).map((x) => [x.rule, x]));
  const decisions = ev.decisions || [];

  const rows = groupByModule(decisions, schema).flatMap((g) => g.decisions.map((d, i) => {
    const r = reviewed.get(d.rule);
    let o;
    let how;
    if (r && r.outcome === 'overridden') {
      o = r.value === undefined ? describe(d, undefined, tr, schema) : describe(d, r.value, tr, schema);
      how = [t('receipt.by_official')];
      // The official's own words, isolated: a French reason keeps its order on an Arabic receipt.
      if (r.reason) how.push(t('punct.colon'), h('bdi', {}, r.reason));
    } else if (r) {
      o = describe(d, undefined, tr, schema);
      how = [t('receipt.confirmed')];
    } else {
      o = describe(d, undefined, tr, schema);
      how = [t('receipt.recommended_only')];
    }
    if (!d.in_force) how.push(` · ${t('answer.not_in_force')}`);
    const missing = d.status === 'undetermined' ? (d.documents || []) : [];
    return h('tr', { 'data-rule': d.rule },
      i === 0 && g.module.title ? h('th', { scope: 'rowgroup', rowspan: String(g.decisions.length) },
        g.module.title, g.module.osp ? [' (', ltr(g.module.osp), ')'] : null) : (g.module.title ? null : h('td', {}, '')),
      h('th', { scope: 'row' }, titleOf(d, tr.lang)),
      h('td', {}, outcomeNode(o), h('br'), h('small', {}, how)),
      h('td', {}, missing.length
        ? h('ul', { class: 'checklist' }, missing.map((x) => h('li', {}, (x.title && (x.title[tr.lang] || x.title.fr)) || '—')))
        : '—'));
  }));

  const allMissing = new Map();
  for (const d of decisions) {
    if (d.status !== 'undetermined' || !d.in_force) continue;
    for (const x of d.documents || []) allMissing.set(x.document, (x.title && (x.title[tr.lang] || x.title.fr)) || '—');
  }

  return h('section', { class: 'receipt', lang: tr.lang, dir: tr.dir, id: 'receipt', 'aria-labelledby': 'receipt-title' },
    h('header', {},
      h('p', { class: 'receipt-issuer' }, t('receipt.issuer')),
      h('h2', { id: 'receipt-title' }, t('receipt.title'))),
    h('dl', { class: 'meta' },
      h('dt', {}, t('answer.applicant')), h('dd', {}, ltr(ev.applicant ?? '—')),
      h('dt', {}, t('answer.decision_id')), h('dd', {}, ltr(ev.decision_id ?? '—', 'code')),
      h('dt', {}, t('receipt.date')), h('dd', {}, h('bdi', {}, tr.date(ev.as_of))),
      latest ? [h('dt', {}, t('receipt.reviewed_at')), h('dd', {}, h('bdi', {}, tr.stamp(latest.at)))] : null,
      h('dt', {}, t('answer.ruleset')), h('dd', {}, ltr(ev.ruleset?.hash ?? '—', 'code hash')),
      ev.office ? [h('dt', {}, t('answer.office')), h('dd', {}, ev.office)] : null),
    h('table', { class: 'receipt-table' },
      h('caption', {}, t('receipt.table_caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('receipt.col.programme')),
        h('th', { scope: 'col' }, t('receipt.col.decision')),
        h('th', { scope: 'col' }, t('receipt.col.outcome')),
        h('th', { scope: 'col' }, t('receipt.col.missing')))),
      h('tbody', {}, rows)),
    allMissing.size ? h('section', { class: 'receipt-missing' },
      h('h3', {}, t('receipt.bring')),
      h('ul', { class: 'checklist' }, [...allMissing.values()].map((x) => h('li', {}, x)))) : null,
    h('p', { class: 'law' }, t(latest ? 'notice11.receipt' : 'notice11.receipt_pending')),
    h('p', { class: 'law' }, t('notice5.receipt')),
    h('div', { class: 'signature' },
      h('p', {}, t('receipt.signature'))));
}
