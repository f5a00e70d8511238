// Two officials review the same examination: the second one's review, based on a stale view,
// is refused (409); the page shows the other review and keeps the second official's choices,
// which then record as a new version.
import { openBrowser, signIn, expect } from '../lib/harness.mjs';
import { sampleApplicants } from '../lib/applicants.mjs';

export const name = 'conflict';

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const a = await openBrowser(lang);
  const c = await openBrowser(lang);
  try {
    const record = sampleApplicants(ctx.root, lang)[2];
    // Both open the last examination of the same applicant.
    for (const [b, user] of [[a, 'alice'], [c, 'carol']]) {
      await signIn(b.page, ctx.server.base, user);
      await b.page.selectOption('#ui-lang', lang);
      await b.page.waitForFunction((l) => document.documentElement.lang === l, lang);
      await b.page.fill('#lookup', record.id);
      await b.page.click('form.lookup button[type="submit"]');
      await b.page.waitForSelector('.history li button');
      await b.page.locator('.history li button').last().click();
      await b.page.waitForSelector('main[data-screen="answer"]');
    }
    await a.page.click('#record-review');
    await a.page.waitForSelector('#recorded');
    await c.page.locator('article.decision').first().locator('input[value="overridden"]').check();
    const rule = await c.page.locator('article.decision').first().getAttribute('data-rule');
    const id = rule.replace(/[^A-Za-z0-9_-]/g, '-');
    const options = await c.page.$$eval(`#value-${id} option`, (os) => os.map((o) => o.value).filter((v) => v !== ''));
    await c.page.selectOption(`#value-${id}`, options[options.length - 1]);
    await c.page.fill(`#reason-${id}`, 'second reading');
    await c.page.click('#record-review');
    await c.page.waitForSelector('.flash-error');
    expect((await c.page.textContent('.flash-error')).includes(cat['review.conflict']),
      `${lang}: the 409 "reviewed meanwhile" case is not said`);
    expect((await c.page.textContent('#recorded')).includes('alice'), `${lang}: the other official's review is not shown`);
    expect((await c.page.inputValue(`#reason-${id}`)) === 'second reading', `${lang}: the second official's reason was lost`);
    await c.page.click('#record-review');
    await c.page.waitForFunction(() => document.querySelector('#recorded')?.textContent.includes('carol'));
    const reviews = await c.page.evaluate(async () => {
      const id = document.querySelector('dl.meta dd:nth-of-type(3)').textContent.trim();
      return (await (await fetch(`/api/v1/decisions/${encodeURIComponent(id)}`)).json()).reviews;
    });
    expect(reviews.length >= 2 && reviews[reviews.length - 1].user === 'carol',
      `${lang}: the second official's review was not recorded after the conflict`);
    expect(a.problems.length === 0 && c.problems.length === 0, `${lang}: ${[...a.problems, ...c.problems].join('; ')}`);
  } finally {
    await a.close();
    await c.close();
  }
}
