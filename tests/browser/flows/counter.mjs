// An official's day at the counter, in one language: sign in, switch the language, read the
// information notice, type three applicants, compare every programme's answer and missing
// documents with `dalil eval` on the same record, override one decision with a reason, print the
// receipt in another language, and sign out (the screen is emptied).
import {
  openBrowser, signIn, switchLanguage, checkScreen, expect, dalilEval,
} from '../lib/harness.mjs';
import { sampleApplicants, fillRecord, expectedOutcomeText, AS_OF } from '../lib/applicants.mjs';

export const name = 'counter';

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    const res = await page.goto(`${ctx.server.base}/`);
    const csp = res.headers()['content-security-policy'] || '';
    expect(/script-src 'self'/.test(csp) && /style-src 'self'/.test(csp) && !/unsafe-inline/.test(csp),
      `${lang}: the page is served without a CSP forbidding inline script and style (${csp})`);
    await page.waitForSelector('main[data-screen="signin"]');
    // Nothing inline for the CSP to refuse: no <script> or <style> body, no style="", no on*="".
    const inline = await page.evaluate(() => [...document.querySelectorAll('*')].filter((el) => el.hasAttribute('style')
      || [...el.attributes].some((a) => a.name.startsWith('on'))
      || ((el.tagName === 'SCRIPT' || el.tagName === 'STYLE') && el.textContent.trim() !== '')).length);
    expect(inline === 0, `${lang}: ${inline} element(s) with inline script or style`);
    if (lang !== 'fr') await switchLanguage(page, lang);
    await checkScreen(ctx, page, lang, '01-signin');

    // A wrong password: refused, in words, and still the sign-in screen.
    await page.fill('#user', 'alice');
    await page.fill('#password', 'not-the-password');
    await page.click('main form button[type="submit"]');
    await page.waitForSelector('.flash-error');
    expect((await page.textContent('.flash-error')).includes(cat['signin.refused']),
      `${lang}: a wrong password is not said in words`);

    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);
    const me = await page.evaluate(async () => {
      const r = await fetch('/api/v1/session');
      return { ...(await r.json()), cache: r.headers.get('Cache-Control') };
    });
    expect(/no-store/.test(me.cache || ''), `${lang}: an API answer without Cache-Control: no-store`);
    expect(me.lang === lang, `${lang}: the language chosen was not stored for the user (session says ${me.lang})`);
    const notice = await page.textContent('.notice');
    for (const k of ['notice5.purpose', 'notice5.recipients', 'notice5.rights']) {
      expect(notice.includes(cat[k]), `${lang}: the Law 09-08 art. 5 notice lacks ${k}`);
    }
    await checkScreen(ctx, page, lang, '02-form');

    const schema = await page.evaluate(async (l) => (await fetch(`/api/v1/schema?lang=${l}`)).json(), lang);
    // Labels come from the schema in the chosen language.
    const idLabel = await page.textContent('label[for="f-id"]');
    expect(idLabel.trim() === schema.fields.find((f) => f.name === 'id').label,
      `${lang}: the id field's label is not the schema's (${idLabel})`);

    // Field validation: a malformed amount and a future birth date, each said at its field.
    await page.fill('#as-of', AS_OF);
    await page.fill('#f-household-annual_income', '12.345.6');
    await page.fill('#f-birth_date', '2030-01-01');
    await page.click('#evaluate');
    await page.waitForSelector('#error-summary');
    const incomeErr = await page.textContent('#f-household-annual_income-err');
    expect(incomeErr.includes(cat['form.error.money']), `${lang}: no money format message at the field`);
    const described = await page.getAttribute('#f-household-annual_income', 'aria-describedby');
    expect(described.includes('f-household-annual_income-err'), `${lang}: the message is not tied to its input`);
    expect((await page.textContent('#f-birth_date-err')).includes(cat['form.error.not_after_as_of']),
      `${lang}: no "not after the decision date" message at the birth date`);
    expect((await page.textContent('#f-id-err')).includes(cat['form.error.required']),
      `${lang}: no "required" message at the file number`);
    await checkScreen(ctx, page, lang, '03-form-errors');
    await page.click('#clear-form');
    await page.waitForSelector('#applicant-form');

    // A value only the server refuses (a text past its 4096-byte limit): its problem's
    // errors[].pointer lands on the field, said in words.
    await page.fill('#as-of', AS_OF);
    await page.fill('#f-id', `REFUSED-${lang}`);
    await page.fill('#f-nationality', 'A'.repeat(5000));
    await page.click('#evaluate');
    await page.waitForSelector('#f-nationality-err:not([hidden])');
    expect((await page.textContent('#f-nationality-err')).includes(cat['form.error.server']),
      `${lang}: the server's refusal is not shown at the field its pointer names`);
    expect((await page.getAttribute('#f-nationality', 'aria-invalid')) === 'true',
      `${lang}: the field the server refused is not marked invalid`);
    expect((await page.textContent('.flash-error')).includes(cat['form.error.refused']),
      `${lang}: no message says the server refused the entries`);
    await page.click('#clear-form');
    await page.waitForSelector('#applicant-form');

    // A yes/no field the server refuses (the answer faked: the form sends none it would refuse):
    // its message at the field, its choices marked, the error summary's link leading to them.
    await page.route('**/api/v1/evaluate', (route) => route.fulfill({
      status: 400,
      contentType: 'application/problem+json',
      body: JSON.stringify({
        type: 'about:blank', title: 'Bad Request', status: 400,
        errors: [{ pointer: '/applicant/born_in_morocco', detail: 'expected a boolean' }],
      }),
    }));
    await page.fill('#as-of', AS_OF);
    await page.fill('#f-id', `REFUSED-BOOL-${lang}`);
    await page.check('input[data-path="born_in_morocco"][value="false"]');
    await page.click('#evaluate');
    await page.waitForSelector('#error-summary');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    await page.unroute('**/api/v1/evaluate');
    expect(await page.isVisible('#f-born_in_morocco-err'), `${lang}: the server's refusal of a yes/no field is not shown at it`);
    expect((await page.textContent('#f-born_in_morocco-err')).includes(cat['form.error.server']),
      `${lang}: the yes/no field's message is not the server's refusal`);
    const marks = await page.$$eval('input[data-path="born_in_morocco"]', (els) => els.map((e) => ({
      invalid: e.getAttribute('aria-invalid'), described: (e.getAttribute('aria-describedby') || '').split(' '),
    })));
    expect(marks.length === 3 && marks.every((m) => m.invalid === 'true' && m.described.includes('f-born_in_morocco-err')),
      `${lang}: the refused yes/no field's choices are not marked and tied to its message: ${JSON.stringify(marks)}`);
    await checkScreen(ctx, page, lang, '03-form-refused-yes-no');
    await page.click('#error-summary a[href="#f-born_in_morocco"]');
    const onChoice = await page.evaluate(() => ({ path: document.activeElement?.dataset.path, value: document.activeElement?.value }));
    expect(onChoice.path === 'born_in_morocco' && onChoice.value === 'false',
      `${lang}: the summary's link does not lead to the choice made in the refused field (${JSON.stringify(onChoice)})`);
    await page.click('#clear-form');
    await page.waitForSelector('#applicant-form');

    const applicants = sampleApplicants(ctx.root, lang);
    let first = true;
    for (const record of applicants) {
      await page.fill('#as-of', AS_OF);
      await fillRecord(page, schema.fields, record, lang);
      if (first) {
        // An amount typed with a leading zero ("093312,34" in French) is the amount: the page
        // sends it without (the record, as JSON, takes none), and the answer is dalil eval's.
        const income = await page.inputValue('#f-household-annual_income');
        expect(/^\d/.test(income), `${lang}: the first applicant has no income to type with a leading zero`);
        await page.fill('#f-household-annual_income', `0${income}`);
      }
      await page.click('#evaluate');
      await page.waitForSelector('main[data-screen="answer"]');
      await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
      await compareWithEval(ctx, page, lang, record, schema, cat);
      const inlineNow = await page.evaluate(() => [...document.querySelectorAll('*')]
        .filter((el) => el.hasAttribute('style') || [...el.attributes].some((a) => a.name.startsWith('on'))).length);
      expect(inlineNow === 0, `${lang}: the answer screen has ${inlineNow} element(s) with inline style or handlers`);
      if (first) {
        await checkScreen(ctx, page, lang, '04-answer');
        const override = await recordOverride(ctx, page, lang, cat);
        await checkScreen(ctx, page, lang, '05-answer-recorded');
        await printReceipt(ctx, page, lang, record, override);
        first = false;
      }
      await page.click('text=' + cat['answer.new_applicant']);
      await page.waitForSelector('#applicant-form');
      // A new applicant starts from an empty form: nothing of the last one stays on screen.
      expect((await page.inputValue('#f-id')) === '', `${lang}: the form kept the last applicant's id`);
    }

    // Sign out: back to the sign-in screen, the applicant's data gone from the DOM.
    await page.click('#sign-out');
    await page.waitForSelector('main[data-screen="signin"]');
    const body = await page.evaluate(() => document.body.innerText + document.body.innerHTML);
    for (const r of applicants) expect(!body.includes(r.id), `${lang}: ${r.id} still in the DOM after sign-out`);
    const storage = await page.evaluate(() => localStorage.length + sessionStorage.length);
    expect(storage === 0, `${lang}: the page wrote to localStorage or sessionStorage`);
    await checkScreen(ctx, page, lang, '08-signed-out');
    const after = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    expect(after === 401, `${lang}: the session still answers after sign-out (${after})`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}

