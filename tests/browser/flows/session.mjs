// A shared counter PC: the session expires (the server runs with --session-idle 5; 2 s left a
// sign-in and a language change too little time on a loaded machine) and the page goes back to
// the sign-in screen with a message and nothing of the applicant left; a request whose CSRF
// token is wrong or missing is refused by the server and the page says so.
import { openBrowser, signIn, switchLanguage, checkScreen, expect } from '../lib/harness.mjs';

export const name = 'session';

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const base = ctx.shortServer.base;
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, base, 'alice');
    await switchLanguage(page, lang);
    const id = `EXPIRY-${lang}`;
    await page.fill('#f-id', id);
    await page.fill('#f-household-size', '4');
    await page.waitForTimeout(6500);  // past the 5 s idle expiry
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="signin"]');
    expect((await page.textContent('.flash-error')).includes(cat['signin.expired']),
      `${lang}: the expiry is not said on the sign-in screen`);
    const dom = await page.evaluate(() => document.body.innerHTML);
    expect(!dom.includes(id), `${lang}: the applicant's file number is still in the DOM after the expiry`);
    await checkScreen(ctx, page, lang, '11-session-expired');

    // CSRF, on the server with the ordinary expiry (the checks below take longer than 5 s): the
    // page's token replaced on the way out → 403, said in words.
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);
    await page.route('**/api/v1/evaluate', (route) => route.continue({
      headers: { ...route.request().headers(), 'x-csrf-token': 'forged-token-forged-token-forged' },
    }));
    await page.fill('#f-id', `CSRF-${lang}`);
    await page.click('#evaluate');
    await page.waitForSelector('#status [role="alert"]');
    expect((await page.textContent('#status')).includes(cat['error.csrf']),
      `${lang}: a refused CSRF token is not said in words`);
    await checkScreen(ctx, page, lang, '12-csrf-refused');
    await page.unroute('**/api/v1/evaluate');
    // Without the header at all (what a cross-site form could send): refused as well.
    const refused = await page.evaluate(async () => {
      const res = await fetch('/api/v1/evaluate', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ as_of: '2026-12-01', applicant: { id: 'NO-TOKEN' } }),
      });
      return { status: res.status, type: res.headers.get('Content-Type'), body: await res.json() };
    });
    expect(refused.status === 403, `${lang}: a POST without X-CSRF-Token got ${refused.status}, not 403`);
    // Its own problem type (RFC 9457), not the role's refusal.
    expect(refused.type.startsWith('application/problem+json') && refused.body.type === 'https://dalil.ma/problems/csrf',
      `${lang}: the CSRF refusal has the problem type ${refused.body.type}, not …/problems/csrf`);
    // The same request with the page's own token goes through: the refusal was the token's.
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');
  } finally {
    await b.close();
  }
}
