// A decision's outcome in words: the recommendation (yes / no / an enum case's label / to be
// determined) with an icon, so that colour is never the only signal.
import { h, s } from './dom.js';

/** {kind: 'yes'|'no'|'undetermined'|'other', text} for a decision value. */
export function describe(decision, value, tr, schema) {
  if (decision.status === 'undetermined' && value === undefined) {
    return { kind: 'undetermined', text: tr.t('value.undetermined') };
  }
  const v = value === undefined ? decision.value : value;
  if (v === true) return { kind: 'yes', text: tr.t('value.true') };
  if (v === false) return { kind: 'no', text: tr.t('value.false') };
  if (v === null || v === undefined) return { kind: 'undetermined', text: tr.t('value.undetermined') };
  const label = caseLabel(decision.rule, v, schema);
  const negative = /^(ineligible|none|not_eligible)$/.test(String(v));
  return { kind: negative ? 'no' : 'other', text: label ?? tr.t('value.unlabelled') };
}

/** The label of an enum result, from the schema's decisions (when the server gives them). */
export function caseLabel(rule, value, schema) {
  const d = (schema?.decisions || []).find((x) => x.rule === rule);
  const c = (d?.cases || []).find((x) => x.value === value);
  return c ? c.label : null;
}

/** The choices an official may set when overriding: yes/no, or the enum's cases. */
export function overrideChoices(decision, tr, schema) {
  const d = (schema?.decisions || []).find((x) => x.rule === decision.rule);
  if (d && d.cases && d.cases.length) return d.cases.map((c) => ({ value: c.value, label: c.label }));
  if (typeof decision.value === 'string') return [];  // an enum without labels: null only
  return [{ value: true, label: tr.t('value.true') }, { value: false, label: tr.t('value.false') }];
}

const ICONS = {
  yes: 'M4 12.5l5 5 11-11',
  no: 'M6 6l12 12M18 6L6 18',
  undetermined: 'M9 9a3 3 0 1 1 4 2.8c-.7.3-1 1-1 1.7V15M12 18.5v.5',
  other: 'M5 12h14M12 5l7 7-7 7',
};

/** An outcome with its icon (aria-hidden: the text says it). */
export function outcomeNode(o, extraClass = '') {
  return h('span', { class: `outcome outcome-${o.kind} ${extraClass}`.trim() },
    s('svg', { class: 'icon', viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true', focusable: 'false' },
      s('path', { d: ICONS[o.kind], fill: 'none', stroke: 'currentColor', 'stroke-width': '2.5', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' })),
    h('span', {}, o.text));
}

/** Module (programme) of a rule, with its title and OSP when the schema gives them. */
export function moduleOf(rule, schema) {
  const name = String(rule).split('.')[0];
  const m = (schema?.modules || []).find((x) => x.name === name);
  return { name, title: m?.title || null, osp: m?.osp || null };
}

/** Groups decisions by module, in their order of appearance. */
export function groupByModule(decisions, schema) {
  const groups = [];
  const index = new Map();
  for (const d of decisions) {
    const m = moduleOf(d.rule, schema);
    if (!index.has(m.name)) {
      index.set(m.name, groups.length);
      groups.push({ module: m, decisions: [] });
    }
    groups[index.get(m.name)].decisions.push(d);
  }
  return groups;
}

/** A decision's title in a language (the server gives title{fr,ar,en}). */
export function titleOf(d, lang) {
  return (d.title && (d.title[lang] || d.title.fr)) || d.rule;
}
