// The browser tests' harness: a real `dalil serve` on a temporary store with users made by
// `dalil user add`, Debian's Chromium driven by playwright-core (downloads nothing), and the
// checks every screen goes through (axe, no horizontal overflow, no mixed-language text, a
// screenshot under out/screenshots/).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilderModule from '@axe-core/playwright';

const AxeBuilder = AxeBuilderModule.default || AxeBuilderModule;

export const LANGS = ['fr', 'ar', 'en'];
export const LOCALES = { fr: 'fr-MA', ar: 'ar-MA', en: 'en-GB' };
export const CHROMIUM = process.env.DALIL_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
];

export const PASSWORDS = {
  alice: 'alice-counter-password-1',
  carol: 'carol-counter-password-2',
  bob: 'bob-adviser-password-3',
};

/** A failed expectation: the runner prints its message and the flow fails. */
export class Failure extends Error {}
export function expect(cond, message) {
  if (!cond) throw new Failure(message);
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dalil-browser-${prefix}-`));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Creates a user with `dalil user add` (the password on standard input). */
export function addUser(dalil, db, name, role, office) {
  const args = ['user', 'add', name, '--role', role, '--db', db];
  if (office) args.push('--office', office);
  execFileSync(dalil, args, { input: `${PASSWORDS[name]}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Starts `dalil serve` on a free loopback port; resolves when /healthz answers. */
export async function startServer({ dalil, rules, db, extra = [], env = {}, log }) {
  const port = await freePort();
  const args = ['serve', '--db', db, '--rules', rules, '--listen', `127.0.0.1:${port}`, ...extra];
  const out = fs.openSync(log, 'a');
  const child = spawn(dalil, args, { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (exited) {
      throw new Failure(`dalil serve exited (${JSON.stringify(exited)}) before answering; see ${log}`);
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Failure(`dalil serve did not answer /healthz within 30 s; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** A fresh browser profile (its own user-data-dir) with the counter PC's locale. */
export async function openBrowser(lang, { width = 1280, height = 900 } = {}) {
  const dir = tempDir('profile');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    // The counter PC's own locale: Chromium on Linux takes it from LANGUAGE (with chromium-l10n
    // installed), and formats <input type=date> with it (01/12/2026 in fr-MA, not 12/01/2026).
    env: { ...process.env, LANGUAGE: LOCALES[lang].replace('-', '_'), LANG: `${LOCALES[lang].replace('-', '_')}.UTF-8` },
    headless: true,
    locale: LOCALES[lang],
    timezoneId: 'Africa/Casablanca',
    viewport: { width, height },
    acceptDownloads: false,
  });
  context.setDefaultTimeout(10000);
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Chromium logs every HTTP error status (401 before sign-in, the 404 of an unknown file
    // number, the 409 of a conflict…): the flows check those themselves. CSP violations and
    // script errors are problems.
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of \d+/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return {
    context, page, problems,
    async close() {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The three message catalogues, read from the source tree. */
export function catalogues(root) {
  const out = {};
  for (const l of LANGS) {
    out[l] = JSON.parse(fs.readFileSync(path.join(root, 'server/www/i18n', `${l}.json`), 'utf8'));
  }
  return out;
}

/** Runs `dalil eval` on a record, as the command line gives it. */
export function dalilEval(dalil, rules, asOf, record) {
  const out = execFileSync(dalil, ['eval', '--rules', rules, '--as-of', asOf, '--facts', '-', '--format', 'json', '--no-trace'],
    { input: JSON.stringify(record), maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out.toString('utf8'));
}

/** Literal pieces of a catalogue message (placeholders cut out) long enough to be telling. */
function fragments(message) {
  return message.split(/\{\w+\}/).map((s) => s.trim()).filter((s) => s.length >= 5 && /\p{L}{3}/u.test(s));
}

/**
 * Checks the screen shown: every check is named in its failure message.
 *  - axe: no serious or critical violation;
 *  - no horizontal overflow (scrollWidth ≤ clientWidth), and dir="rtl" in Arabic;
 *  - no visible text in another language's catalogue wording, no missing message (⟦key⟧);
 *  - a screenshot written to out/screenshots/<lang>/<name>.png.
 * `within` (a selector) limits axe to a part of the screen: a warning shown for a few seconds
 * over a screen checked on its own elsewhere (axe on a whole answer can take longer).
 */
export async function checkScreen(ctx, page, lang, name, { print = false, within = null } = {}) {
  const cats = ctx.catalogues;
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
  const where = `${lang}/${name}`;
  const html = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(html.lang === lang, `${where}: <html lang> is ${html.lang}, not ${lang}`);
  expect(html.dir === (lang === 'ar' ? 'rtl' : 'ltr'), `${where}: <html dir> is ${html.dir}`);
  expect(html.scrollWidth <= html.clientWidth,
    `${where}: horizontal overflow (scrollWidth ${html.scrollWidth} > clientWidth ${html.clientWidth})`);

  // Visible text nodes not inside an element that declares another language (the French legal
  // sources, the language names in the switcher).
  const texts = await page.evaluate((docLang) => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const t = n.textContent.trim();
      if (!t) continue;
      const el = n.parentElement;
      if (!el || el.closest('[hidden]')) continue;
      const langEl = el.closest('[lang]');
      if (langEl && langEl.getAttribute('lang') !== docLang) continue;
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      if (cs.display === 'none' || cs.visibility === 'hidden' || (r.width === 0 && r.height === 0)) continue;
      out.push(t);
    }
    return out;
  }, lang);
  const missing = texts.filter((t) => t.includes('⟦'));
  expect(missing.length === 0, `${where}: missing messages shown: ${missing.slice(0, 3).join(' | ')}`);
  const own = new Set(Object.values(cats[lang]).flatMap(fragments));
  for (const other of LANGS.filter((l) => l !== lang)) {
    for (const [key, message] of Object.entries(cats[other])) {
      if (cats[lang][key] === message) continue;  // names identical in every language
      for (const f of fragments(message)) {
        if (own.has(f)) continue;
        const hit = texts.find((t) => t.includes(f));
        expect(!hit, `${where}: text in ${other} ("${f}", message ${key}) on the ${lang} screen: "${hit}"`);
      }
    }
  }

  if (print) await page.emulateMedia({ media: 'print' });
  const dir = path.join(ctx.out, 'screenshots', lang);
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  if (print) await page.emulateMedia({ media: 'screen' });

  if (!print) {
    let builder = new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']);
    if (within) builder = builder.include(within);
    const axe = await builder.analyze();
    const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.length === 0, `${where}: axe found ${bad.length} serious/critical violation(s): ${
      bad.map((v) => `${v.id} (${v.impact}) at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
    ctx.axeScreens = (ctx.axeScreens || 0) + 1;
  }
  ctx.screens = (ctx.screens || 0) + 1;
}

/** Signs in through the sign-in screen. */
export async function signIn(page, base, user) {
  await page.goto(`${base}/`);
  await page.waitForSelector('main[data-screen="signin"]');
  await page.fill('#user', user);
  await page.fill('#password', PASSWORDS[user]);
  await page.click('main form button[type="submit"]');
  await page.waitForSelector('main[data-screen="form"], main[data-screen="figures"]');
}

/** Switches the page's language with the switcher (stored for the user by the server). */
export async function switchLanguage(page, lang) {
  await page.selectOption('#ui-lang', lang);
  await page.waitForFunction((l) => document.documentElement.lang === l
    && document.querySelector('main')?.getAttribute('aria-busy') === 'false', lang);
}
