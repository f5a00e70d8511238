// An adviser's figures: per programme, for the counter and for stored runs, outcome rates with
// inline SVG bars, out of force apart, undetermined rates with the facts missing behind them,
// override rates per rule, and small cells suppressed in the JSON itself — in each language.
import { openBrowser, signIn, switchLanguage, checkScreen, expect } from '../lib/harness.mjs';

export const name = 'figures';

/** The server's cells ({count, suppressed}) as numbers or null, each row named by `rule`. */
function normalise(stats) {
  const n = (x) => (x && typeof x === 'object' ? (x.suppressed ? null : x.count) : x);
  return {
    ...stats,
    decisions: (stats.decisions || []).map((d) => ({
      rule: d.rule || d.decision,
      in_force: { values: (d.in_force?.values || []).map((v) => ({ value: v.value, count: n(v) })), undetermined: n(d.in_force?.undetermined) },
      out_of_force: n(d.out_of_force),
    })),
    overrides: (stats.overrides || []).map((o) => ({ ...o, rule: o.rule || o.decision, reviewed: n(o.reviewed), overridden: n(o.overridden) })),
  };
}

export async function run(ctx, lang) {
  const cat = ctx.catalogues[lang];
  const b = await openBrowser(lang, { width: 760, height: 900 });  // an adviser's tablet-sized window
  const { page } = b;
  try {
    await signIn(page, ctx.server.base, 'bob');
    await switchLanguage(page, lang);
    await page.waitForSelector('main[data-screen="figures"]');
    const stats = normalise(await page.evaluate(async () => (await fetch('/api/v1/stats')).json()));
    const k = Number(stats.suppressed_below) || 5;
    // The counter's month: this month's (released early by the set-up's test hook), offered in
    // the month choice and named in the counter's heading.
    expect(stats.period?.month === ctx.statsMonth,
      `${lang}: the stats count the month ${stats.period?.month}, not ${ctx.statsMonth} (a build without DALIL_TEST_HOOKS?)`);
    expect(JSON.stringify(stats.months) === JSON.stringify([ctx.statsMonth]), `${lang}: the months released are ${JSON.stringify(stats.months)}`);
    const chosen = await page.$eval('#figures-month', (sel) => ({ value: sel.value, options: [...sel.options].map((o) => o.value), label: sel.labels[0]?.textContent }));
    expect(chosen.value === ctx.statsMonth && chosen.options.length === 1, `${lang}: the month choice shows ${JSON.stringify(chosen)}`);
    expect(chosen.label === cat['figures.month'], `${lang}: the month choice is labelled "${chosen.label}"`);
    const monthWords = new Intl.DateTimeFormat({ fr: 'fr-MA', ar: 'ar-MA', en: 'en-GB' }[lang], { numberingSystem: 'latn', year: 'numeric', month: 'long', timeZone: 'UTC' })
      .format(new Date(`${ctx.statsMonth}-01T00:00:00Z`));
    const heading = await page.textContent('section#counter h2');
    expect(heading.includes(monthWords), `${lang}: the counter's heading does not name the month ${monthWords} (${heading})`);
    // The counter's rows (stored runs have sections of their own, checked below).
    const rows = await page.$$eval('section#counter table.figures tr[data-rule]', (trs) => trs.map((tr) => ({
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
        expect(r.text.includes(cat['figures.suppressed']), `${lang}: ${d.rule}: a suppressed cell is not shown as hidden`);
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
      const segs = await page.$$eval(`section#counter tr[data-rule="${d.rule}"] svg.chart-bar rect.seg`, (rs) => rs.length);
      expect(segs >= 1, `${lang}: ${d.rule}: no bar segment drawn`);
      rated += 1;
    }
    expect(rated > 0, `${lang}: no row of the figures could show its rates (seed more applicants)`);
    // The JSON never carries a cell the page hides: each hidden cell of a row (values, then
    // undetermined, as the legend lists them) is null in the JSON, and no count under k is sent.
    const legendOf = (section, rule) => page.$$eval(`${section} tr[data-rule="${rule}"]:not(.out-of-force) ul.legend li`,
      (ls) => ls.map((l) => ({ hidden: l.classList.contains('suppressed'), text: l.textContent })));
    const checkRow = async (section, rule, cellsJson) => {
      const legend = await legendOf(section, rule);
      expect(legend.length === cellsJson.length, `${lang}: ${section} ${rule}: ${legend.length} cells shown for ${cellsJson.length} in the stats`);
      cellsJson.forEach((n, i) => {
        expect(n === null || n === 0 || n >= k, `${lang}: ${section} ${rule}: the stats carry a count of ${n}, under ${k}`);
        if (legend[i].hidden) expect(n === null || n === 0, `${lang}: ${section} ${rule}: the page hides a cell the stats carry (${n})`);
        if (n !== null && n > 0) expect(norm(legend[i].text).includes(norm(num(n))), `${lang}: ${section} ${rule}: the count ${n} is not shown`);
      });
      const hidden = cellsJson.filter((n) => n === null).length;
      return hidden;
    };
    for (const d of decisions) {
      if (!d.in_force || !(d.in_force.values.length || d.in_force.undetermined)) continue;
      if (!rows.find((x) => x.rule === d.rule && x.bars === 1)) continue;
      await checkRow('section#counter', d.rule, [...d.in_force.values.map((v) => v.count), d.in_force.undetermined]);
    }
    // Stored runs: a section per run, every decision of it, small cells hidden with a complement,
    // and the facts missing behind the undetermined answers named in words.
    const runs = stats.runs || [];
    expect(runs.length > 0, `${lang}: the stats have no stored run (the set-up ran a batch)`);
    let complemented = 0;
    let factsShown = 0;
    let few = 0;
    for (const run of runs) {
      const section = `section#run-${run.run}`;
      expect(await page.isVisible(section), `${lang}: run ${run.run} has no section in the figures`);
      const title = await page.textContent(`${section} h2`);
      expect(norm(title).includes(norm(num(run.run))), `${lang}: run ${run.run}'s section is not titled with it (${title})`);
      if (run.applicants === null) {
        // A run of a few (the set-up's run of one applicant): said so, and no decision listed.
        few += 1;
        const text = await page.textContent(section);
        const words = cat['figures.run_few'].split(/\{\w+\}/).map((x) => x.trim()).filter((x) => x.length >= 4);
        expect(words.every((w) => text.includes(w)), `${lang}: run ${run.run} of fewer than 10 does not say its figures are withheld (${text})`);
        expect(run.decisions.length === 0 && !(await page.$(`${section} tr[data-rule]`)),
          `${lang}: run ${run.run} of fewer than 10 lists decisions`);
      }
      for (const d of run.decisions) {
        const cells = [...d.in_force.values.map((v) => v.count), d.in_force.undetermined];
        if (!cells.some((n) => n !== 0)) continue;
        const hidden = await checkRow(section, d.decision, cells);
        const top = hidden + (d.out_of_force.count === null ? 1 : 0);
        expect(top !== 1, `${lang}: run ${run.run} ${d.decision}: one cell hidden alone (a total would reveal it)`);
        if (top > 1) complemented += 1;
        for (const m of d.in_force.missing || []) {
          const li = `${section} tr[data-rule="${d.decision}"] .missing-facts li[data-fact="${m.fact}"]`;
          expect(await page.isVisible(li), `${lang}: run ${run.run} ${d.decision}: the missing fact ${m.fact} is not listed`);
          const text = await page.textContent(li);
          // In words: the form's label of the fact, not its path.
          expect(await page.$(`${li} span.cap`), `${lang}: run ${run.run} ${d.decision}: the missing fact is shown as a field path (${text})`);
          expect(norm(text).includes(norm(m.count === null ? cat['figures.suppressed'] : num(m.count))),
            `${lang}: run ${run.run} ${d.decision}: the count of ${m.fact} is not shown (${text})`);
          factsShown += 1;
        }
      }
    }
    expect(few === 1, `${lang}: ${few} runs of fewer than 10 in the figures (the set-up ran one of one applicant)`);
    expect(complemented > 0, `${lang}: no stored run's row needed a complementary cell (the sample cohort has small cells)`);
    expect(factsShown > 0, `${lang}: no missing fact behind an undetermined answer is shown`);
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
