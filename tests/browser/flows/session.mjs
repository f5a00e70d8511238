// A shared counter PC: the session expires (the server runs with --session-idle 6; 2 s left a
// sign-in and a language change too little time on a loaded machine) and the page goes back to
// the sign-in screen with a message and nothing of the applicant on it: warned at half the idle
// time (3 s after the page's last request), which nobody answers here, the page asks the server
// past the idle expiry and its 401 does the rest (flow `warning` answers the warning). The official's work is
// kept in the page's memory meanwhile (never in the browser's storage): the same official signing
// in again finds the form, the answer and the draft decisions (values, reasons, observations)
// where they left them and records them; another official signing in, or a reload, finds nothing.
// A request whose CSRF token is wrong or missing is refused by the server and the page says so.
import { openBrowser, signIn, switchLanguage, checkScreen, expect, PASSWORDS } from '../lib/harness.mjs';

export const name = 'session';

/** The official leaves the work as it is: the warning comes, nobody answers it, and the page
 *  goes back to the sign-in screen by itself (about 7 s after its last request). */
async function leaveIdle(page, lang) {
  await page.waitForSelector('#session-warning[open]', { timeout: 10000 });
  expect(await page.getAttribute('#session-warning', 'role') === 'alertdialog', `${lang}: the warning is not an alertdialog`);
  await page.waitForSelector('main[data-screen="signin"]', { timeout: 10000 });
}

/** Signs in on the sign-in screen already shown (no reload: a reload wipes the page's memory). */
async function signInHere(page, user) {
  await page.waitForSelector('main[data-screen="signin"]');
  await page.fill('#user', user);
  await page.fill('#password', PASSWORDS[user]);
  await page.click('main form button[type="submit"]');
  await page.waitForSelector('main[data-screen="form"], main[data-screen="answer"], main[data-screen="figures"]');
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
}

async function expectExpired(page, lang, cat, secrets) {
  await page.waitForSelector('main[data-screen="signin"]');
  expect((await page.textContent('.flash-error')).includes(cat['signin.expired']),
    `${lang}: the expiry is not said on the sign-in screen`);
  const dom = await page.evaluate(() => document.body.innerHTML + document.body.innerText);
  for (const s of secrets) expect(!dom.includes(s), `${lang}: "${s}" is still in the DOM after the expiry`);
  const storage = await page.evaluate(() => localStorage.length + sessionStorage.length);
  expect(storage === 0, `${lang}: the page wrote to localStorage or sessionStorage`);
}

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const base = ctx.shortServer.base;
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, base, 'alice');
    await switchLanguage(page, lang);

    // 1. On the answer: an override with its reason and observations, then the session expires
    // before "record" is clicked.
    const id = `EXPIRY-${lang}`;
    await page.fill('#f-id', id);
    await page.fill('#f-household-size', '4');
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    const article = page.locator('article.decision').first();
    const rule = await article.getAttribute('data-rule');
    const rid = rule.replace(/[^A-Za-z0-9_-]/g, '-');
    await article.locator('input[value="overridden"]').check();
    const options = await page.$$eval(`#value-${rid} option`, (os) => os.map((o) => o.value).filter((v) => v !== ''));
    const value = options[options.length - 1];
    await page.selectOption(`#value-${rid}`, value);
    const reason = `kept across the expiry ${lang}`;
    const observations = `observation kept ${lang}`;
    await page.fill(`#reason-${rid}`, reason);
    await page.fill('#observations', observations);
    await leaveIdle(page, lang);
    await expectExpired(page, lang, cat, [id, reason, observations]);
    await checkScreen(ctx, page, lang, '11-session-expired');

    // The same official signs in again: back on the answer, every entry as it was.
    await signInHere(page, 'alice');
    expect(await page.isVisible('main[data-screen="answer"]'), `${lang}: the same official is not back on the answer`);
    expect((await page.textContent('.flash')).includes(cat['signin.restored']), `${lang}: the restoration is not said`);
    expect((await page.textContent('dl.meta')).includes(id), `${lang}: the restored answer is not the applicant's`);
    expect(await page.isChecked(`article[data-rule="${rule}"] input[value="overridden"]`),
      `${lang}: the override's choice was lost at the expiry`);
    expect((await page.inputValue(`#value-${rid}`)) === value, `${lang}: the override's value was lost at the expiry`);
    expect((await page.inputValue(`#reason-${rid}`)) === reason, `${lang}: the override's reason was lost at the expiry`);
    expect((await page.inputValue('#observations')) === observations, `${lang}: the observations were lost at the expiry`);
    // (No checkScreen here: axe takes longer than the 6 s idle expiry on a loaded machine.)
    await page.click('#record-review');
    await page.waitForSelector('#recorded');
    expect((await page.textContent(`#recorded li[data-rule="${rule}"]`)).includes(reason),
      `${lang}: the restored override was not recorded`);
    expect((await page.textContent('#recorded')).includes(observations), `${lang}: the restored observations were not recorded`);

    // 2. On the form: entries typed, the session expires, another official signs in: nothing of
    // the first one's work comes back.
    await page.click('text=' + cat['answer.new_applicant']);
    await page.waitForSelector('#applicant-form');
    const id2 = `EXPIRY2-${lang}`;
    await page.fill('#f-id', id2);
    await page.fill('#f-household-size', '3');
    await leaveIdle(page, lang);
    await expectExpired(page, lang, cat, [id2]);
    await signInHere(page, 'carol');
    expect(await page.isVisible('main[data-screen="form"]'), `${lang}: another official is not on an empty form`);
    expect((await page.inputValue('#f-id')) === '', `${lang}: another official got the first one's file number`);
    expect((await page.inputValue('#f-household-size')) === '', `${lang}: another official got the first one's entries`);
    let dom = await page.evaluate(() => document.body.innerHTML);
    expect(!dom.includes(id2) && !dom.includes(id), `${lang}: the first official's applicant is in another official's DOM`);
    await switchLanguage(page, lang);

    // 3. The same official on the form: the entries come back and the examination goes on.
    const id3 = `EXPIRY3-${lang}`;
    await page.fill('#f-id', id3);
    await page.fill('#f-household-size', '5');
    await leaveIdle(page, lang);
    await expectExpired(page, lang, cat, [id3]);
    await signInHere(page, 'carol');
    expect((await page.inputValue('#f-id')) === id3, `${lang}: the form's file number was lost at the expiry`);
    expect((await page.inputValue('#f-household-size')) === '5', `${lang}: the form's entries were lost at the expiry`);
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');

    // 4. A reload on the sign-in screen forgets everything, even for the same official.
    await page.click('text=' + cat['answer.new_applicant']);
    await page.waitForSelector('#applicant-form');
    const id4 = `EXPIRY4-${lang}`;
    await page.fill('#f-id', id4);
    await leaveIdle(page, lang);
    await expectExpired(page, lang, cat, [id4]);
    await page.reload();
    await signInHere(page, 'carol');
    expect((await page.inputValue('#f-id')) === '', `${lang}: the work came back after a reload`);
    dom = await page.evaluate(() => document.body.innerHTML);
    expect(!dom.includes(id4), `${lang}: the file number came back after a reload`);

    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);

    // CSRF, on the server with the ordinary expiry (the checks below take longer than 6 s): the
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
