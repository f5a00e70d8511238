// A returning applicant: the official types the file number, the recorded entries come back into
// the form (not typed again), with the earlier examinations listed and openable.
import { openBrowser, signIn, switchLanguage, checkScreen, expect } from '../lib/harness.mjs';
import { sampleApplicants } from '../lib/applicants.mjs';

export const name = 'returning';

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);
    const [record] = sampleApplicants(ctx.root, lang);  // examined by the counter flow
    await page.fill('#lookup', record.id);
    await page.click('form.lookup button[type="submit"]');
    await page.waitForSelector('.history');
    expect((await page.inputValue('#f-id')) === record.id, `${lang}: the file number was not reloaded`);
    expect((await page.inputValue('#f-birth_date')) === record.birth_date, `${lang}: the birth date was not reloaded`);
    expect((await page.inputValue('#f-household-annual_income')) === record.household.annual_income,
      `${lang}: the income was not reloaded exactly`);
    expect((await page.inputValue('#f-status')) === record.status, `${lang}: the status was not reloaded`);
    const spouse = await page.isChecked('input[data-presence="spouse"][value="present"]');
    expect(spouse === Boolean(record.spouse), `${lang}: the spouse's presence was not reloaded`);
    if (record.spouse) {
      expect((await page.inputValue('#f-spouse-married_since')) === record.spouse.married_since,
        `${lang}: the spouse's record was not reloaded`);
    }
    const entries = await page.$$eval('.history li', (ls) => ls.length);
    expect(entries >= 1, `${lang}: the earlier examination is not listed`);
    expect((await page.textContent('.flash')).includes(cat['form.returning.loaded']), `${lang}: no "reloaded" message`);
    await checkScreen(ctx, page, lang, '09-returning');
    // The earlier examination opens with its recorded review.
    await page.click('.history li button');
    await page.waitForSelector('main[data-screen="answer"]');
    await page.waitForSelector('#recorded');
    await checkScreen(ctx, page, lang, '10-earlier-decision');

    // An unknown number: said in words.
    await page.click('a[href="#form"]');
    await page.waitForSelector('#lookup');
    await page.fill('#lookup', `NOBODY-${lang}`);
    await page.click('form.lookup button[type="submit"]');
    await page.waitForSelector('.flash-error');
    expect((await page.textContent('.flash-error')).includes(cat['form.returning.not_found']),
      `${lang}: an unknown file number is not said in words`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
