// Fields of kind list (a pack's applicant record may have them; the shipped pack has none): the
// schema is given two here on the way (a list of texts, a list of records, as the server writes
// them: `of` with the items' type and, for records, their fields under "list[]."). Adding an item
// puts the focus in it, on its first control, for the official to type it at once; removing one
// leaves the focus on the list's buttons, not on the page's body.
import {
  openBrowser, signIn, switchLanguage, checkScreen, expect,
} from '../lib/harness.mjs';

export const name = 'lists';

async function settled(page) {
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false');
}

async function active(page) {
  return page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
}

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await page.route((url) => url.pathname === '/api/v1/schema', async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      // Labels taken from the pack's own fields, in the language asked for.
      const label = (n) => json.fields.find((x) => x.name === n).label;
      const bare = { optional: false, document: null, constraint: {} };
      json.fields.push({
        ...bare, name: 'nationalities', path: 'nationalities', type: 'list', label: label('nationality'), of: { type: 'text' },
      }, {
        ...bare,
        name: 'stays',
        path: 'stays',
        type: 'list',
        label: label('entry_date'),
        of: {
          type: 'record',
          fields: [
            { ...bare, name: 'since', path: 'stays[].since', type: 'date', label: label('resident_since') },
            { ...bare, name: 'lawful', path: 'stays[].lawful', type: 'bool', label: label('parent_lawful_resident') },
          ],
        },
      });
      await route.fulfill({ response, json });
    });
    await signIn(page, ctx.server.base, 'alice');
    await switchLanguage(page, lang);
    await page.waitForSelector('fieldset#f-nationalities');

    const add = (list) => page.locator(`fieldset#${list}`).getByRole('button', { name: cat['form.list.add'], exact: true });
    const remove = (list) => page.locator(`fieldset#${list}`).getByRole('button', { name: cat['form.list.remove'], exact: true });

    // A list of texts: each item added has the focus, and what is typed stays in it.
    await add('f-nationalities').click();
    await settled(page);
    let f = await active(page);
    expect(f === 'f-nationalities-0', `${lang}: after "add" the focus is on ${f}, not on the new item`);
    await page.keyboard.type('Sénégal');
    await add('f-nationalities').click();
    await settled(page);
    f = await active(page);
    expect(f === 'f-nationalities-1', `${lang}: after a second "add" the focus is on ${f}, not on the new item`);
    await page.keyboard.type('Mali');
    expect((await page.inputValue('#f-nationalities-0')) === 'Sénégal' && (await page.inputValue('#f-nationalities-1')) === 'Mali',
      `${lang}: the items typed were lost`);

    // A list of records: the focus on the new item's first control.
    await add('f-stays').click();
    await settled(page);
    f = await active(page);
    expect(f === 'f-stays-0-since', `${lang}: after "add" to a list of records the focus is on ${f}, not on the item's first field`);
    await checkScreen(ctx, page, lang, '14-form-lists');

    // Removing the last item: the focus stays on the list's buttons.
    await remove('f-nationalities').click();
    await settled(page);
    const onButton = await page.evaluate(() => {
      const el = document.activeElement;
      return el?.tagName === 'BUTTON' && el.closest('fieldset')?.id;
    });
    expect(onButton === 'f-nationalities', `${lang}: after "remove" the focus is on ${await active(page)}, not on the list's buttons`);
    expect((await page.locator('#f-nationalities-1').count()) === 0 && (await page.inputValue('#f-nationalities-0')) === 'Sénégal',
      `${lang}: "remove" did not remove the last item only`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