/** Each programme's answer on the page against `dalil eval` on the same record. */
async function compareWithEval(ctx, page, lang, record, schema, cat) {
  const expected = dalilEval(ctx.dalil, ctx.rules, AS_OF, record);
  const shown = await page.evaluate((l) => [...document.querySelectorAll('article.decision')].map((a) => ({
    rule: a.dataset.rule,
    outcome: a.querySelector('.recommendation .outcome')?.textContent.trim(),
    badges: [...a.querySelectorAll('.badges li')].map((x) => x.textContent.trim()),
    documents: [...a.querySelectorAll('.documents li')].map((x) => x.textContent.trim()),
    explanation: a.querySelector('.explanation')?.textContent.trim() ?? '',
    reasons: [...a.querySelectorAll('.reasons li')].map((x) => x.textContent.trim()),
    hasFieldPath: /\b[a-z_]+\.[a-z_]+\b/.test([...a.querySelectorAll('.documents')].map((x) => x.textContent).join(' ')),
  })), lang);
  const where = `${lang}/${record.id}`;
  expect(shown.length === expected.decisions.length,
    `${where}: ${shown.length} programmes' decisions shown, dalil eval gives ${expected.decisions.length}`);
  for (const d of expected.decisions) {
    const s = shown.find((x) => x.rule === d.rule);
    expect(s, `${where}: ${d.rule} not shown`);
    const want = expectedOutcomeText(d, cat, schema.decisions || []);
    expect(want !== null, `${where}: ${d.rule}'s value ${JSON.stringify(d.value)} has no label in the schema`);
    expect(s.outcome === want, `${where}: ${d.rule} shows "${s.outcome}", dalil eval says "${want}"`);
    expect(s.badges.includes(cat[d.in_force ? 'answer.in_force' : 'answer.not_in_force']),
      `${where}: ${d.rule}: in force should be ${d.in_force}`);
    expect(s.badges.includes(cat[d.provisional ? 'answer.provisional' : 'answer.verified']),
      `${where}: ${d.rule}: provisional should be ${d.provisional}`);
    const docs = d.status === 'undetermined' ? d.documents.map((x) => x.title[lang]) : [];
    expect(JSON.stringify(s.documents) === JSON.stringify(docs),
      `${where}: ${d.rule}: documents ${JSON.stringify(s.documents)}, dalil eval: ${JSON.stringify(docs)}`);
    expect(!s.hasFieldPath, `${where}: ${d.rule}: a field path among the documents`);
    expect(s.explanation === d.explanation[lang].trim(), `${where}: ${d.rule}: the explanation differs from dalil eval's`);
    const reasons = d.reason_texts[lang].filter((r) => !d.explanation[lang].includes(r));
    expect(JSON.stringify(s.reasons) === JSON.stringify(reasons),
      `${where}: ${d.rule}: reasons (apart from those the explanation says) differ from dalil eval's`);
  }
  if (record.id.startsWith('SYN-000029')) {
    expect(expected.decisions.some((d) => d.status === 'undetermined' && d.documents.length),
      `${where}: the applicant with missing facts should have documents to ask for (check the sample)`);
  }
}

