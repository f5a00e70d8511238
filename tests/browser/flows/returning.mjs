// A returning applicant: the official types the file number, the recorded entries come back into
// the form (not typed again), with the earlier examinations listed and openable. A number no file
// has: a new applicant's form under it, nothing of the applicant seen before kept (their entries,
// examinations, answer), but what the official typed for this number kept. A lookup that fails
// otherwise (the server's 503, the network) likewise: the failure said in words at the top of the
// screen, in the language shown, and nothing of the file seen before left as if it were this one.
import { openBrowser, signIn, switchLanguage, checkScreen, expect } from '../lib/harness.mjs';
import { sampleApplicants } from '../lib/applicants.mjs';

export const name = 'returning';

/** Looks up a file number; resolves once the screen is drawn again (a new message at its top),
 *  or, with `failing`, once a message is shown anywhere (the page's own slot or the status line). */
async function lookUp(page, id, { failing = false } = {}) {
  await page.evaluate(() => {
    document.querySelector('#main .flash')?.setAttribute('data-before', '');
    document.querySelector('#status .flash')?.setAttribute('data-before', '');
  });
  await page.fill('#lookup', id);
  await page.click('form.lookup button[type="submit"]');
  await page.waitForSelector(failing ? '#main .flash:not([data-before]), #status .flash:not([data-before])'
    : '#main .flash:not([data-before])');
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
}

