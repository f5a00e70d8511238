// Figures for advisers and auditors (GET /api/v1/stats): per programme and decision, the outcome
// rates of stored runs and of counter evaluations as inline SVG bars (no library), the decisions
// out of force apart, undetermined rates with the facts missing behind them (stored runs), and
// override rates per rule. The server suppresses small cells in the JSON itself, each with a
// complementary cell; the page hides cells under SMALL too (with the next smallest of the row,
// so that a total cannot reveal them), which the server's JSON never needs. The counter's
// figures are those of one calendar month, released the day after it ends (server/stats.hpp):
// the page offers the months released, the latest first.
import { h, s } from './dom.js';
import { ltr } from './i18n.js';
import { caseLabel, moduleOf } from './outcome.js';

export const SMALL_DEFAULT = 5;
let SMALL = SMALL_DEFAULT;

/** A count as the server gives it — a number, or a cell {count, suppressed} — as a number, or
 *  null when suppressed. */
function cellCount(x) {
  if (x && typeof x === 'object' && !Array.isArray(x) && !('values' in x)) return x.suppressed ? null : (x.count ?? null);
  return x;
}

/** The server's statistics in one shape: counts as numbers or null, each row named by `rule`. */
function normalise(stats) {
  const row = (d) => ({
    ...d,
    rule: d.rule || d.decision,
    in_force: d.in_force && {
      values: (d.in_force.values || []).map((v) => ({ value: v.value, count: cellCount(v) })),
      undetermined: cellCount(d.in_force.undetermined),
    },
    out_of_force: cellCount(d.out_of_force),
  });
  return {
    ...stats,
    decisions: (stats?.decisions || []).map(row),
    overrides: (stats?.overrides || []).map((o) => ({
      ...o, rule: o.rule || o.decision, reviewed: cellCount(o.reviewed), overridden: cellCount(o.overridden),
    })),
  };
}

/** The choice of the counter's month: the months released, the latest first. */
function monthChoice(stats, tr, onMonth) {
  const { t } = tr;
  const chosen = stats?.period?.month;
  if (!chosen) return null;
  const months = [...(Array.isArray(stats.months) ? stats.months : [])];
  if (!months.includes(chosen)) months.push(chosen);
  months.sort().reverse();
  return h('form', {
    class: 'card inline month-choice', novalidate: true,
    on: { submit: (e) => e.preventDefault() },
  },
  h('label', { for: 'figures-month' }, t('figures.month')),
  h('select', {
    id: 'figures-month', name: 'month',
    on: { change: (e) => { if (onMonth) onMonth(e.target.value); } },
  }, months.map((m) => h('option', { value: m, selected: m === chosen }, tr.month(m)))),
  h('p', { class: 'help', id: 'figures-month-help' }, t('figures.release')));
}

export function renderFigures({ tr, stats: raw, schema, onMonth }) {
  const { t } = tr;
  const stats = normalise(raw);
  SMALL = Number(stats?.suppressed_below) > 0 ? Number(stats.suppressed_below) : SMALL_DEFAULT;
  const out = [h('h1', { tabindex: '-1' }, t('figures.heading')), h('p', { class: 'lead' }, t('figures.lead'))];
  const month = stats?.period?.month || null;
  out.push(monthChoice(stats, tr, onMonth));
  out.push(patterns());
  const runs = stats?.runs || [];
  const populations = [];
  for (const run of runs) {
    populations.push({
      id: `run-${run.run}`, total: run.applicants ?? null,
      title: tr.tn('figures.run', { run: tr.num(run.run), date: tr.date(run.as_of) }),
      // A run of fewer than SMALL applicants: its count is suppressed and it lists no decision.
      meta: tr.tn(run.applicants === null || run.applicants === undefined ? 'figures.run_few' : 'figures.run_meta', {
        n: tr.num(run.applicants ?? 0), k: tr.num(SMALL), ruleset: ltr(String(run.ruleset || '').slice(0, 12)),
        status: t(run.status === 'complete' ? 'figures.complete' : 'figures.incomplete'),
      }),
      decisions: run.decisions || [],
    });
  }
  // The server's own shape: the counter's decisions of the month at the top level.
  if (Array.isArray(stats?.decisions) && stats.decisions.length) {
    const n = stats.counter_decisions;
    populations.unshift({
      id: 'counter',
      title: month ? tr.tn('figures.counter_month', { month: tr.month(month) }) : [t('figures.counter')],
      total: typeof n === 'number' ? n : null,
      meta: n === null || n === undefined ? tr.tn('figures.counter_few', { k: tr.num(SMALL) }) : tr.tn('figures.counter_meta', { n: tr.num(n) }),
      decisions: stats.decisions,
    });
  } else if (month) {
    out.push(h('p', { class: 'flash flash-info', id: 'counter-none' }, tr.tn('figures.counter_none', { month: tr.month(month) })));
  }
  if (!populations.length && !month) out.push(h('p', { class: 'flash flash-info' }, t('figures.none')));
  const overrides = stats?.overrides || null;
  for (const p of populations) {
    out.push(renderPopulation(p, tr, schema));
    // The officials' decisions of the month, after the counter's figures.
    if (p.id === 'counter' && overrides && overrides.length) out.push(renderOverrides(overrides, tr, schema, month));
  }
  if (!populations.some((p) => p.id === 'counter') && overrides && overrides.length) {
    out.push(renderOverrides(overrides, tr, schema, month));
  }
  out.push(h('p', { class: 'note' }, tr.tn('figures.suppression', { k: tr.num(SMALL) })));
  return out;
}

