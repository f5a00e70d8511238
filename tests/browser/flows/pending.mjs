// Decisions changed on an answer and not recorded are not dropped without a word when the
// official looks up another file: a modal alert dialog asks first (server/www/confirm.js), the
// focus on "Back to my decisions". Escape does nothing (the decisions still wait, the number
// typed stays); "Back" shows the answer with every entry as it was, the focus on the first
// decision changed; once recorded (or a choice made and undone), nothing is asked; "Drop" loads
// the other file.
import { openBrowser, signIn, switchLanguage, checkScreen, expect } from '../lib/harness.mjs';

export const name = 'pending';

async function settled(page) {
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
}

/** Looks up a file number: 'asked' when the question opens, else 'shown' once the screen is drawn
 *  again with a new message at its top. */
async function lookUp(page, id) {
  await page.evaluate(() => document.querySelector('#main .flash')?.setAttribute('data-before', ''));
  await page.fill('#lookup', id);
  await page.click('form.lookup button[type="submit"]');
  const el = await page.waitForSelector('#review-pending[open], #main .flash:not([data-before])');
  if (await el.evaluate((x) => x.id === 'review-pending')) return 'asked';
  await settled(page);
  return 'shown';
}

/** The question, as a screen reader meets it. */
async function expectQuestion(page, cat, lang) {
  const d = await page.evaluate(() => {
    const dialog = document.getElementById('review-pending');
    const by = (attr) => document.getElementById(dialog.getAttribute(attr))?.textContent || '';
    return {
      role: dialog.getAttribute('role'),
      modal: dialog.matches(':modal'),
      title: by('aria-labelledby'),
      text: by('aria-describedby'),
      buttons: [...dialog.querySelectorAll('button')].map((x) => x.textContent),
      focus: dialog.contains(document.activeElement) ? document.activeElement.id : null,
      dir: getComputedStyle(dialog).direction,
    };
  });
  const where = `${lang}/review pending`;
  expect(d.role === 'alertdialog', `${where}: role is ${d.role}, not alertdialog`);
  expect(d.modal, `${where}: not modal`);
  expect(d.title === cat['review.pending.title'], `${where}: its title is "${d.title}"`);
  expect(d.text === cat['review.pending.text'], `${where}: its text is "${d.text}"`);
  expect(d.buttons.join('|') === [cat['review.pending.back'], cat['review.pending.drop']].join('|'),
    `${where}: its choices are ${d.buttons.join(' | ')}`);
  expect(d.focus === 'review-pending-back', `${where}: the focus is on ${d.focus}, not "back to my decisions"`);
  expect(d.dir === (lang === 'ar' ? 'rtl' : 'ltr'), `${where}: direction ${d.dir}`);
}

function closed(page) {
  return page.waitForFunction(() => !document.getElementById('review-pending'));
}