/** The official's words in three languages, in two directions. */
const REASON = 'Titre de séjour présenté au guichet / العنوان الإداري / residence title shown';
const OBSERVATIONS = 'Pièces vues au guichet — الوثائق الأصلية — originals seen (3)';

const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The texts of the <bdi> elements under `scope`: the official's words, isolated. */
function isolated(page, scope) {
  return page.$$eval(`${scope} bdi`, (els) => els.map((e) => e.textContent));
}

/** Overrides the first programme's decision with a reason; the reason is required. Returns the
 *  programme's rule. */
async function recordOverride(ctx, page, lang, cat) {
  const article = page.locator('article.decision').first();
  const rule = await article.getAttribute('data-rule');
  const id = rule.replace(/[^A-Za-z0-9_-]/g, '-');
  await article.locator('input[value="overridden"]').check();
  // Each of the review's fields is named with its programme: a screen reader reaching the
  // reason from a list of the page's fields knows which programme's reason it is.
  const title = (await page.textContent(`#title-${id}`)).trim();
  const named = async (role, label) => {
    const el = page.getByRole(role, { name: new RegExp(`${escaped(label)}.*${escaped(title)}`) });
    return (await el.count()) === 1 ? el.getAttribute('id') : `${await el.count()} elements`;
  };
  const reasonNamed = await named('textbox', cat['review.reason']);
  expect(reasonNamed === `reason-${id}`,
    `${lang}: no reason field is named with its programme's title ("${title}"): ${reasonNamed}`);
  const valueNamed = await named('combobox', cat['review.value']);
  expect(valueNamed === `value-${id}`,
    `${lang}: no decision field is named with its programme's title ("${title}"): ${valueNamed}`);
  const group = page.getByRole('group', { name: new RegExp(`${escaped(cat['review.legend'])}.*${escaped(title)}`) });
  expect((await group.count()) === 1 && (await group.locator('input[value="overridden"]').count()) === 1,
    `${lang}: the accept/override choices of ${rule} are not in a group named with its programme's title`);
  // Without a value and a reason the page refuses and says why, at the fields.
  await page.click('#record-review');
  expect(await page.isVisible(`#reason-${id}-err`), `${lang}: an override without a reason was not stopped`);
  expect(await page.isVisible(`#value-${id}-err`), `${lang}: an override without a value was not stopped`);
  const options = await page.$$eval(`#value-${id} option`, (os) => os.map((o) => o.value).filter((v) => v !== ''));
  await page.selectOption(`#value-${id}`, options[0]);
  await page.fill(`#reason-${id}`, REASON);
  await page.fill('#observations', OBSERVATIONS);
  await page.click('#record-review');
  await page.waitForSelector('#recorded');
  const recorded = await page.textContent(`#recorded li[data-rule="${rule}"]`);
  expect(recorded.includes(cat['review.was_overridden']), `${lang}: the override is not shown as recorded`);
  const others = await page.$$eval('#recorded li', (ls) => ls.length);
  expect(others > 1, `${lang}: the other programmes' acceptances are not shown as recorded`);
  // The reason and the observations, each whole in its own <bdi>: a French reason keeps its
  // order on an Arabic screen, an Arabic one on a French screen.
  expect((await isolated(page, `#recorded li[data-rule="${rule}"]`)).includes(REASON),
    `${lang}: the recorded reason is not isolated (bdi) on the answer`);
  expect((await isolated(page, '#recorded')).includes(OBSERVATIONS),
    `${lang}: the recorded observations are not isolated (bdi) on the answer`);
  ctx.lastDecision = await page.textContent('dl.meta dd:nth-of-type(3)');
  return rule;
}

