// The warning before the session ends (server/www/session.js), on two servers of its own with
// short timeouts, side by side (about 25 s in all):
//  - idle expiry 10 s (warned at half of it): the warning comes while the official types, as a
//    modal alert dialog that takes the focus; one key ("Stay signed in") keeps the session and
//    gives the focus back to the field; the session is still valid after the moment it would have
//    ended; the warning comes again (in another language), nobody answers it, and the page goes
//    back to the sign-in screen as on any expiry, the work held;
//  - absolute lifetime 8 s: a warning that nothing can extend, then the sign-in screen.
// The three languages: the first warning in Arabic (right to left), the second in English, the
// absolute one in French.
import fs from 'node:fs';
import path from 'node:path';
import {
  openBrowser, signIn, switchLanguage, checkScreen, expect, startServer, addUser, tempDir, LOCALES,
  PASSWORDS,
} from '../lib/harness.mjs';

export const name = 'warning';
export const once = true;  // each part walks through languages of its own

const IDLE_S = 10;
const ABSOLUTE_S = 8;

/** Waits for the warning of `kind` ('idle' or 'absolute') and checks it; its end as HH:MM. */
async function expectWarning(page, cat, lang, kind) {
  await page.waitForSelector('#session-warning[open]', { timeout: 15000 });
  const seenAt = Date.now();
  const d = await page.evaluate(() => {
    const dialog = document.getElementById('session-warning');
    const by = (attr) => document.getElementById(dialog.getAttribute(attr))?.textContent || '';
    return {
      role: dialog.getAttribute('role'),
      modal: dialog.matches(':modal'),
      title: by('aria-labelledby'),
      text: by('aria-describedby'),
      left: dialog.querySelector('[role="timer"]')?.textContent || '',
      focus: dialog.contains(document.activeElement) ? document.activeElement.id : null,
      dir: getComputedStyle(dialog).direction,
      stay: Boolean(document.getElementById('session-stay')),
    };
  });
  const where = `${lang}/${kind} warning`;
  expect(d.role === 'alertdialog', `${where}: role is ${d.role}, not alertdialog`);
  expect(d.modal, `${where}: not modal`);
  expect(d.title === cat[`session.${kind}.title`], `${where}: its title is "${d.title}"`);
  const [pre, post] = cat[`session.${kind}.text`].split('{time}');
  expect(d.text.startsWith(pre) && d.text.endsWith(post), `${where}: its text is "${d.text}"`);
  const time = d.text.slice(pre.length, d.text.length - post.length);
  // The time left, in the catalogue's words; the end it names is now plus that (the PC's zone).
  const pattern = (key) => new RegExp(`^${cat[key].replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace('{minutes}', '(?<minutes>\\d+)').replace('{seconds}', '(?<seconds>\\d+)')}$`);
  const m = pattern('session.left_seconds').exec(d.left) || pattern('session.left').exec(d.left);
  expect(m, `${where}: the time left reads "${d.left}"`);
  const left = (Number(m.groups.minutes || 0) * 60 + Number(m.groups.seconds)) * 1000;
  // Formatted by the browser, in its own zone (its time-zone data may differ from Node's).
  const near = await page.evaluate(({ locale, at }) => {
    const fmt = new Intl.DateTimeFormat(locale, {
      numberingSystem: 'latn', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
    return [-3000, 0, 3000].map((x) => fmt.format(new Date(at + x)));
  }, { locale: LOCALES[lang], at: seenAt + left });
  expect(near.includes(time), `${where}: it names the end ${time}, not about ${near[1]}`);
  expect(d.focus === (kind === 'idle' ? 'session-stay' : 'session-understood'),
    `${where}: the focus is on ${d.focus}, not its button`);
  expect(d.stay === (kind === 'idle'), `${where}: "Stay signed in" ${d.stay ? 'offered' : 'missing'}`);
  expect(d.dir === (lang === 'ar' ? 'rtl' : 'ltr'), `${where}: direction ${d.dir}`);
  return { time, left };
}

/** Waits until the warning is closed. */
function closed(page) {
  return page.waitForFunction(() => !document.getElementById('session-warning')?.open);
}

async function expectSignIn(page, cat, lang, secrets) {
  await page.waitForSelector('main[data-screen="signin"]', { timeout: 15000 });
  expect((await page.textContent('.flash-error')).includes(cat['signin.expired']),
    `${lang}: the expiry is not said on the sign-in screen`);
  expect(!(await page.evaluate(() => document.getElementById('session-warning')?.open)),
    `${lang}: the warning is still open on the sign-in screen`);
  const dom = await page.evaluate(() => document.body.innerHTML);
  for (const s of secrets) expect(!dom.includes(s), `${lang}: "${s}" is still in the DOM after the expiry`);
  const storage = await page.evaluate(() => localStorage.length + sessionStorage.length);
  expect(storage === 0, `${lang}: the page wrote to localStorage or sessionStorage`);
}

async function idleExpiry(ctx, server) {
  const cats = ctx.catalogues;
  const b = await openBrowser('ar');
  const { page } = b;
  try {
    await signIn(page, server.base, 'alice');
    await switchLanguage(page, 'ar');
    const armed = Date.now();  // the language's answer started the idle time again
    // Typing when the warning comes: it takes the focus, and gives it back when closed.
    const id = 'WARN-IDLE-1';
    await page.fill('#f-id', id);
    await expectWarning(page, cats.ar, 'ar', 'idle');
    expect(Date.now() - armed >= (IDLE_S / 2) * 1000 - 500, 'ar: the idle warning came too early');
    await checkScreen(ctx, page, 'ar', '13-session-warning', { within: '#session-warning' });
    // The second warning must come after the first end would have passed (IDLE_S + 1 s).
    await page.waitForTimeout(Math.max(0, armed + (IDLE_S / 2 + 1.5) * 1000 - Date.now()));
    const stayed = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.status() === 200);
    await page.keyboard.press('Enter');  // one key: the focus is on "Stay signed in"
    await stayed;
    await closed(page);
    expect(await page.evaluate(() => document.activeElement?.id) === 'f-id', 'ar: the focus did not go back to the field');

    // Past the moment the session would have ended without it: the page still on the form, the
    // entry there, and the server agrees (the next warning's "Stay signed in" is answered 200).
    await expectWarning(page, cats.ar, 'ar', 'idle');
    expect(Date.now() > armed + (IDLE_S + 1) * 1000, 'ar: the second warning came before the first end');
    expect(await page.isVisible('main[data-screen="form"]'), 'ar: the page left the form');
    expect(await page.inputValue('#f-id') === id, 'ar: the entry was lost');
    const again = page.waitForResponse((r) => r.url().endsWith('/api/v1/session'));
    await page.click('#session-stay');
    expect((await again).status() === 200, 'ar: the session had ended after "Stay signed in"');
    await closed(page);

    // In English now; the warning again, and nobody answers it: back to the sign-in screen as on
    // any expiry, nothing of the work on the screen.
    await switchLanguage(page, 'en');
    const last = Date.now();
    await expectWarning(page, cats.en, 'en', 'idle');
    await checkScreen(ctx, page, 'en', '13-session-warning', { within: '#session-warning' });
    await expectSignIn(page, cats.en, 'en', [id]);
    const after = Date.now() - last;
    expect(after >= (IDLE_S - 1) * 1000 && after <= (IDLE_S + 5) * 1000,
      `en: the page went to sign-in ${after} ms after the last answer`);
    // The same official signing in again finds the entry (held in the page's memory).
    await page.fill('#user', 'alice');
    await page.fill('#password', PASSWORDS.alice);
    await page.click('main form button[type="submit"]');
    await page.waitForSelector('main[data-screen="form"]');
    expect(await page.inputValue('#f-id') === id, 'en: the held work did not come back after the warning was left');
    expect(b.problems.length === 0, `idle: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}

async function absoluteEnd(ctx, server) {
  const cat = ctx.catalogues.fr;
  const b = await openBrowser('fr');
  const { page } = b;
  try {
    const start = Date.now();
    await signIn(page, server.base, 'carol');
    await page.fill('#f-id', 'WARN-ABS-1');
    await page.focus('#f-id');
    const { left } = await expectWarning(page, cat, 'fr', 'absolute');
    expect(left <= (ABSOLUTE_S / 2) * 1000, `fr: the absolute warning came ${left} ms before the end`);
    await checkScreen(ctx, page, 'fr', '14-session-ends', { within: '#session-warning' });
    await page.click('#session-understood');
    await closed(page);
    expect(await page.evaluate(() => document.activeElement?.id) === 'f-id', 'fr: the focus did not go back to the field');
    // Work goes on (a request of the session), but nothing moves the absolute end.
    await page.click('#evaluate');
    await expectSignIn(page, cat, 'fr', ['WARN-ABS-1']);
    const after = Date.now() - start;
    expect(after <= (ABSOLUTE_S + 6) * 1000, `fr: the session outlived its absolute end (${after} ms)`);
    expect(b.problems.length === 0, `absolute: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}

export async function run(ctx) {
  const dir = tempDir('warning');
  const db = path.join(dir, 'warning.db');
  addUser(ctx.dalil, db, 'alice', 'official', 'rabat');  // the idle part's (its language changes)
  addUser(ctx.dalil, db, 'carol', 'official', 'rabat');  // the absolute part's
  const servers = [];
  try {
    const idle = await startServer({
      dalil: ctx.dalil, rules: ctx.rules, db, extra: ['--session-idle', String(IDLE_S)],
      log: path.join(ctx.out, 'browser-serve-warning.log'),
    });
    servers.push(idle);
    const absolute = await startServer({
      dalil: ctx.dalil, rules: ctx.rules, db,
      extra: ['--session-idle', '600', '--session-absolute', String(ABSOLUTE_S)],
      log: path.join(ctx.out, 'browser-serve-warning.log'),
    });
    servers.push(absolute);
    // Side by side: each mostly waits for its clock.
    const results = await Promise.allSettled([idleExpiry(ctx, idle), absoluteEnd(ctx, absolute)]);
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    expect(failed.length === 0, failed.join(' / '));
  } finally {
    for (const s of servers) await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
