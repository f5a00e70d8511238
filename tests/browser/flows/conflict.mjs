// Two officials review the same examination: the second one's review, based on a stale view,
// is refused (409); the page shows the other review, names the programmes the other official
// changed, keeps the second official's own changes and takes up the other official's decisions
// on the programmes the second one never touched, so that recording again reverts nothing.
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
      // The language is stored slowly, as by a busy server: the page stays busy until it is
      // drawn again in it, so the lookup below is not typed into a screen about to be replaced
      // (a race that erased it, most often in fr, the language the page already had).
      await b.page.route('**/api/v1/session/lang', async (route) => {
        await new Promise((resolve) => { setTimeout(resolve, 400); });
        await route.continue();
      });
      await b.page.selectOption('#ui-lang', lang);
      expect(await b.page.getAttribute('main', 'aria-busy') === 'true',
        `${lang}: the page is not busy while its language is being stored`);
      await b.page.waitForFunction((l) => document.documentElement.lang === l
        && document.querySelector('main')?.getAttribute('aria-busy') === 'false', lang);
      await b.page.fill('#lookup', record.id);
      await b.page.click('form.lookup button[type="submit"]');
      await b.page.waitForSelector('.history li button');
      await b.page.locator('.history li button').last().click();
      await b.page.waitForSelector('main[data-screen="answer"]');
    }
    // Alice decides otherwise on the second programme and records first.
    const other = a.page.locator('article.decision').nth(1);
    const otherRule = await other.getAttribute('data-rule');
    const oid = otherRule.replace(/[^A-Za-z0-9_-]/g, '-');
    await other.locator('input[value="overridden"]').check();
    const otherValue = (await a.page.$$eval(`#value-${oid} option`, (os) => os.map((o) => o.value).filter((v) => v !== '')))[0];
    await a.page.selectOption(`#value-${oid}`, otherValue);
    await a.page.fill(`#reason-${oid}`, 'first reading');
    await a.page.click('#record-review');
    await a.page.waitForSelector('#recorded');
    // Carol, on her stale screen, decides otherwise on the first programme only.
    await c.page.locator('article.decision').first().locator('input[value="overridden"]').check();
    const rule = await c.page.locator('article.decision').first().getAttribute('data-rule');
    const id = rule.replace(/[^A-Za-z0-9_-]/g, '-');
    const options = await c.page.$$eval(`#value-${id} option`, (os) => os.map((o) => o.value).filter((v) => v !== ''));
    await c.page.selectOption(`#value-${id}`, options[options.length - 1]);
    await c.page.fill(`#reason-${id}`, 'second reading');
    await c.page.click('#record-review');
    await c.page.waitForSelector('.flash-error');
    await c.page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    const flash = await c.page.textContent('.flash-error');
    for (const part of cat['review.conflict'].split(/\{\w+\}/).map((x) => x.trim()).filter((x) => x.length > 4)) {
      expect(flash.includes(part), `${lang}: the 409 "reviewed meanwhile" case is not said ("${part}" missing)`);
    }
    expect(flash.includes('alice'), `${lang}: the 409 message does not name the other official`);
    // The programme Alice changed is named, the one only Carol changed is not.
    const otherTitle = (await c.page.textContent(`#title-${oid}`)).trim();
    const ownTitle = (await c.page.textContent(`#title-${id}`)).trim();
    expect(flash.includes(otherTitle), `${lang}: the programme the other official changed (${otherTitle}) is not named`);
    expect(!flash.includes(ownTitle), `${lang}: a programme the other official did not change (${ownTitle}) is named`);
    expect((await c.page.textContent('#recorded')).includes('alice'), `${lang}: the other official's review is not shown`);
    // Carol's own change is kept…
    expect(await c.page.isChecked(`article[data-rule="${rule}"] input[value="overridden"]`),
      `${lang}: the second official's override was lost`);
    expect((await c.page.inputValue(`#reason-${id}`)) === 'second reading', `${lang}: the second official's reason was lost`);
    // …and the programme she never touched now shows Alice's decision, not the stale one.
    expect(await c.page.isChecked(`article[data-rule="${otherRule}"] input[value="overridden"]`),
      `${lang}: the other official's override is not taken up on the programme the second official never touched`);
    expect((await c.page.inputValue(`#reason-${oid}`)) === 'first reading',
      `${lang}: the other official's reason is not taken up`);
    expect((await c.page.textContent(`article[data-rule="${otherRule}"]`)).includes('alice'),
      `${lang}: the programme the other official changed does not say so`);
    // The focus lands on the recorded review, not on the page's body.
    const focused = await c.page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    expect(focused === 'recorded', `${lang}: after the 409 the focus is on ${focused}, not on the recorded review`);
    await c.page.click('#record-review');
    await c.page.waitForFunction(() => document.querySelector('#recorded')?.textContent.includes('carol'));
    const reviews = await c.page.evaluate(async () => {
      const id = document.querySelector('dl.meta dd:nth-of-type(3)').textContent.trim();
      return (await (await fetch(`/api/v1/decisions/${encodeURIComponent(id)}`)).json()).reviews;
    });
    expect(reviews.length >= 2 && reviews[reviews.length - 1].user === 'carol',
      `${lang}: the second official's review was not recorded after the conflict`);
    const last = reviews[reviews.length - 1].decisions;
    const mine = last.find((x) => x.rule === rule);
    const theirs = last.find((x) => x.rule === otherRule);
    expect(mine.outcome === 'overridden' && mine.reason === 'second reading',
      `${lang}: the second official's override is not in the new version (${JSON.stringify(mine)})`);
    expect(theirs.outcome === 'overridden' && theirs.reason === 'first reading' && JSON.stringify(theirs.value) === otherValue,
      `${lang}: the new version silently reverted the other official's override (${JSON.stringify(theirs)})`);
    expect(a.problems.length === 0 && c.problems.length === 0, `${lang}: ${[...a.problems, ...c.problems].join('; ')}`);
  } finally {
    await a.close();
    await c.close();
  }
}
