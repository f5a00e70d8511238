// Messages and a change of language: the screen is drawn again as it was, in the new language.
// A message still on it (a refused sign-in, a field's error found by the page) is said again in
// that language, its numbers written as that language writes them, and not announced again (a
// live region inserted anew is read out anew); a message withdrawn (the field corrected) does
// not come back, nor one given for another screen (a refused sign-in, "signed out", is not said
// on the form once signed in, in the user's own language). Too many sign-ins (429 and
// Retry-After): the seconds to wait, reckoned from the deadline whenever drawn (in another
// language too), counted down each second without being announced again, and the end of the
// wait said.
import {
  openBrowser, switchLanguage, expect, PASSWORDS, LOCALES,
} from '../lib/harness.mjs';

export const name = 'messages';

async function settled(page) {
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
}

/** The first literal piece of a catalogue message (its placeholders cut out). */
const piece = (message) => message.split(/\{\w+\}/)[0].trim();

/** The flash's number (the seconds to wait), its live role, and whether it is in a live region. */
function countdownOf(page) {
  return page.evaluate(() => {
    const f = document.querySelector('#main .flash');
    const m = f && /\d+/.exec(f.textContent);
    return f && {
      text: f.textContent,
      seconds: m ? Number(m[0]) : null,
      role: f.getAttribute('role'),
      live: Boolean(f.closest('[role="alert"], [role="status"], [role="log"], [aria-live]:not([aria-live="off"])')),
    };
  });
}

/** Waits until `fn(arg)` holds in the page; false instead of a timeout's exception. */
async function until(page, fn, arg, timeout) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 50 });
    return true;
  } catch {
    return false;
  }
}

/** The flash at the top of the screen: its words and its live role, or null. */
function flashOf(page) {
  return page.evaluate(() => {
    const f = document.querySelector('#main .flash');
    return f && { text: f.textContent, role: f.getAttribute('role') };
  });
}

