// Counter activity for the figures: sample applicants evaluated and reviewed through the API with
// a machine token (no browser), enough of them that cells pass the server's suppression threshold.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from './harness.mjs';
import { AS_OF } from './applicants.mjs';

export const SEEDED = 60;        // evaluations
export const BARE = 12;            // evaluations of applicants with no fact yet
export const REVIEWED = 24;      // of them reviewed…
export const OVERRIDDEN = 12;    // …with education.school_access overridden in this many (and
                                 // accepted in as many: both past the threshold, the rate shown)

export async function seedCounter(ctx, token) {
  const rows = fs.readFileSync(path.join(ctx.root, 'data/sample-cohort.jsonl'), 'utf8')
    .split('\n').filter(Boolean).slice(100, 100 + SEEDED).map((l) => JSON.parse(l));
  const post = async (url, body) => {
    const res = await fetch(`${ctx.server.base}${url}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.ok, `seeding: POST ${url} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  // And applicants who have only just given their file number: undetermined decisions, counted
  // past the threshold as well.
  for (let i = 0; i < BARE; i += 1) {
    await post('/api/v1/evaluate', { as_of: AS_OF, applicant: { id: `SEED-BARE-${i}` }, trace: false });
  }
  for (let i = 0; i < rows.length; i += 1) {
    const ev = await post('/api/v1/evaluate', { as_of: AS_OF, applicant: rows[i], trace: false });
    if (i >= REVIEWED) continue;
    const school = ev.decisions.find((d) => d.rule === 'education.school_access');
    expect(school, 'seeding: no education.school_access decision in the answer');
    const item = i < OVERRIDDEN
      ? { rule: school.rule, outcome: 'overridden', value: school.value !== true, reason: 'seeded override' }
      : { rule: school.rule, outcome: 'accepted' };
    await post(`/api/v1/decisions/${encodeURIComponent(ev.decision_id)}/review`, { supersedes: null, decisions: [item] });
  }
}
