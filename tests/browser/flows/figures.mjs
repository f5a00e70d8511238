// An adviser's figures: per programme, outcome rates with inline SVG bars, out of force apart,
// undetermined rates, override rates per rule, and small cells suppressed — in each language.
import { openBrowser, signIn, switchLanguage, checkScreen, expect } from '../lib/harness.mjs';

export const name = 'figures';

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang);
  const { page } = b;
  try {
    await signIn(page, ctx.server.base, 'bob');
    await switchLanguage(page, lang);
    await page.waitForSelector('main[data-screen="figures"]');
    const stats = await page.evaluate(async () => (await fetch('/api/v1/stats')).json());
    const k = Number(stats.suppressed_below) || 5;
    const rows = await page.$$eval('table.figures tr[data-rule]', (trs) => trs.map((tr) => ({
      rule: tr.dataset.rule,
      bars: tr.querySelectorAll('svg.chart-bar').length,
      text: tr.textContent,
    })));
    const decisions = stats.decisions || [];
    expect(decisions.length > 0, `${lang}: the stats have no decision (the counter flow ran before)`);
    for (const d of decisions) {
      const r = rows.find((x) => x.rule === d.rule);
      expect(r, `${lang}: ${d.rule} has no row in the figures`);
    }
    expect(rows.some((r) => r.bars === 1), `${lang}: no SVG bar drawn`);
    // Every count the server suppressed (null) shows as suppressed, never as a number.
    for (const d of decisions) {
      for (const v of d.in_force?.values || []) {
        if (v.count !== null) continue;
        const r = rows.find((x) => x.rule === d.rule && x.bars === 1);
        expect(r.text.includes(cat['figures.fewer_than'].replace('{k}', String(k))), `${lang}: ${d.rule}: a suppressed cell is not shown as suppressed`);
      }
    }
    expect((await page.textContent('main')).includes(cat['figures.overrides']) || !(stats.overrides || []).length,
      `${lang}: the override rates are not shown`);
    // Colour is not the only signal: each segment's meaning is also written beside the bar.
    const legends = await page.$$eval('ul.legend li', (ls) => ls.length);
    expect(legends > 0, `${lang}: the bars have no written legend`);
    await checkScreen(ctx, page, lang, '13-figures');
    // An adviser has no counter form.
    expect(!(await page.isVisible('a[href="#form"]')), `${lang}: an adviser is offered the counter form`);
    expect(b.problems.length === 0, `${lang}: ${b.problems.join('; ')}`);
  } finally {
    await b.close();
  }
}
