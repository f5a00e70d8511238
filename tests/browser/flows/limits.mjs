// The server's limits on the official's words (a reason: 4096 bytes; the observations: 16384
// bytes, in UTF-8, so an Arabic letter counts twice): said up front, checked as the official types
// (in bytes, not characters), and a refusal by the server (400, errors[].pointer) shown at the
// field its pointer names, not as a message about the whole review.
import { openBrowser, signIn, switchLanguage, checkScreen, expect } from '../lib/harness.mjs';

export const name = 'limits';

const parts = (message) => message.split(/\{\w+\}/).map((x) => x.trim()).filter((x) => x.length >= 4);
function says(text, message) {
  return parts(message).every((p) => text.includes(p));
}
/** Numbers as written in the language (4.096 in fr-MA, 4,096 in English): compared without the group separators. */
const digits = (text) => String(text).replace(/[\s\u00a0\u202f,.]/g, '');

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);
    await page.fill('#f-id', `LIMITS-${lang}`);
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    let posts = 0;
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/review')) posts += 1; });

    const article = page.locator('article.decision').first();
    const rule = await article.getAttribute('data-rule');
    const rid = rule.replace(/[^A-Za-z0-9_-]/g, '-');
    await article.locator('input[value="overridden"]').check();
    const options = await page.$$eval(`#value-${rid} option`, (os) => os.map((o) => o.value).filter((v) => v !== ''));
    await page.selectOption(`#value-${rid}`, options[0]);

    // The limits are said before anything is typed, tied to their fields.
    const reasonHelp = await page.evaluate((i) => {
      const el = document.getElementById(i);
      return (el.getAttribute('aria-describedby') || '').split(' ').map((x) => document.getElementById(x)?.textContent || '').join(' ');
    }, `reason-${rid}`);
    expect(digits(reasonHelp).includes('4096') && says(reasonHelp, cat['review.limit']),
      `${lang}: the reason's limit (4096 bytes) is not said at the field: "${reasonHelp}"`);
    const obsHelp = await page.evaluate(() => {
      const el = document.getElementById('observations');
      return (el.getAttribute('aria-describedby') || '').split(' ').map((x) => document.getElementById(x)?.textContent || '').join(' ');
    });
    expect(digits(obsHelp).includes('16384') && says(obsHelp, cat['review.limit']),
      `${lang}: the observations' limit (16384 bytes) is not said at the field: "${obsHelp}"`);

    // 2100 Arabic letters: under 4096 characters, but 4200 bytes. Said as it is typed, and the
    // review is not sent.
    await page.fill(`#reason-${rid}`, 'ض'.repeat(2100));
    expect(await page.isVisible(`#reason-${rid}-err`), `${lang}: a reason of 4200 bytes is not flagged as it is typed`);
    const tooLong = await page.textContent(`#reason-${rid}-err`);
    expect(says(tooLong, cat['review.too_long']) && digits(tooLong).includes('4200'),
      `${lang}: the reason's message does not say it is too long in bytes: "${tooLong}"`);
    expect((await page.getAttribute(`#reason-${rid}`, 'aria-invalid')) === 'true', `${lang}: the long reason is not marked invalid`);
    await page.click('#record-review');
    await page.waitForTimeout(300);
    expect(posts === 0, `${lang}: a reason over the limit was sent to the server`);
    let focused = await page.evaluate(() => document.activeElement?.id);
    expect(focused === `reason-${rid}`, `${lang}: the focus is on ${focused}, not on the reason over the limit`);
    // Shortened: the message goes.
    await page.fill(`#reason-${rid}`, 'ض'.repeat(2000));
    expect(!(await page.isVisible(`#reason-${rid}-err`)), `${lang}: the message stays once the reason fits`);
    await page.fill(`#reason-${rid}`, 'reason that fits');
    await page.fill('#observations', 'short observations');

    // The server's own refusal (the texts made too long on the way out, past the page's check):
    // each message at the field its errors[].pointer names.
    await page.route('**/api/v1/decisions/*/review', (route) => {
      const body = JSON.parse(route.request().postData());
      body.decisions.find((x) => x.rule === rule).reason = 'x'.repeat(5000);
      body.observations = 'y'.repeat(17000);
      return route.continue({ postData: JSON.stringify(body) });
    });
    await page.click('#record-review');
    await page.waitForSelector('.flash-error');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    await page.unroute('**/api/v1/decisions/*/review');
    expect((await page.textContent('.flash-error')).includes(cat['review.refused']), `${lang}: the refusal is not said`);
    expect(await page.isVisible(`#reason-${rid}-err`), `${lang}: the server's refusal of the reason is not shown at the reason`);
    expect(says(await page.textContent(`#reason-${rid}-err`), cat['review.error.server_text']),
      `${lang}: the reason's message is not the server's refusal`);
    expect((await page.getAttribute(`#reason-${rid}`, 'aria-invalid')) === 'true', `${lang}: the refused reason is not marked invalid`);
    expect(await page.isVisible('#observations-err'), `${lang}: the server's refusal of the observations is not shown at them`);
    expect(says(await page.textContent('#observations-err'), cat['review.error.server_text']),
      `${lang}: the observations' message is not the server's refusal`);
    expect((await page.getAttribute('#observations', 'aria-invalid')) === 'true', `${lang}: the refused observations are not marked invalid`);
    // The entries are still there, and the focus is on the first field refused.
    expect((await page.inputValue(`#reason-${rid}`)) === 'reason that fits', `${lang}: the reason was lost at the refusal`);
    focused = await page.evaluate(() => document.activeElement?.id);
    expect(focused === `reason-${rid}`, `${lang}: after the refusal the focus is on ${focused || 'the body'}, not on the refused reason`);
    await checkScreen(ctx, page, lang, '13-review-refused');
    // Corrected (the texts as typed): recorded.
    await page.click('#record-review');
    await page.waitForSelector('#recorded');
    expect((await page.textContent('#recorded')).includes('reason that fits'), `${lang}: the corrected review was not recorded`);
    expect(!(await page.isVisible('.flash-error')), `${lang}: the refusal stays shown once recorded`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
