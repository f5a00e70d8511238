// The applicant form, generated from GET /api/v1/schema: one control per schema field, values kept
// in a model outside the DOM (so a change of language redraws the form without losing an entry),
// exact decimal text for money and decimals (never parsed to a binary float), three states for a
// nullable field (present / none = null / not known yet = absent), and one message per field tied
// to its input by aria-describedby.
import { h, fieldId } from './dom.js';

/** The entries of one applicant: values by path ("household.size"), the state of nullable fields
 *  ("present" | "none" | "unknown") and the number of items of lists. */
export function emptyModel() {
  return { values: {}, presence: {}, counts: {} };
}

const SPACES = /[\s\u00a0\u202f]/g;
const PATTERNS = {
  int: /^-?\d+$/,
  money: /^-?\d+(?:[.,]\d{1,2})?$/,
  decimal: /^-?\d+(?:[.,]\d+)?$/,
};

/** Exact comparison of two decimal strings ("-12.50" vs "0"): -1, 0 or 1. */
export function compareDecimal(a, b) {
  const parse = (x) => {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(x);
    const neg = m[1] === '-';
    const int = m[2].replace(/^0+(?=\d)/, '');
    const frac = (m[3] || '').replace(/0+$/, '');
    const zero = /^0$/.test(int) && frac === '';
    return { neg: neg && !zero, int, frac };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.neg !== y.neg) return x.neg ? -1 : 1;
  const sign = x.neg ? -1 : 1;
  if (x.int.length !== y.int.length) return sign * (x.int.length < y.int.length ? -1 : 1);
  if (x.int !== y.int) return sign * (x.int < y.int ? -1 : 1);
  const n = Math.max(x.frac.length, y.frac.length);
  const fx = x.frac.padEnd(n, '0');
  const fy = y.frac.padEnd(n, '0');
  if (fx === fy) return 0;
  return sign * (fx < fy ? -1 : 1);
}

/** The canonical text of an entered number: spaces out, decimal comma to point. */
export { shownNumber };

export function canonicalNumber(text) {
  // Leading zeros dropped ("0500" is 500): the record, as JSON, takes none.
  return String(text).replace(SPACES, '').replace(',', '.').replace(/^(-?)0+(?=\d)/, '$1');
}

function constraintNumber(v) {
  return canonicalNumber(String(v).replace(/\s*(MAD|DH)$/i, ''));
}

/** A limit as the official reads it: a decimal comma in French and Arabic. */
function shownNumber(v, lang) {
  const n = constraintNumber(v);
  return lang === 'en' ? n : n.replace('.', ',');
}

/** Checks one scalar entry; returns a catalogue key and params, or null when acceptable. */
export function checkValue(field, raw, asOf) {
  const text = String(raw ?? '').trim();
  if (text === '') return field.path === 'id' ? { key: 'form.error.required' } : null;
  const c = field.constraint || {};
  if (field.type in PATTERNS) {
    const canon = canonicalNumber(text);
    if (!PATTERNS[field.type].test(canon)) return { key: `form.error.${field.type}` };
    if (field.type === 'int' && !Number.isSafeInteger(Number(canon))) return { key: 'form.error.int_range' };
    const num = canon;
    if (c.at_least !== undefined && compareDecimal(num, constraintNumber(c.at_least)) < 0) {
      return { key: 'form.error.at_least', params: { min: c.at_least }, numbers: ['min'] };
    }
    if (c.at_most !== undefined && compareDecimal(num, constraintNumber(c.at_most)) > 0) {
      return { key: 'form.error.at_most', params: { max: c.at_most }, numbers: ['max'] };
    }
  }
  if (field.type === 'date') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return { key: 'form.error.date' };
    if (c.not_after_as_of && asOf && text > asOf) return { key: 'form.error.not_after_as_of' };
  }
  if (field.type === 'enum' && !(field.cases || []).some((k) => k.value === text)) {
    return { key: 'form.error.enum' };
  }
  return null;
}

