// The answer is read with the schema of the pack that decided it. A server that serves its store's
// publications decides by the one in effect on the answer's as-of date, which need not be today's
// (and an answer opened from the history may be older than a publication since): the values a
// review may give (an enumeration's cases) and their words are that pack's (the server refuses
// another pack's). Here the schema of today is made to name another pack (its hash changed on the
// way), and the schema of the answer's ruleset to give one case its own words: the answer must ask
// for that schema, by the hash the answer names, and offer those words.
import { openBrowser, signIn, switchLanguage, expect } from '../lib/harness.mjs';

export const name = 'pack';

export async function run(ctx, lang) {
  const b = await openBrowser(lang);
  const { page } = b;
  const asked = [];
  let marked = null;
  try {
    await page.route((url) => url.pathname === '/api/v1/schema' && !url.searchParams.has('ruleset'),
      async (route) => {
        const response = await route.fetch();
        const json = await response.json();
        json.ruleset = { ...json.ruleset, hash: 'a-later-pack' };
        await route.fulfill({ response, json });
      });
    await page.route((url) => url.pathname === '/api/v1/schema' && url.searchParams.has('ruleset'),
      async (route) => {
        const hash = new URL(route.request().url()).searchParams.get('ruleset');
        asked.push(hash);
        const response = await route.fetch();
        const json = await response.json();
        const d = (json.decisions || []).find((x) => (x.cases || []).length > 0);
        if (d) {
          marked = d.rule;
          d.cases[0] = { ...d.cases[0], label: `PACK-${hash.slice(0, 12)}` };
        }
        await route.fulfill({ response, json });
      });
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);
    await page.fill('#f-id', `PACK-${lang}`);
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');

    const answered = await page.evaluate(() => document.querySelector('dl.meta')?.textContent || '');
    expect(asked.length > 0 && /^[0-9a-f]{64}$/.test(asked[0]) && answered.includes(asked[0].slice(0, 12)),
      `${lang}: the answer of another pack than today's did not ask for the schema of its own ruleset (${JSON.stringify(asked)})`);
    expect(marked !== null, `${lang}: the pack has no decision of an enumeration to check the override's words with`);
    const article = page.locator(`article.decision[data-rule="${marked}"]`);
    await article.locator('input[value="overridden"]').check();
    const rid = marked.replace(/[^A-Za-z0-9_-]/g, '-');
    const labels = await page.$$eval(`#value-${rid} option`, (os) => os.map((o) => o.textContent));
    expect(labels.includes(`PACK-${asked[0].slice(0, 12)}`),
      `${lang}: the override of ${marked} does not offer the words of the pack that decided it: ${JSON.stringify(labels)}`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
