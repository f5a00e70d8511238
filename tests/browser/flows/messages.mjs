// Messages and a change of language: the screen is drawn again as it was, in the new language.
// A message still on it (a refused sign-in, a field's error found by the page) is said again in
// that language, its numbers written as that language writes them, and not announced again (a
// live region inserted anew is read out anew); a message withdrawn (the field corrected) does
// not come back, nor one given for another screen (a refused sign-in, "signed out", is not said
// on the form once signed in, in the user's own language).
import {
  openBrowser, switchLanguage, expect, PASSWORDS, LOCALES,
} from '../lib/harness.mjs';

export const name = 'messages';

async function settled(page) {
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
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
