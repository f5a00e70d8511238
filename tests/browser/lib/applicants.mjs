// Three sample applicants from data/sample-cohort.jsonl, typed into the form as an official would,
// and what the page must show for them (taken from `dalil eval` on the same record).
import fs from 'node:fs';
import path from 'node:path';

export const AS_OF = '2026-12-01';

/** The three applicants: one complete record, one with facts still missing (documents to ask
 *  for), one whose optional records are known not to exist (null). Ids get the language as a
 *  suffix so that each language's run has its own applicants. */
export function sampleApplicants(root, lang) {
  const rows = fs.readFileSync(path.join(root, 'data/sample-cohort.jsonl'), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const byId = (id) => structuredClone(rows.find((r) => r.id === id));
  const complete = byId('SYN-000008');
  const missing = byId('SYN-000029');
  delete missing.nationality;
  delete missing.household.area;
  delete missing.household.annual_income;
  delete missing.medical_coverage;
  const nulls = byId('SYN-000010');
  for (const r of [complete, missing, nulls]) r.id = `${r.id}-${lang}`;
  return [complete, missing, nulls];
}

const field = (path) => `#f-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** Types `record` into the generated form, field by field, following the schema. */
export async function fillRecord(page, fields, record, lang) {
  for (const f of fields) await fillField(page, f, record ? record[f.name] : undefined, lang);
}

async function fillField(page, f, v, lang) {
  if (f.optional) {
    const state = v === undefined ? 'unknown' : v === null ? 'none' : 'present';
    await page.check(`input[data-presence="${f.path}"][value="${state}"]`);
    if (state !== 'present') return;
  }
  if (v === undefined || v === null) return;
  switch (f.type) {
    case 'record':
      for (const g of f.fields || []) await fillField(page, g, v[g.name], lang);
      return;
    case 'bool':
      await page.check(`input[data-path="${f.path}"][value="${v ? 'true' : 'false'}"]`);
      return;
    case 'enum':
      await page.selectOption(field(f.path), String(v));
      return;
    case 'money':
    case 'decimal':
      // As a French or Arabic official types it: a decimal comma, the page sends the point.
      await page.fill(field(f.path), lang === 'en' ? String(v) : String(v).replace('.', ','));
      return;
    default:
      await page.fill(field(f.path), String(v));
  }
}

/** What the record looks like once it went through the form: the same facts. */
export function expectedOutcomeText(decision, cat, schemaDecisions) {
  if (decision.status === 'undetermined') return cat['value.undetermined'];
  if (decision.value === true) return cat['value.true'];
  if (decision.value === false) return cat['value.false'];
  const d = schemaDecisions.find((x) => x.rule === decision.rule);
  const c = (d?.cases || []).find((x) => x.value === decision.value);
  return c ? c.label : null;
}
