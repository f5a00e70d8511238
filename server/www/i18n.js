// Message catalogues (one JSON file per language under /assets/i18n/) and the way Moroccan
// administration writes numbers and dates: Western digits in every language (ar-MA with
// numberingSystem latn), dates with the Moroccan month names in Arabic, isolated inside
// right-to-left text with <bdi>.
import { h } from './dom.js';

export const LANGS = ['fr', 'ar', 'en'];
const LOCALES = { fr: 'fr-MA', ar: 'ar-MA', en: 'en-GB' };
const catalogues = new Map();

export async function loadCatalogue(lang) {
  if (!LANGS.includes(lang)) lang = 'fr';
  if (!catalogues.has(lang)) {
    const res = await fetch(`/assets/i18n/${lang}.json`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`catalogue ${lang}: HTTP ${res.status}`);
    catalogues.set(lang, await res.json());
  }
  return translator(lang);
}

/** A translator for a loaded language: t(key, params) gives text, tn(key, params) gives nodes
 *  in which every parameter is isolated (<bdi>) so numbers and codes keep their order in Arabic. */
export function translator(lang) {
  const cat = catalogues.get(lang);
  const locale = LOCALES[lang];
  const lookup = (key) => {
    const v = cat[key];
    if (typeof v !== 'string') {
      console.error(`missing message "${key}" in ${lang}`);
      return `⟦${key}⟧`;
    }
    return v;
  };
  const numFmt = new Intl.NumberFormat(locale, { numberingSystem: 'latn' });
  const pctFmt = new Intl.NumberFormat(locale, {
    numberingSystem: 'latn', style: 'percent', maximumFractionDigits: 1,
  });
  const dateFmt = new Intl.DateTimeFormat(locale, {
    numberingSystem: 'latn', dateStyle: 'long', timeZone: 'UTC',
  });
  const stampFmt = new Intl.DateTimeFormat(locale, {
    numberingSystem: 'latn', dateStyle: 'long', timeStyle: 'short',
  });
  const monthFmt = new Intl.DateTimeFormat(locale, {
    numberingSystem: 'latn', year: 'numeric', month: 'long', timeZone: 'UTC',
  });
  const timeFmt = new Intl.DateTimeFormat(locale, {
    numberingSystem: 'latn', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  const tr = {
    lang,
    dir: lang === 'ar' ? 'rtl' : 'ltr',
    has: (key) => typeof cat[key] === 'string',
    t(key, params = {}) {
      return lookup(key).replace(/\{(\w+)\}/g, (m, p) => (p in params ? String(params[p]) : m));
    },
    tn(key, params = {}) {
      const out = [];
      const text = lookup(key);
      let last = 0;
      for (const m of text.matchAll(/\{(\w+)\}/g)) {
        out.push(text.slice(last, m.index));
        const v = params[m[1]];
        out.push(v instanceof Node ? v : h('bdi', {}, v === undefined ? m[0] : String(v)));
        last = m.index + m[0].length;
      }
      out.push(text.slice(last));
      return out.filter((x) => x !== '');
    },
    /** An integer count (JavaScript number from the server's JSON, never a money amount). */
    num: (n) => numFmt.format(n),
    pct: (x) => pctFmt.format(x),
    /** "2026-12-01" → "1 décembre 2026" / "1 دجنبر 2026" / "1 December 2026". */
    date(iso) {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso ?? ''));
      if (!m) return String(iso ?? '');
      return dateFmt.format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])));
    },
    /** "2026-11" → "novembre 2026" / "نونبر 2026" / "November 2026". */
    month(ym) {
      const m = /^(\d{4})-(\d{2})$/.exec(String(ym ?? ''));
      if (!m) return String(ym ?? '');
      return monthFmt.format(new Date(Date.UTC(+m[1], +m[2] - 1, 1)));
    },
    /** A time (milliseconds since the epoch) as HH:MM in the counter PC's time zone: "21:14". */
    time: (ms) => timeFmt.format(new Date(ms)),
    /** A server timestamp (ISO 8601 with offset) in the counter PC's time zone. */
    stamp(iso) {
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? String(iso ?? '') : stampFmt.format(d);
    },
  };
  return tr;
}

/** An isolated run of left-to-right text (identifiers, hashes, dates) inside any language. */
export function ltr(text, cls) {
  return h('bdi', { dir: 'ltr', class: cls }, String(text));
}
