// One request at a time: a double click (or Enter pressed twice) on "examine" or "record" sends
// one request, not two (two reviews with the same `supersedes` answer 201 then 409, and the
// official would be told a colleague intervened when nobody did); while the request is in
// flight its button says so (aria-busy, aria-disabled) and the focus stays on it.
import { openBrowser, signIn, switchLanguage, expect } from '../lib/harness.mjs';

export const name = 'busy';

/** Holds every matching request `ms` before letting it through; counts them. */
async function slow(page, pattern, ms) {
  const seen = { n: 0 };
  await page.route(pattern, async (route) => {
    if (route.request().method() === 'POST') seen.n += 1;
    await new Promise((r) => setTimeout(r, ms));
    await route.continue();
  });
  return seen;
}

async function busyState(page, id) {
  return page.evaluate((i) => {
    const el = document.getElementById(i);
    return el && { busy: el.getAttribute('aria-busy'), disabled: el.getAttribute('aria-disabled') };
  }, id);
}

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);

    // "Examine", clicked twice.
    const evaluations = await slow(page, '**/api/v1/evaluate', 1200);
    await page.fill('#f-id', `BUSY-${lang}`);
    await page.dblclick('#evaluate');
    await page.waitForTimeout(300);
    const during = await busyState(page, 'evaluate');
    expect(during && during.busy === 'true' && during.disabled === 'true',
      `${lang}: "examine" does not show it is busy while the evaluation is in flight (${JSON.stringify(during)})`);
    await page.waitForSelector('main[data-screen="answer"]');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    await page.waitForTimeout(1500);  // a second request, if any, would have arrived by now
    expect(evaluations.n === 1, `${lang}: a double click on "examine" sent ${evaluations.n} evaluations`);
    await page.unroute('**/api/v1/evaluate');

    // "Record", clicked twice.
    const reviews = await slow(page, '**/api/v1/decisions/*/review', 1200);
    await page.dblclick('#record-review');
    await page.waitForTimeout(300);
    const recording = await busyState(page, 'record-review');
    expect(recording && recording.busy === 'true' && recording.disabled === 'true',
      `${lang}: "record" does not show it is busy while the review is in flight (${JSON.stringify(recording)})`);
    await page.waitForSelector('#recorded');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    await page.waitForTimeout(1500);
    expect(reviews.n === 1, `${lang}: a double click on "record" sent ${reviews.n} reviews`);
    expect(!(await page.isVisible('.flash-error')), `${lang}: a double click on "record" shows an error: ${
      await page.textContent('.flash-error').catch(() => '')}`);
    expect((await page.textContent('.flash')).includes(cat['review.recorded']), `${lang}: the review is not said recorded`);
    await page.unroute('**/api/v1/decisions/*/review');
    const stored = await page.evaluate(async () => {
      const id = document.querySelector('dl.meta dd:nth-of-type(3)').textContent.trim();
      return (await (await fetch(`/api/v1/decisions/${encodeURIComponent(id)}`)).json()).reviews.length;
    });
    expect(stored === 1, `${lang}: ${stored} reviews stored for one double click`);

    // Another language chosen whose explanations cannot be read (the store unavailable): the
    // screen is drawn in it all the same (its answer without the explanations) and the error is
    // said; not a selector naming a language the screen is not in.
    const other = lang === 'fr' ? 'en' : 'fr';
    const unread = (url) => url.pathname.startsWith('/api/v1/decisions/') && url.searchParams.has('lang');
    await page.route(unread, (route) => route.fulfill({
      status: 503,
      contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'about:blank', title: 'Service unavailable', status: 503 }),
    }));
    const logged = b.problems.length;
    await page.selectOption('#ui-lang', other);
    await page.waitForSelector('.flash-error');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    const drawn = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      main: document.querySelector('main').textContent,
      error: document.querySelector('.flash-error').textContent,
    }));
    const words = ctx.catalogues[other];
    expect(drawn.lang === other && drawn.main.includes(words['answer.heading']),
      `${lang}: ${other} chosen and its explanations unread, the answer is not drawn in ${other}`);
    expect(drawn.error.includes(words['error.server']), `${lang}: the failed read is not said in ${other}: "${drawn.error}"`);
    // The page logs the failed read (the 503's title): that line alone is expected here.
    const switching = b.problems.splice(logged);
    b.problems.push(...switching.filter((m) => !/^console: .*Service unavailable/s.test(m)));
    await page.unroute(unread);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