/** Hatching used by the bars, so that segments differ by pattern as well as by colour. */
function patterns() {
  return s('svg', { class: 'defs', width: '0', height: '0', 'aria-hidden': 'true', focusable: 'false' },
    s('defs', {},
      s('pattern', { id: 'pat-undetermined', width: '6', height: '6', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        s('rect', { width: '6', height: '6', class: 'seg-undetermined-bg' }),
        s('line', { x1: '0', y1: '0', x2: '0', y2: '6', class: 'hatch' })),
      s('pattern', { id: 'pat-suppressed', width: '6', height: '6', patternUnits: 'userSpaceOnUse' },
        s('rect', { width: '6', height: '6', class: 'seg-suppressed-bg' }),
        s('path', { d: 'M0 0L6 6M6 0L0 6', class: 'hatch' })),
      s('pattern', { id: 'pat-no', width: '4', height: '4', patternUnits: 'userSpaceOnUse' },
        s('rect', { width: '4', height: '4', class: 'seg-no-bg' }),
        s('circle', { cx: '2', cy: '2', r: '0.8', class: 'dot' }))));
}

function decisionTitle(rule, schema, tr) {
  const d = (schema?.decisions || []).find((x) => x.rule === rule);
  if (d && d.title) return typeof d.title === 'string' ? d.title : (d.title[tr.lang] || d.title.fr);
  return null;
}

function programmeTitle(row, schema, tr) {
  const m = moduleOf(row.decision || row.rule, schema);
  if (m.title) return [m.title, m.osp ? [' (', ltr(m.osp), ')'] : null];
  return row.program ? [h('span', { lang: 'fr' }, row.program)] : [ltr(m.name)];
}

function valueLabel(rule, v, tr, schema) {
  // A yes/no decision's value as the store may count it (1/0) is still yes/no.
  const d = (schema?.decisions || []).find((x) => x.rule === rule);
  if (d && d.type === 'bool' && (v === 1 || v === 0)) v = v === 1;
  if (v === true) return { kind: 'yes', text: tr.t('value.true') };
  if (v === false) return { kind: 'no', text: tr.t('value.false') };
  const l = caseLabel(rule, v, schema);
  const negative = /^(ineligible|none)$/.test(String(v));
  return { kind: negative ? 'no' : 'other', text: l ?? String(v) };
}

/** Cells of one row with suppression applied: a null count is the server's suppression, a
 *  count under SMALL the page's; when one cell alone is hidden and the total is known, the next
 *  smallest is hidden too, so that a subtraction cannot reveal it. */
function cells(part, rule, tr, schema, total) {
  const list = (part.values || []).map((x) => ({ ...valueLabel(rule, x.value, tr, schema), count: x.count }));
  list.push({ kind: 'undetermined', text: tr.t('value.undetermined'), count: part.undetermined === undefined ? 0 : part.undetermined });
  for (const c of list) {
    c.suppressed = c.count === null || c.count === undefined || (c.count > 0 && c.count < SMALL);
  }
  // When the cells shown already add up to the whole population, the hidden ones are zeros.
  const shown = list.filter((c) => !c.suppressed).reduce((a, c) => a + c.count, 0);
  if (total !== null && shown === total) {
    for (const c of list) if (c.suppressed) { c.suppressed = false; c.count = 0; }
  }
  const hidden = list.filter((c) => c.suppressed);
  if (hidden.length === 1 && total !== null) {
    const next = list.filter((c) => !c.suppressed && c.count > 0).sort((a, b) => a.count - b.count)[0];
    if (next) next.suppressed = true;
  }
  return list;
}

/** The number of decisions a row's rates are taken over, or null when suppression hides it. */
function rowTotal(part, outOfForce, population) {
  const counts = [...(part.values || []).map((x) => x.count), part.undetermined === undefined ? 0 : part.undetermined];
  if (counts.every((n) => typeof n === 'number')) return counts.reduce((a, n) => a + n, 0);
  const oof = typeof outOfForce === 'number' ? outOfForce : outOfForce?.count;
  if (typeof population.total === 'number' && typeof oof === 'number') return population.total - oof;
  // Out of force hidden, but the cells shown account for the whole population: that is the total.
  const known = counts.filter((n) => typeof n === 'number').reduce((a, n) => a + n, 0);
  if (typeof population.total === 'number' && known === population.total) return known;
  return null;
}

/** A bar: each shown cell its share of the total, the hidden ones together as one hatched part. */
function bar(list, total, label) {
  const W = 300;
  let x = 0;
  const rects = [];
  if (total) {
    for (const c of list) {
      if (c.suppressed || !c.count) continue;
      const w = (c.count / total) * W;
      rects.push(s('rect', { x: x.toFixed(2), y: '0', width: w.toFixed(2), height: '18', class: `seg seg-${c.kind}` }));
      x += w;
    }
  }
  if (list.some((c) => c.suppressed && c.count !== 0) && x < W) {
    rects.push(s('rect', { x: x.toFixed(2), y: '0', width: (W - x).toFixed(2), height: '18', class: 'seg seg-suppressed' }));
  }
  return s('svg', {
    class: 'chart-bar', viewBox: `0 0 ${W} 18`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label, focusable: 'false',
  }, s('rect', { x: '0', y: '0', width: String(W), height: '18', class: 'seg-track' }), rects);
}

/** A fact's label in the page's language (the schema's form fields), or null. */
function fieldLabel(path, schema) {
  const walk = (fields) => {
    for (const f of fields || []) {
      if (f.path === path) return f.label || null;
      const inner = walk(f.fields || f.of?.fields);
      if (inner) return inner;
    }
    return null;
  };
  return walk(schema?.fields);
}

/** The facts behind a row's undetermined answers (stored runs): in words, with their counts; a
 *  count the server suppressed (null) said as "fewer than k". */
function missingFacts(part, tr, schema) {
  const list = part?.missing;
  if (!Array.isArray(list) || !list.length) return null;
  const { t } = tr;
  return h('div', { class: 'missing-facts' },
    h('p', { class: 'help' }, t('figures.missing'), t('punct.colon')),
    h('ul', {}, list.map((m) => {
      const label = fieldLabel(m.fact, schema);
      const n = m.count;
      return h('li', { 'data-fact': m.fact },
        label ? h('span', { class: 'cap' }, label) : ltr(m.fact, 'code'), t('punct.colon'),
        h('bdi', {}, n === null || n === undefined ? t('figures.suppressed')
          : n > 0 && n < SMALL ? t('figures.fewer_than', { k: tr.num(SMALL) }) : tr.num(n)));
    })));
}

function renderRow(row, part, tr, schema, inForce, population) {
  const { t } = tr;
  const rule = row.decision || row.rule;
  // Out of force, a stored run's row adds up to its own out-of-force count.
  const total = !inForce && typeof part?.count === 'number' ? part.count : rowTotal(part, row.out_of_force, population);
  const list = cells(part, rule, tr, schema, total);
  const title = decisionTitle(rule, schema, tr);
  const name = title || rule;
  // Without an exact total (a hidden cell), a shown count has no rate; the bar then shares the
  // whole population, its hidden part hatched.
  // A cell the server hid (null) may be a small one or its complement: said "hidden", never
  // "fewer than k"; a small count the page hides itself is said as such.
  const rate = (c) => (c.suppressed ? (c.count === null || c.count === undefined ? null : t('figures.suppressed'))
    : total ? tr.pct(c.count / total) : null);
  const count = (c) => (c.count === null || c.count === undefined ? t('figures.suppressed')
    : c.suppressed ? t('figures.fewer_than', { k: tr.num(SMALL) }) : tr.num(c.count));
  return h('tr', { 'data-rule': rule, class: inForce ? null : 'out-of-force' },
    h('th', { scope: 'row' }, title ? title : ltr(rule, 'code')),
    h('td', { class: 'chart' }, bar(list, total ?? population.total, tr.t('figures.bar_label', { decision: name }))),
    h('td', {}, h('ul', { class: 'legend' }, list.map((c) => h('li', { class: c.suppressed ? 'suppressed' : null },
      h('span', { class: `key key-${c.suppressed ? 'suppressed' : c.kind}`, 'aria-hidden': 'true' }),
      h('span', { class: 'cap' }, c.text), tr.t('punct.colon'), h('bdi', {}, count(c)),
      rate(c) === null ? null : [' (', h('bdi', {}, rate(c)), ')']))),
    inForce ? missingFacts(part, tr, schema) : null));
}

function renderPopulation(p, tr, schema) {
  const { t } = tr;
  const byProgramme = new Map();
  for (const row of p.decisions) {
    const key = String(row.decision || row.rule).split('.')[0];
    if (!byProgramme.has(key)) byProgramme.set(key, []);
    byProgramme.get(key).push(row);
  }
  const inForce = [];
  const outOfForce = [];
  for (const rows of byProgramme.values()) {
    const inRows = rows.filter((r) => hasCounts(r.in_force));
    const outRows = rows.filter((r) => hasCounts(r.out_of_force));
    if (inRows.length) inForce.push({ rows: inRows, title: programmeTitle(rows[0], schema, tr) });
    if (outRows.length) outOfForce.push({ rows: outRows, title: programmeTitle(rows[0], schema, tr) });
  }
  const outTable = (groups) => h('table', { class: 'figures' },
    h('caption', {}, t('figures.out_of_force')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('figures.col.decision')),
      h('th', { scope: 'col' }, t('figures.col.count')))),
    groups.map((g) => h('tbody', {},
      h('tr', { class: 'programme-row' }, h('th', { scope: 'rowgroup', colspan: '2' }, g.title)),
      g.rows.map((r) => {
        const rule = r.decision || r.rule;
        const n = r.out_of_force;
        const title = decisionTitle(rule, schema, tr);
        return h('tr', { 'data-rule': rule, class: 'out-of-force' },
          h('th', { scope: 'row' }, title || ltr(rule, 'code')),
          h('td', {}, h('bdi', {}, n === null ? t('figures.suppressed')
            : n > 0 && n < SMALL ? t('figures.fewer_than', { k: tr.num(SMALL) }) : tr.num(n))));
      }))));
  const table = (groups, inF, caption) => h('table', { class: 'figures' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('figures.col.decision')),
      h('th', { scope: 'col' }, t('figures.col.chart')),
      h('th', { scope: 'col' }, t('figures.col.rates')))),
    groups.map((g) => h('tbody', {},
      h('tr', { class: 'programme-row' }, h('th', { scope: 'rowgroup', colspan: '3' }, g.title)),
      g.rows.map((r) => renderRow(r, inF ? r.in_force : r.out_of_force, tr, schema, inF, p)))));
  return h('section', { class: 'population', id: p.id, 'aria-labelledby': `${p.id}-title` },
    h('h2', { id: `${p.id}-title` }, p.title),
    h('p', { class: 'help' }, p.meta),
    inForce.length ? table(inForce, true, t('figures.in_force')) : null,
    outOfForce.length ? (outOfForce.some((g) => g.rows.some((r) => typeof r.out_of_force !== 'object' || r.out_of_force === null))
      ? outTable(outOfForce) : table(outOfForce, false, t('figures.out_of_force'))) : null);
}