async function signInHere(page, user) {
  await page.fill('#user', user);
  await page.fill('#password', PASSWORDS[user]);
  await page.click('main form button[type="submit"]');
  await page.waitForSelector('main[data-screen="form"]');
  await settled(page);
}

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const other = { fr: 'en', ar: 'fr', en: 'ar' }[lang];
  const ocat = ctx.catalogues[other];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await page.goto(`${ctx.server.base}/`);
    await page.waitForSelector('main[data-screen="signin"]');
    if (lang !== 'fr') await switchLanguage(page, lang);

    // Too many sign-ins (the server's 429, here answered for it, with Retry-After).
    const WAIT_S = 5;
    await page.route('**/api/v1/login', (route) => route.fulfill({
      status: 429, headers: { 'Retry-After': String(WAIT_S) }, contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'https://dalil.ma/problems/too-many-requests', title: 'Too many attempts', status: 429 }),
    }), { times: 1 });
    await page.fill('#user', 'alice');
    await page.fill('#password', 'not-the-password');
    await page.click('main form button[type="submit"]');
    await page.waitForFunction((words) => document.querySelector('#main .flash-error')?.textContent.includes(words),
      piece(cat['signin.rate_limited']));
    const shownAt = Date.now();  // the deadline is at most WAIT_S from here
    let c = await countdownOf(page);
    expect(c.role === 'alert' && (c.seconds === WAIT_S || c.seconds === WAIT_S - 1),
      `${lang}: the wait is not announced with its ${WAIT_S} seconds (${JSON.stringify(c)})`);
    // Another language a little later: the seconds left then, not those of the first drawing.
    await page.waitForTimeout(1200);
    const before = Date.now();
    await switchLanguage(page, other);
    c = await countdownOf(page);
    const bound = Math.ceil((shownAt + WAIT_S * 1000 - before) / 1000);
    expect(c.text.includes(piece(ocat['signin.rate_limited'])) && c.seconds !== null && c.seconds <= bound,
      `${lang}: in ${other}, the wait says ${c.seconds} seconds, more than the ${bound} left (${c.text})`);
    expect(c.role === null, `${lang}: the wait is announced again after the change of language (role ${c.role})`);
    // And counted down while shown, not announced again each second.
    const from = c.seconds;
    expect(await until(page, (n) => {
      const m = /\d+/.exec(document.querySelector('#main .flash')?.textContent || '');
      return m && Number(m[0]) < n;
    }, from, 1600), `${lang}: the seconds to wait are not counted down (still ${from})`);
    c = await countdownOf(page);
    expect(!c.live, `${lang}: the count of seconds is in a live region, announced again each second (role ${c.role})`);
    // The wait over: said (announced), in the language shown.
    expect(await until(page, (words) => document.querySelector('#main .flash')?.textContent.includes(words),
      ocat['signin.rate_limit_over'], WAIT_S * 1000 + 1000), `${lang}: the end of the wait is not said`);
    c = await countdownOf(page);
    expect(c.role === 'status', `${lang}: the end of the wait is not announced (role ${c.role})`);
    await switchLanguage(page, lang);
    expect((await countdownOf(page)).text.includes(cat['signin.rate_limit_over']),
      `${lang}: the end of the wait is not said again in ${lang}`);

    // A refused sign-in, then another language on the sign-in screen: said again, in it.
    await page.fill('#user', 'alice');
    await page.fill('#password', 'not-the-password');
    await page.click('main form button[type="submit"]');
    await page.waitForSelector('.flash-error');
    let f = await flashOf(page);
    expect(f.text.includes(cat['signin.refused']) && f.role === 'alert', `${lang}: the refused sign-in is not announced (${JSON.stringify(f)})`);
    await switchLanguage(page, other);
    f = await flashOf(page);
    expect(f && f.text.includes(ocat['signin.refused']), `${lang}: the refused sign-in is not said again in ${other}`);
    expect(f.role === null, `${lang}: the refused sign-in is announced again after the change of language (role ${f.role})`);
    // Signed in on this page (in the language chosen): the refusal was the sign-in screen's.
    await signInHere(page, 'alice');
    f = await flashOf(page);
    expect(f === null, `${lang}: once signed in, the form says "${f?.text}"`);
    await switchLanguage(page, lang);
    expect((await flashOf(page)) === null, `${lang}: the refused sign-in came back with the change of language`);

    // The page's own refusals of a review, then another language: each still at its field, in
    // that language; the one corrected meanwhile does not come back.
    await page.fill('#f-id', `MESSAGES-${lang}`);
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');
    await settled(page);
    const article = page.locator('article.decision').first();
    const rule = await article.getAttribute('data-rule');
    const id = rule.replace(/[^A-Za-z0-9_-]/g, '-');
    await article.locator('input[value="overridden"]').check();
    await page.click('#record-review');
    expect(await page.isVisible(`#value-${id}-err`) && await page.isVisible(`#reason-${id}-err`),
      `${lang}: an override without a value and a reason was not stopped`);
    // And observations over their limit (16384 bytes): 8200 Arabic letters, 16400 bytes.
    await page.fill('#observations', 'ض'.repeat(8200));
    expect(await page.isVisible('#observations-err'), `${lang}: observations over their limit are not flagged`);
    await switchLanguage(page, other);
    const shown = async (sel) => (await page.isVisible(sel) ? page.textContent(sel) : null);
    const value = await shown(`#value-${id}-err`);
    const reason = await shown(`#reason-${id}-err`);
    expect(value && value.includes(ocat['review.value_required']),
      `${lang}: the missing decision is not said again in ${other} (${value})`);
    expect(reason && reason.includes(ocat['review.reason_required']),
      `${lang}: the missing reason is not said again in ${other} (${reason})`);
    expect((await page.getAttribute(`#value-${id}`, 'aria-invalid')) === 'true'
      && (await page.getAttribute(`#reason-${id}`, 'aria-invalid')) === 'true',
    `${lang}: the fields refused are no longer marked in ${other}`);
    const count = (n) => page.evaluate(([l, x]) => new Intl.NumberFormat(l, { numberingSystem: 'latn' }).format(x), [LOCALES[other], n]);
    const obs = await shown('#observations-err');
    const words = ocat['review.too_long'].split(/\{\w+\}/).map((x) => x.trim()).filter((x) => x.length >= 4);
    expect(obs && words.every((w) => obs.includes(w)) && obs.includes(await count(16400)) && obs.includes(await count(16384)),
      `${lang}: the observations' length is not said again in ${other}, its numbers as ${other} writes them (${obs})`);
    // The reason typed: its message withdrawn, and not back with the next language.
    await page.fill(`#reason-${id}`, 'typed');
    expect(!(await page.isVisible(`#reason-${id}-err`)), `${lang}: the reason's message stays once typed`);
    await switchLanguage(page, lang);
    expect(!(await page.isVisible(`#reason-${id}-err`)), `${lang}: the reason's message came back with the change of language`);
    expect((await page.getAttribute(`#reason-${id}`, 'aria-invalid')) === null, `${lang}: the typed reason is marked again`);
    expect(((await shown(`#value-${id}-err`)) || '').includes(cat['review.value_required']),
      `${lang}: the missing decision is not said again in ${lang}`);

    // Signed out, then in again on this page: "signed out" was the sign-in screen's.
    await page.click('#sign-out');
    await page.waitForSelector('main[data-screen="signin"]');
    expect(((await flashOf(page))?.text || '').includes(cat['signin.signed_out']), `${lang}: signing out is not said`);
    await signInHere(page, 'alice');
    f = await flashOf(page);
    expect(f === null, `${lang}: once signed in again, the form says "${f?.text}"`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
