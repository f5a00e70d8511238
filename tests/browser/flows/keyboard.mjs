// Keyboard only: sign in, reach the form, examine an applicant and override a decision without a
// mouse, with the focus visible at every step.
import { openBrowser, expect, PASSWORDS } from '../lib/harness.mjs';

export const name = 'keyboard';

async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    return {
      id: el.id, tag: el.tagName, type: el.type || '', value: el.value || '',
      visible: el.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
    };
  });
}

/** Presses Tab until the element with `id` has the focus (at most `max` times). */
async function tabTo(page, id, lang, max = 40, key = 'Tab') {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(key);
    const f = await focused(page);
    if (f.id === id) {
      expect(f.visible, `${lang}: #${id} has the focus but no visible focus ring`);
      return;
    }
  }
  throw new Error(`${lang}: #${id} cannot be reached with Tab`);
}

export async function run(ctx, lang) {
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await page.goto(`${ctx.server.base}/`);
    await page.waitForSelector('main[data-screen="signin"]');
    await page.keyboard.press('Tab');
    const skip = await focused(page);
    expect(skip.tag === 'A', `${lang}: the first Tab does not reach the "skip to content" link`);
    await tabTo(page, 'user', lang);
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORDS.alice);
    await page.keyboard.press('Enter');
    await page.waitForSelector('main[data-screen="form"]');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    // The language, from the switcher in the top bar (options: fr, ar, en).
    await tabTo(page, 'ui-lang', lang, 10, 'Shift+Tab');
    await page.keyboard.press('Home');
    if (lang === 'ar') await page.keyboard.press('ArrowDown');
    if (lang === 'en') await page.keyboard.press('End');
    await page.waitForFunction((l) => document.documentElement.lang === l
      && document.querySelector('main')?.getAttribute('aria-busy') === 'false', lang);
    await tabTo(page, 'f-id', lang);
    await page.keyboard.type(`KEYBOARD-${lang}`);
    await page.keyboard.press('Enter');  // submits the form from any text field
    await page.waitForSelector('main[data-screen="answer"]');
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
    // The first decision's "decide otherwise" choice, with the arrow keys inside its group.
    const first = await page.locator('article.decision').first().getAttribute('data-rule');
    const id = first.replace(/[^A-Za-z0-9_-]/g, '-');
    for (let i = 0; i < 60; i += 1) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      if (f.type === 'radio' && f.value === 'accepted') break;
    }
    await page.keyboard.press(lang === 'ar' ? 'ArrowLeft' : 'ArrowRight');
    expect(await page.isVisible(`#value-${id}`), `${lang}: the override's fields did not open from the keyboard`);
    await tabTo(page, `value-${id}`, lang, 3);
    await page.keyboard.press('ArrowDown');
    await tabTo(page, `reason-${id}`, lang, 3);
    await page.keyboard.type('keyboard');
    await tabTo(page, 'record-review', lang);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#recorded');
    const recorded = await page.textContent(`#recorded li[data-rule="${first}"]`);
    expect(recorded.includes(ctx.catalogues[lang]['review.was_overridden']), `${lang}: the keyboard override was not recorded`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