/** Reads the decisions requested while `fn` runs (each an audited read of an applicant's). */
async function decisionReads(page, fn) {
  const reads = [];
  const onRequest = (r) => { if (/\/api\/v1\/decisions\//.test(new URL(r.url()).pathname)) reads.push(r.url()); };
  page.on('request', onRequest);
  try {
    await fn();
  } finally {
    page.off('request', onRequest);
  }
  return reads;
}

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang, { width: 1024, height: 800 });  // a smaller counter screen
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

    // An unknown number while the form holds the applicant just reloaded: said in words, and a
    // new applicant's form under that number, nothing of the other applicant's left in it (to
    // examine now would examine the other one again, or mix their facts).
    await page.click('a[href="#form"]');
    await page.waitForSelector('#lookup');
    expect((await page.inputValue('#f-id')) === record.id, `${lang}: the form no longer holds the reloaded applicant`);
    {
      // The answer left for the form is not read again in another language: only an answer on
      // screen is (each read is an audited read of the applicant's decision).
      const reads = [];
      const onRequest = (r) => { if (/\/api\/v1\/decisions\//.test(new URL(r.url()).pathname)) reads.push(r.url()); };
      page.on('request', onRequest);
      await switchLanguage(page, lang === 'fr' ? 'en' : 'fr');
      await switchLanguage(page, lang);
      page.off('request', onRequest);
      expect(reads.length === 0, `${lang}: on the form, a change of language read the answer left: ${reads.join(', ')}`);
    }
    const nobody = `NOBODY-${lang}`;
    await lookUp(page, nobody);
    expect((await page.textContent('.flash-error')).includes(cat['form.returning.not_found_new']),
      `${lang}: an unknown file number is not said in words, nor the new applicant's form`);
    expect((await page.inputValue('#f-id')) === nobody,
      `${lang}: after an unknown number the form's file number is "${await page.inputValue('#f-id')}", not ${nobody}`);
    expect((await page.inputValue('#f-birth_date')) === '', `${lang}: the other applicant's birth date stayed in the form`);
    expect((await page.inputValue('#f-household-annual_income')) === '', `${lang}: the other applicant's income stayed in the form`);
    expect((await page.inputValue('#f-status')) === '', `${lang}: the other applicant's status stayed in the form`);
    expect((await page.locator('.history').count()) === 0, `${lang}: the other applicant's examinations are still listed`);
    // Nor is the other applicant's answer kept: another language does not read it again (an
    // audited read of a file no longer at the counter).
    const reads = [];
    const onRequest = (r) => { if (/\/api\/v1\/decisions\//.test(new URL(r.url()).pathname)) reads.push(r.url()); };
    page.on('request', onRequest);
    const other = lang === 'fr' ? 'en' : 'fr';
    await switchLanguage(page, other);
    await switchLanguage(page, lang);
    page.off('request', onRequest);
    expect(reads.length === 0, `${lang}: after an unknown number, a change of language read the other applicant's answer: ${reads.join(', ')}`);
    expect((await page.inputValue('#f-id')) === nobody, `${lang}: the new applicant's number was lost with the language`);

    // An unknown number looked up while the form holds no file number (the official typed some
    // facts first): what was typed stays, under the number looked up.
    await page.click('#clear-form');
    await page.waitForSelector('#applicant-form');
    const typed = `NEWCOMER-${lang}`;
    await page.fill('#f-birth_date', '1990-04-02');
    await lookUp(page, typed);
    expect((await page.textContent('.flash-error')).includes(cat['form.returning.not_found']),
      `${lang}: an unknown file number is not said in words`);
    expect((await page.inputValue('#f-id')) === typed && (await page.inputValue('#f-birth_date')) === '1990-04-02',
      `${lang}: an unknown number looked up before the file number was typed: the form is not kept under it`);
    // And under the same number: what was typed stays.
    await page.fill('#f-birth_date', '1991-05-03');
    await lookUp(page, typed);
    expect((await page.inputValue('#f-id')) === typed && (await page.inputValue('#f-birth_date')) === '1991-05-03',
      `${lang}: the entries typed for the number looked up were lost`);

    // A lookup the server fails (503) while the form holds the applicant reloaded, their
    // examinations listed and their earlier answer opened: none of it is left under the number
    // looked up, as for an unknown number; the failure is said at the top of the screen.
    await lookUp(page, record.id);
    await page.waitForSelector('.history li button');
    await page.click('.history li button');
    await page.waitForSelector('main[data-screen="answer"]');
    await page.click('a[href="#form"]');
    await page.waitForSelector('#lookup');
    const unreadable = `UNREADABLE-${lang}`;
    const failing = `**/api/v1/applicants/${unreadable}/**`;
    await page.route(failing, (route) => route.fulfill({
      status: 503, contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 }),
    }));
    await lookUp(page, unreadable, { failing: true });
    expect((await page.locator('.history').count()) === 0,
      `${lang}: after a failed lookup (503), the previous applicant's examinations are still listed`);
    expect((await page.inputValue('#f-id')) === unreadable,
      `${lang}: after a failed lookup (503) the form's file number is "${await page.inputValue('#f-id')}", not ${unreadable}`);
    expect((await page.inputValue('#f-birth_date')) === '' && (await page.inputValue('#f-status')) === '',
      `${lang}: after a failed lookup (503), the previous applicant's entries stayed in the form`);
    expect((await page.inputValue('#lookup')) === unreadable, `${lang}: the number looked up left the lookup field`);
    const said = async (c) => {
      const f = await page.evaluate(() => {
        const el = document.querySelector('#main .flash-error');
        return el && { text: el.textContent, role: el.getAttribute('role') };
      });
      return f && f.text.includes(c['form.returning.failed_new']) && f.text.includes(c['error.server']) ? f : null;
    };
    const shown = await said(cat);
    expect(shown && shown.role === 'alert',
      `${lang}: the failed lookup (503) is not announced at the top of the screen, with what became of the form`);
    // In another language: said again in it, not announced again, and the previous applicant's
    // answer not read again (it is forgotten, as on an unknown number).
    const rereads = await decisionReads(page, async () => {
      await switchLanguage(page, other);
      const again = await said(ctx.catalogues[other]);
      expect(again && again.role === null, `${lang}: the failed lookup is not said again in ${other}, or announced again`);
      await switchLanguage(page, lang);
    });
    expect(rereads.length === 0,
      `${lang}: after a failed lookup, a change of language read the other applicant's answer: ${rereads.join(', ')}`);
    expect((await page.inputValue('#f-id')) === unreadable, `${lang}: the number looked up was lost with the language`);
    await checkScreen(ctx, page, lang, '09-returning-failed');
    await page.unroute(failing);

    // The network fails (no answer at all) while the form holds what the official typed for the
    // number: kept, under it, and the failure said in words.
    const errorsBefore = b.problems.length;
    await page.route(failing, (route) => route.abort('internetdisconnected'));
    await page.fill('#f-birth_date', '1992-06-04');
    await lookUp(page, unreadable, { failing: true });
    const net = await page.evaluate(() => document.querySelector('#main .flash-error')?.textContent || '');
    expect(net.includes(cat['form.returning.failed']) && net.includes(cat['error.network']),
      `${lang}: a lookup the network failed is not said at the top of the screen ("${net}")`);
    expect((await page.inputValue('#f-id')) === unreadable && (await page.inputValue('#f-birth_date')) === '1992-06-04',
      `${lang}: the entries typed for the number were lost when the network failed`);
    await page.unroute(failing);
    // Chromium logs the requests cut off on purpose.
    b.problems.splice(errorsBefore, Infinity,
      ...b.problems.slice(errorsBefore).filter((x) => !/net::ERR_INTERNET_DISCONNECTED/.test(x)));
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