/** Decides otherwise on `article` (the last value offered), with `reason`. */
async function override(page, article, reason) {
  const id = (await article.getAttribute('data-rule')).replace(/[^A-Za-z0-9_-]/g, '-');
  await article.locator('input[value="overridden"]').check();
  const options = await page.$$eval(`#value-${id} option`, (os) => os.map((o) => o.value).filter((v) => v !== ''));
  const value = options[options.length - 1];
  await page.selectOption(`#value-${id}`, value);
  await page.fill(`#reason-${id}`, reason);
  return { id, value };
}

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);

    // An answer, a decision changed on it with its reason, observations typed; then the file
    // form, and another number looked up before recording.
    const mine = `PENDING-${lang}`;
    const elsewhere = `ELSEWHERE-${lang}`;
    await page.fill('#f-id', mine);
    await page.click('#evaluate');
    await page.waitForSelector('main[data-screen="answer"]');
    await settled(page);
    const first = page.locator('article.decision').first();
    const reason = `not recorded yet ${lang}`;
    const observations = `observations not recorded ${lang}`;
    const { id, value } = await override(page, first, reason);
    await page.fill('#observations', observations);
    await page.click('a[href="#form"]');
    await page.waitForSelector('#lookup');
    await settled(page);
    expect((await lookUp(page, elsewhere)) === 'asked',
      `${lang}: a lookup dropped the decisions not recorded without asking first`);
    await expectQuestion(page, cat, lang);
    await checkScreen(ctx, page, lang, '15-review-pending', { within: '#review-pending' });

    // Escape: nothing done, the focus back on the lookup's button, the number still typed, and
    // the decisions still waiting (asked again).
    await page.keyboard.press('Escape');
    await closed(page);
    expect(await page.isVisible('main[data-screen="form"]'), `${lang}: Escape left the form`);
    expect(await page.evaluate(() => document.activeElement?.matches('form.lookup button[type="submit"]')),
      `${lang}: after Escape the focus is not back on the lookup's button`);
    expect((await page.inputValue('#lookup')) === elsewhere, `${lang}: after Escape the number typed is gone`);
    expect((await page.inputValue('#f-id')) === mine, `${lang}: Escape changed the form`);
    expect((await lookUp(page, elsewhere)) === 'asked', `${lang}: after Escape, the decisions are no longer protected`);

    // "Back to my decisions" (one key: the focus is on it): the answer as left.
    await page.keyboard.press('Enter');
    await closed(page);
    await page.waitForSelector('main[data-screen="answer"]');
    await settled(page);
    expect(await page.isChecked(`#decision-${id} input[value="overridden"]`), `${lang}: back on the answer, the override was lost`);
    expect((await page.inputValue(`#value-${id}`)) === value, `${lang}: back on the answer, the decision chosen was lost`);
    expect((await page.inputValue(`#reason-${id}`)) === reason, `${lang}: back on the answer, the reason was lost`);
    expect((await page.inputValue('#observations')) === observations, `${lang}: back on the answer, the observations were lost`);
    expect(await page.evaluate((x) => document.activeElement?.matches(`#decision-${x} input[value="overridden"]`), id),
      `${lang}: back on the answer, the focus is not on the decision changed`);

    // Recorded, then a choice undone (accept, then the same override again): nothing to lose,
    // nothing asked; an unknown number is said as before.
    await page.click('#record-review');
    await page.waitForSelector('#recorded');
    await settled(page);
    await first.locator('input[value="accepted"]').check();
    await first.locator('input[value="overridden"]').check();
    await page.click('a[href="#form"]');
    await page.waitForSelector('#lookup');
    await settled(page);
    expect((await lookUp(page, elsewhere)) === 'shown', `${lang}: asked about decisions already recorded`);
    expect((await page.textContent('#main .flash-error')).includes(cat['form.returning.not_found_new']),
      `${lang}: after decisions recorded, the unknown number is not said`);

    // The file again, its examination opened (its recorded review), another decision changed:
    // asked, and "Drop" loads the other file (nothing asked afterwards).
    expect((await lookUp(page, mine)) === 'shown', `${lang}: asked with no decision changed`);
    await page.waitForSelector('.history li button');
    await page.locator('.history li button').last().click();
    await page.waitForSelector('#recorded');
    await settled(page);
    await override(page, page.locator('article.decision').nth(1), `second thoughts ${lang}`);
    await page.click('a[href="#form"]');
    await page.waitForSelector('#lookup');
    await settled(page);
    expect((await lookUp(page, elsewhere)) === 'asked', `${lang}: a decision changed on a reviewed answer was dropped without asking`);
    await page.click('#review-pending-drop');
    await closed(page);
    await page.waitForSelector('#main .flash-error');
    await settled(page);
    expect((await page.textContent('#main .flash-error')).includes(cat['form.returning.not_found_new']),
      `${lang}: "drop" did not go on with the lookup`);
    expect((await lookUp(page, mine)) === 'shown', `${lang}: the decisions dropped are still asked about`);
    expect((await page.textContent('#main .flash')).includes(cat['form.returning.loaded']), `${lang}: the file was not reloaded`);

    // The other ways off the answer ask too: "New applicant" on the answer itself (Escape: the
    // answer stays, as left), and an earlier examination opened from the form's history.
    await page.waitForSelector('.history li button');
    await page.locator('.history li button').last().click();
    await page.waitForSelector('#recorded');
    await settled(page);
    await override(page, page.locator('article.decision').nth(1), `third thoughts ${lang}`);
    await page.getByRole('button', { name: cat['answer.new_applicant'] }).click();
    await page.waitForSelector('#review-pending[open]');
    await page.keyboard.press('Escape');
    await closed(page);
    expect(await page.isVisible('main[data-screen="answer"]'),
      `${lang}: "new applicant" left the answer with a decision not recorded, without asking`);
    await page.click('a[href="#form"]');
    await page.waitForSelector('.history li button');
    await settled(page);
    await page.locator('.history li button').last().click();
    await page.waitForSelector('#review-pending[open]');
    await page.click('#review-pending-drop');
    await closed(page);
    await page.waitForSelector('#recorded');
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