function hasCounts(part) {
  if (part === null) return true;  // suppressed
  if (typeof part === 'number') return part !== 0;
  if (!part) return false;
  return (part.values || []).some((v) => v.count !== 0) || (part.undetermined ?? 0) !== 0 || part.count > 0;
}

function renderOverrides(rows, tr, schema, month) {
  const { t } = tr;
  const list = Array.isArray(rows) ? rows : Object.entries(rows).map(([rule, v]) => ({ rule, ...v }));
  return h('section', { class: 'population', id: 'overrides', 'aria-labelledby': 'overrides-title' },
    h('h2', { id: 'overrides-title' }, t('figures.overrides')),
    h('table', { class: 'figures' },
      h('caption', {}, month ? tr.tn('figures.overrides_month', { month: tr.month(month) }) : t('figures.overrides_caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('figures.col.decision')),
        h('th', { scope: 'col' }, t('figures.col.reviewed')),
        h('th', { scope: 'col' }, t('figures.col.overridden')),
        h('th', { scope: 'col' }, t('figures.col.override_rate')))),
      h('tbody', {}, list.map((r) => {
        const reviewed = r.reviewed ?? null;
        const over = r.overridden ?? null;
        const small = (n) => n === null || (n > 0 && n < SMALL);
        const sup = small(reviewed) || small(over);
        const title = decisionTitle(r.rule, schema, tr);
        return h('tr', { 'data-rule': r.rule },
          h('th', { scope: 'row' }, title || ltr(r.rule, 'code')),
          h('td', {}, h('bdi', {}, small(reviewed) ? t('figures.fewer_than', { k: tr.num(SMALL) }) : tr.num(reviewed))),
          h('td', {}, sup ? t('figures.suppressed') : ltr(tr.num(over))),
          h('td', {}, sup || !reviewed ? t('figures.suppressed')
            : ltr(tr.pct(r.rate !== undefined && r.rate !== null ? Number(r.rate) : over / reviewed))));
      }))));
}