/** The record to send, built from the model: absent = not known, null = known not to exist. */
export function buildRecord(fields, model) {
  const out = {};
  for (const f of fields) {
    const v = valueOf(f, model);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

function valueOf(f, model) {
  if (f.optional) {
    const p = model.presence[f.path] || 'unknown';
    if (p === 'unknown') return undefined;
    if (p === 'none') return null;
  }
  switch (f.type) {
    case 'record': {
      const sub = buildRecord(f.fields || [], model);
      // A present optional record is sent even when empty: it exists, its contents are unknown.
      if (Object.keys(sub).length === 0 && !f.optional) return undefined;
      return sub;
    }
    case 'list': {
      const n = model.counts[f.path] || 0;
      if (n === 0 && !f.optional && model.presence[f.path] !== 'present') return undefined;
      const items = [];
      for (let i = 0; i < n; i += 1) {
        const item = { ...f.of, path: `${f.path}.${i}`, optional: false, name: String(i) };
        if (item.fields) item.fields = retarget(f.of.fields, `${f.path}.${i}`);
        const v = valueOf(item, model);
        items.push(v === undefined ? (item.type === 'record' ? {} : null) : v);
      }
      return items;
    }
    case 'bool': {
      const v = model.values[f.path];
      return v === 'true' ? true : v === 'false' ? false : undefined;
    }
    case 'int': {
      const v = String(model.values[f.path] ?? '').trim();
      if (v === '') return undefined;
      const canon = canonicalNumber(v);
      // validate() keeps whole numbers within JavaScript's exact range (±2^53).
      return Number(canon);
    }
    case 'money':
    case 'decimal': {
      const v = String(model.values[f.path] ?? '').trim();
      return v === '' ? undefined : canonicalNumber(v);
    }
    default: {
      const v = String(model.values[f.path] ?? '').trim();
      return v === '' ? undefined : v;
    }
  }
}

/** Fields of a list item re-rooted under "list.i". */
function retarget(fields, prefix) {
  return (fields || []).map((g) => ({
    ...g,
    path: `${prefix}.${g.name}`,
    fields: g.fields ? retarget(g.fields, `${prefix}.${g.name}`) : undefined,
  }));
}

/** Fills the model from a stored record (a returning applicant). */
export function loadRecord(fields, record, model = emptyModel()) {
  for (const f of fields) fill(f, record ? record[f.name] : undefined, model);
  return model;
}

function fill(f, v, model) {
  if (v === undefined) {
    if (f.optional) model.presence[f.path] = 'unknown';
    return;
  }
  if (v === null) {
    model.presence[f.path] = f.optional ? 'none' : 'unknown';
    return;
  }
  if (f.optional) model.presence[f.path] = 'present';
  if (f.type === 'record') {
    for (const g of f.fields || []) fill(g, v[g.name], model);
  } else if (f.type === 'list') {
    const items = Array.isArray(v) ? v : [];
    model.counts[f.path] = items.length;
    items.forEach((item, i) => {
      const sub = { ...f.of, path: `${f.path}.${i}`, optional: false };
      if (sub.fields) sub.fields = retarget(f.of.fields, `${f.path}.${i}`);
      fill(sub, item, model);
    });
  } else if (f.type === 'bool') {
    model.values[f.path] = v ? 'true' : 'false';
  } else {
    model.values[f.path] = String(v);
  }
}

/** Validates every entry; returns [{path, key, params}] in form order. */
export function validate(fields, model, asOf) {
  const errors = [];
  const walk = (list) => {
    for (const f of list) {
      if (f.optional && (model.presence[f.path] || 'unknown') !== 'present') continue;
      if (f.type === 'record') walk(f.fields || []);
      else if (f.type === 'list') {
        const n = model.counts[f.path] || 0;
        for (let i = 0; i < n; i += 1) {
          const sub = { ...f.of, path: `${f.path}.${i}`, optional: false };
          if (sub.fields) walk(retarget(f.of.fields, `${f.path}.${i}`));
          else {
            const e = checkValue(sub, model.values[sub.path], asOf);
            if (e) errors.push({ path: sub.path, ...e });
          }
        }
      } else if (f.type !== 'bool') {
        const e = checkValue(f, model.values[f.path], asOf);
        if (e) errors.push({ path: f.path, ...e });
      }
    }
  };
  walk(fields);
  return errors;
}

/** Draws the controls of `fields` into fragments; `ctx` = {tr, model, documents, onChange}. */
export function renderFields(fields, ctx) {
  return fields.map((f) => renderField(f, ctx));
}

function help(f, ctx, id) {
  const { tr } = ctx;
  const parts = [];
  if (f.type === 'money') parts.push(tr.t('form.help.money'));
  if (f.type === 'decimal') parts.push(tr.t('form.help.decimal'));
  if (f.type === 'int') parts.push(tr.t('form.help.int'));
  if (f.type === 'text' && /nationality$/.test(f.path)) parts.push(tr.t('form.help.country'));
  const c = f.constraint || {};
  if (c.at_least !== undefined && c.at_most !== undefined) {
    parts.push(tr.t('form.help.between', { min: shownNumber(c.at_least, tr.lang), max: shownNumber(c.at_most, tr.lang) }));
  } else if (c.at_least !== undefined) {
    parts.push(tr.t('form.help.at_least', { min: shownNumber(c.at_least, tr.lang) }));
  }
  if (c.not_after_as_of) parts.push(tr.t('form.help.not_after_as_of'));
  if (f.document && ctx.documents[f.document] && f.type !== 'record') {
    parts.push(tr.t('form.help.proof', { document: ctx.documents[f.document] }));
  }
  if (parts.length === 0) return null;
  return h('p', { class: 'help', id: `${id}-help` }, parts.join(' · '));
}

function errorSlot(id) {
  return h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
}

function describedBy(id, hasHelp) {
  return hasHelp ? `${id}-help ${id}-err` : `${id}-err`;
}

function renderField(f, ctx) {
  if (f.optional) return renderOptional(f, ctx);
  return renderInner(f, ctx);
}

/** A nullable field: "present" opens its controls; "none" sends null; "not known" leaves it out. */
function renderOptional(f, ctx) {
  const { tr, model } = ctx;
  const id = fieldId(f.path);
  const state = model.presence[f.path] || 'unknown';
  const inner = h('div', { class: 'optional-body', id: `${id}-body`, hidden: state !== 'present' },
    f.type === 'record' ? (f.fields || []).map((g) => renderField(g, ctx))
      : renderInner({ ...f, optional: false }, ctx, true));
  const name = `${id}-presence`;
  const choice = (value, key) => h('label', { class: 'choice' },
    h('input', {
      type: 'radio', name, value, checked: state === value,
      'data-presence': f.path,
      on: {
        change: () => {
          model.presence[f.path] = value;
          inner.hidden = value !== 'present';
          ctx.onChange?.();
        },
      },
    }),
    ' ', tr.t(key));
  const docHelp = f.document && ctx.documents[f.document]
    ? h('p', { class: 'help', id: `${id}-help` }, tr.t('form.help.proof', { document: ctx.documents[f.document] }))
    : null;
  return h('fieldset', { class: `field optional ${f.type === 'record' ? 'record' : ''}`.trim(), id: `${id}-group`, 'aria-describedby': docHelp ? `${id}-help` : null },
    h('legend', {}, f.label),
    docHelp,
    // A scalar's slot is beside its input (renderInner); a record's is the group's.
    f.type === 'record' ? errorSlot(id) : null,
    h('div', { class: 'choices', role: 'radiogroup', 'aria-label': f.label },
      choice('present', f.type === 'record' ? 'form.optional.present' : 'form.optional.value'),
      choice('none', 'form.optional.none'),
      choice('unknown', 'form.optional.unknown')),
    inner);
}

function renderInner(f, ctx, inOptional = false) {
  const { tr, model } = ctx;
  const id = fieldId(f.path);
  if (f.type === 'record') {
    return h('fieldset', { class: 'field record', id },
      h('legend', {}, f.label),
      errorSlot(id),
      (f.fields || []).map((g) => renderField(g, ctx)));
  }
  if (f.type === 'list') return renderList(f, ctx);
  if (f.type === 'bool') {
    const name = `${id}-bool`;
    const cur = model.values[f.path] ?? '';
    // The field's id is its first choice's (an error summary's link leads there); its message
    // (a refusal by the server) is in the group's slot, read with each choice.
    const opt = (value, key) => h('label', { class: 'choice' },
      h('input', {
        type: 'radio', name, value, checked: cur === value, 'data-path': f.path,
        id: value === 'true' ? id : null, 'aria-describedby': `${id}-err`,
        on: { change: () => { model.values[f.path] = value; ctx.onChange?.(); } },
      }),
      ' ', tr.t(key));
    const hp = help(f, ctx, `${id}-g`);
    return h('fieldset', { class: 'field bool', 'aria-describedby': hp ? `${id}-g-help` : null },
      h('legend', {}, f.label), hp,
      h('div', { class: 'choices' },
        opt('true', 'form.bool.true'), opt('false', 'form.bool.false'), opt('', 'form.bool.unknown')),
      errorSlot(id));
  }
  const hp = help(f, ctx, id);
  const common = {
    id, name: f.path, 'data-path': f.path, 'aria-describedby': describedBy(id, !!hp),
    'aria-required': f.path === 'id' ? 'true' : null,
  };
  let control;
  const store = (ev) => { model.values[f.path] = ev.target.value; ctx.onChange?.(); };
  if (f.type === 'enum') {
    const cur = model.values[f.path] ?? '';
    control = h('select', { ...common, on: { change: store } },
      h('option', { value: '', selected: cur === '' }, tr.t('form.enum.unknown')),
      (f.cases || []).map((c) => h('option', { value: c.value, selected: cur === c.value }, c.label)));
  } else if (f.type === 'date') {
    control = h('input', { ...common, type: 'date', value: model.values[f.path] ?? '', on: { input: store, change: store } });
  } else {
    const numeric = f.type === 'int' || f.type === 'money' || f.type === 'decimal';
    control = h('input', {
      ...common, type: 'text', value: model.values[f.path] ?? '',
      inputmode: f.type === 'int' ? 'numeric' : numeric ? 'decimal' : null,
      dir: numeric ? 'ltr' : 'auto',
      class: numeric ? 'number' : null,
      autocomplete: 'off', spellcheck: 'false',
      on: { input: store },
    });
  }
  const label = h('label', { for: id }, inOptional ? tr.t('form.optional.value_label', { field: f.label }) : f.label);
  return h('div', { class: `field ${f.type}` }, label, hp, control, errorSlot(id));
}

function renderList(f, ctx) {
  const { tr, model } = ctx;
  const id = fieldId(f.path);
  const n = model.counts[f.path] || 0;
  const items = [];
  for (let i = 0; i < n; i += 1) {
    const sub = { ...f.of, path: `${f.path}.${i}`, optional: false, label: tr.t('form.list.item', { n: i + 1 }) };
    if (sub.fields) sub.fields = retarget(f.of.fields, `${f.path}.${i}`);
    items.push(h('li', {}, renderInner(sub, ctx)));
  }
  // The form is drawn again with one item more or less: the focus goes to the new item's first
  // control (typed next), or after a removal back to the list's buttons, not to the page's body.
  const firstControl = (path) => () => {
    const el = document.getElementById(fieldId(path));
    return el && (el.matches('input,select,textarea') ? el : el.querySelector('input,select,textarea'));
  };
  return h('fieldset', { class: 'field list', id },
    h('legend', {}, f.label),
    errorSlot(id),
    h('ol', {}, items),
    h('button', {
      type: 'button', class: 'secondary', id: `${id}-add`,
      on: {
        click: () => {
          model.counts[f.path] = n + 1;
          model.presence[f.path] = 'present';
          ctx.redraw?.({ focusOn: firstControl(`${f.path}.${n}`) });
        },
      },
    }, tr.t('form.list.add')),
    n > 0 ? h('button', {
      type: 'button', class: 'secondary', id: `${id}-remove`,
      on: {
        click: () => {
          model.counts[f.path] = n - 1;
          ctx.redraw?.({ focusOn: () => document.getElementById(n > 1 ? `${id}-remove` : `${id}-add`) });
        },
      },
    }, tr.t('form.list.remove')) : null);
}