/** The receipt in another language than the official's, printed; the official's reason for
 *  overriding `overridden` isolated on it. */
async function printReceipt(ctx, page, lang, record, overridden) {
  const receiptLang = { fr: 'ar', ar: 'fr', en: 'fr' }[lang];
  const rcat = ctx.catalogues[receiptLang];
  await page.selectOption('#receipt-lang', receiptLang);
  await page.click('#show-receipt');
  await page.waitForSelector('#receipt');
  const r = await page.evaluate(() => {
    const s = document.getElementById('receipt');
    return { lang: s.lang, dir: s.dir, text: s.innerText, rows: s.querySelectorAll('tbody tr').length };
  });
  expect(r.lang === receiptLang && r.dir === (receiptLang === 'ar' ? 'rtl' : 'ltr'),
    `${lang}: the receipt is not marked as ${receiptLang} (${r.lang}, ${r.dir})`);
  expect(r.text.includes(rcat['notice11.receipt']), `${lang}: the receipt lacks the art. 11 notice in ${receiptLang}`);
  expect(r.text.includes(record.id), `${lang}: the receipt lacks the applicant's file number`);
  const expected = dalilEval(ctx.dalil, ctx.rules, AS_OF, record);
  expect(r.rows === expected.decisions.length, `${lang}: the receipt has ${r.rows} rows for ${expected.decisions.length} decisions`);
  expect(r.text.includes(expected.ruleset.hash), `${lang}: the receipt lacks the ruleset hash`);
  expect((await isolated(page, `#receipt tr[data-rule="${overridden}"]`)).includes(REASON),
    `${lang}: the official's reason is not isolated (bdi) on the ${receiptLang} receipt`);
  await checkScreen(ctx, page, lang, '06-receipt-screen');
  await checkScreen(ctx, page, lang, '07-receipt-print', { print: true });
  // In print, only the receipt is laid out.
  await page.emulateMedia({ media: 'print' });
  const hidden = await page.evaluate(() => ['#top', '#print', '#main > h1']
    .every((sel) => document.querySelector(sel).getClientRects().length === 0)
    && document.getElementById('receipt').getClientRects().length > 0);
  await page.emulateMedia({ media: 'screen' });
  expect(hidden, `${lang}: the print view still shows the page's bar or buttons`);
  await page.click('text=' + ctx.catalogues[lang]['receipt.back']);
  await page.waitForSelector('main[data-screen="answer"]');
}
