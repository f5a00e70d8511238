// Where the focus goes once a screen is drawn again (the screens are drawn after the schema is
// read, asynchronously): on the error summary after a failed check of the form, on the recorded
// review once recorded, and on it again after a 409 (a colleague recorded meanwhile): never left
// on the page's body, where a screen reader user or a keyboard user would have to start over.
import { openBrowser, signIn, switchLanguage, expect, PASSWORDS } from '../lib/harness.mjs';

export const name = 'focus';

async function active(page) {
  return page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
}

async function settled(page) {
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
  await page.waitForTimeout(200);
}

/** A colleague's session through the API (Node's fetch, cookie and CSRF token by hand). */
async function colleague(base, user) {
  const res = await fetch(`${base}/api/v1/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password: PASSWORDS[user] }),
  });
  expect(res.ok, `the colleague ${user} cannot sign in (${res.status})`);
  const me = await res.json();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return async (method, url, body) => {
    const r = await fetch(`${base}${url}`, {
      method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf, Cookie: cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    expect(r.ok, `the colleague's ${method} ${url} answered ${r.status}: ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  };
}

export async function run(ctx, lang) {
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);

    // A failed check of the form: the error summary has the focus.
    await page.click('#evaluate');
    await page.waitForSelector('#error-summary');
    await settled(page);
    let f = await active(page);
    expect(f === 'error-summary', `${lang}: after a failed check of the form the focus is on ${f}, not on the error summary`);

    await page.fill('#f-id', `FOCUS-${lang}`);
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');
    await settled(page);

    // Recorded: the recorded review has the focus.
    await page.click('#record-review');
    await page.waitForSelector('#recorded');
    await settled(page);
    f = await active(page);
    expect(f === 'recorded', `${lang}: after recording the focus is on ${f}, not on the recorded review`);

    // A colleague records a new version meanwhile: the 409, then the focus on the review shown.
    const decision = (await page.textContent('dl.meta dd:nth-of-type(3)')).trim();
    const api = await colleague(ctx.server.base, 'carol');
    const ev = await api('GET', `/api/v1/decisions/${encodeURIComponent(decision)}`);
    const latest = ev.reviews[ev.reviews.length - 1];
    await api('POST', `/api/v1/decisions/${encodeURIComponent(decision)}/review`, {
      supersedes: latest.review_id,
      decisions: latest.decisions.map((x) => ({ rule: x.rule, outcome: 'accepted', documents: x.documents })),
    });
    await page.click('#record-review');
    await page.waitForSelector('.flash-error');
    await settled(page);
    f = await active(page);
    expect(f === 'recorded', `${lang}: after a 409 the focus is on ${f}, not on the recorded review`);
    expect((await page.textContent('#recorded')).includes('carol'), `${lang}: the colleague's review is not shown after the 409`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
