#!/usr/bin/env node
// Runs the browser tests of the officials' page against a real `dalil serve`.
//   node tests/browser/run.mjs --dalil build/cli/dalil [--rules rules] [--out out] [--only counter,session] [--skip warning] [--langs fr,ar]
// It builds nothing: it starts `dalil serve` on temporary stores (users made with `dalil user add`,
// a second server with --session-idle 6 for the expiry; the warning flow starts its own), drives /usr/bin/chromium through
// playwright-core, and writes screenshots under <out>/screenshots/<lang>/. Exit 0 when every flow
// passes, 1 when one fails, 77 (CTest's "skipped") when Node packages or Chromium are missing,
// unless DALIL_BROWSER_REQUIRED=1 (CI), where missing tools fail.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
  return acc;
}, []));
const root = path.resolve(args.root || path.join(here, '../..'));
const dalil = args.dalil && path.resolve(args.dalil);
const rules = path.resolve(args.rules || path.join(root, 'rules'));
const out = path.resolve(args.out || path.join(root, 'out'));
const required = process.env.DALIL_BROWSER_REQUIRED === '1';

function missing(what) {
  console.error(`browser tests: ${what}`);
  process.exit(required ? 1 : 77);
}
if (!dalil || !fs.existsSync(dalil)) {
  console.error('browser tests: give the dalil executable: --dalil build/cli/dalil');
  process.exit(1);
}
try {
  const req = createRequire(path.join(root, 'package.json'));
  req.resolve('playwright-core');
  req.resolve('@axe-core/playwright');
} catch {
  missing(`the Node packages are not installed: run \`npm ci\` in ${root}`);
}
const chromiumPath = process.env.DALIL_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromiumPath)) missing(`no Chromium at ${chromiumPath}: bash scripts/install-deps.sh installs it`);

const H = await import('./lib/harness.mjs');
const { seedCounter } = await import('./lib/seed.mjs');
const flows = {};
const order = ['catalogue', 'counter', 'returning', 'pending', 'conflict', 'busy', 'limits', 'messages', 'pack', 'lists', 'focus', 'session', 'warning', 'keyboard', 'figures'];
for (const f of order) {
  flows[f] = await import(`./flows/${f}.mjs`);
}
const skip = args.skip ? args.skip.split(',') : [];
const only = (args.only ? args.only.split(',') : Object.keys(flows)).filter((f) => !skip.includes(f));
const langs = args.langs ? args.langs.split(',') : H.LANGS;

const work = H.tempDir('run');
const ctx = {
  root, dalil, rules, out, catalogues: H.catalogues(root), screens: 0, axeScreens: 0,
};
fs.mkdirSync(out, { recursive: true });
const servers = [];
const results = [];
let failed = 0;

async function step(label, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ label, ok: true, ms: Date.now() - t0 });
    console.log(`ok   ${label} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed += 1;
    results.push({ label, ok: false, ms: Date.now() - t0, error: e.message });
    console.log(`FAIL ${label}: ${e instanceof H.Failure ? e.message : e.stack}`);
  }
}

try {
  const db = path.join(work, 'store.db');
  H.addUser(dalil, db, 'alice', 'official', 'rabat');
  H.addUser(dalil, db, 'carol', 'official', 'rabat');
  H.addUser(dalil, db, 'bob', 'adviser');
  // A machine client for seeding the figures (its token is the command's last line).
  const token = execFileSync(dalil, ['token', 'create', 'seeder', '--role', 'official', '--office', 'casablanca', '--db', db],
    { stdio: ['ignore', 'pipe', 'pipe'] })
    .toString('utf8').trim().split('\n').pop().trim();
  // A stored batch run of the sample cohort, for the figures of stored runs, and a run of one
  // applicant (fewer than 10: its figures are withheld).
  for (const args of [['import', '--db', db, '--rules', rules, path.join(root, 'data/sample-cohort.jsonl')],
    ['batch', '--db', db, '--rules', rules, '--as-of', '2017-06-01'],
    ['batch', '--db', db, '--rules', rules, '--as-of', '2017-06-01', '--where', 'id=SYN-000002']]) {
    execFileSync(dalil, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  // The counter's figures of a month are released the day after it ends (server/stats.hpp): the
  // figures flow counts this month's decisions, so this server's statistics clock (a test hook)
  // is moved to the 2nd of next month.
  const now = new Date();
  const release = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 2, 1);
  ctx.statsMonth = now.toISOString().slice(0, 7);
  ctx.server = await H.startServer({
    dalil, rules, db, log: path.join(out, 'browser-serve.log'),
    env: { DALIL_TEST_STATS_CLOCK_OFFSET: String(Math.ceil((release - now.getTime()) / 1000)) },
  });
  servers.push(ctx.server);
  const shortDb = path.join(work, 'short.db');
  H.addUser(dalil, shortDb, 'alice', 'official', 'rabat');
  H.addUser(dalil, shortDb, 'carol', 'official', 'rabat');  // another official at the same counter PC
  ctx.shortServer = await H.startServer({
    dalil, rules, db: shortDb, extra: ['--session-idle', '6'], log: path.join(out, 'browser-serve-short.log'),
  });
  servers.push(ctx.shortServer);

  // Order matters: the counter flow creates the applicants the others reload, review and count.
  for (const name of order) {
    if (!only.includes(name)) continue;
    const flow = flows[name];
    if (name === 'figures') await step('seed the counter (API, bearer token)', () => seedCounter(ctx, token));
    if (flow.browserless || flow.once) {
      await step(name, () => flow.run(ctx));
    } else {
      for (const lang of langs) await step(`${name} [${lang}]`, () => flow.run(ctx, lang));
    }
  }
} catch (e) {
  failed += 1;
  console.log(`FAIL set-up: ${e.message}`);
} finally {
  for (const s of servers) await s.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

console.log(`\n${results.filter((r) => r.ok).length}/${results.length} flows passed; ${ctx.screens} screens checked `
  + `(${ctx.axeScreens} by axe: no serious or critical violation), screenshots in ${path.join(out, 'screenshots')}`);
process.exit(failed ? 1 : 0);
