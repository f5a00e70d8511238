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
    // Figures shown as the server counted them: a count past the threshold and its rate.
    const locale = { fr: 'fr-MA', ar: 'ar-MA', en: 'en-GB' }[lang];
    const norm = (x) => x.replace(/[\s\u00a0\u202f\u200e\u200f\u061c]/g, '');
    const num = (n) => new Intl.NumberFormat(locale, { numberingSystem: 'latn' }).format(n);
    const pct = (x) => new Intl.NumberFormat(locale, { numberingSystem: 'latn', style: 'percent', maximumFractionDigits: 1 }).format(x);
    // Every count the server gave is shown as counted; a rate is shown where the row's shown
    // cells account for every counter decision (the hidden ones are then zeros).
    let rated = 0;
    for (const d of decisions) {
      const r = rows.find((x) => x.rule === d.rule && x.bars === 1);
      for (const v of d.in_force?.values || []) {
        if (v.count === null) continue;
        expect(norm(r.text).includes(norm(num(v.count))), `${lang}: ${d.rule}: the count ${v.count} is not shown (${r.text})`);
      }
      const total = stats.counter_decisions;
      const known = (d.in_force?.values || []).reduce((a, x) => a + (x.count ?? 0), 0) + (d.in_force?.undetermined ?? 0);
      if (typeof total !== 'number' || known !== total) continue;
      for (const v of d.in_force.values) {
        expect(norm(r.text).includes(norm(`${num(v.count)} (${pct(v.count / total)})`)),
          `${lang}: ${d.rule}: the rate of ${v.count} of ${total} is not shown (${r.text})`);
      }
      const segs = await page.$$eval(`tr[data-rule="${d.rule}"] svg.chart-bar rect.seg`, (rs) => rs.length);
      expect(segs >= 1, `${lang}: ${d.rule}: no bar segment drawn`);
      rated += 1;
    }
    expect(rated > 0, `${lang}: no row of the figures could show its rates (seed more applicants)`);
    const over = (stats.overrides || []).find((o) => o.rule === 'education.school_access');
    expect(over && over.rate !== null, `${lang}: the seeded override rate is missing or suppressed in the stats`);
    const overRow = await page.textContent('section[aria-labelledby="overrides-title"] tr[data-rule="education.school_access"]');
    expect(norm(overRow).includes(norm(pct(Number(over.rate)))),
      `${lang}: the override rate ${over.rate} is not shown (${overRow})`);
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
