// The message catalogues: the same keys in every language, no empty message, the same
// placeholders, and every key the page's code asks for present.
import fs from 'node:fs';
import path from 'node:path';
import { LANGS, expect } from '../lib/harness.mjs';

export const name = 'catalogue';
export const browserless = true;

export async function run(ctx) {
  const cats = ctx.catalogues;
  const keys = new Set(LANGS.flatMap((l) => Object.keys(cats[l])));
  const placeholders = (m) => [...m.matchAll(/\{(\w+)\}/g)].map((x) => x[1]).sort().join(',');
  for (const k of keys) {
    for (const l of LANGS) {
      expect(typeof cats[l][k] === 'string', `catalogue ${l} lacks "${k}"`);
      expect(cats[l][k].trim() !== '', `catalogue ${l}: "${k}" is empty`);
      expect(placeholders(cats[l][k]) === placeholders(cats.fr[k]),
        `catalogue ${l}: "${k}" has placeholders {${placeholders(cats[l][k])}}, French has {${placeholders(cats.fr[k])}}`);
    }
  }
  // A message identical to the English one is an untranslated copy, unless it is a name or has
  // no words (placeholders, punctuation), or is the same word in French.
  const names = new Set(['app.name', 'lang.name.fr', 'lang.name.ar', 'lang.name.en']);
  const sameInFrench = new Set(['receipt.col.programme']);
  for (const k of keys) {
    const words = cats.en[k].replace(/\{\w+\}/g, '').match(/\p{L}/u);
    for (const l of ['fr', 'ar']) {
      if (cats[l][k] !== cats.en[k] || names.has(k) || !words || (l === 'fr' && sameInFrench.has(k))) continue;
      expect(false, `catalogue ${l}: "${k}" is the English text (${cats.en[k]})`);
    }
  }
  // Keys written literally in the page's code (t('…'), tn('…'), key: '…').
  const www = path.join(ctx.root, 'server/www');
  const used = new Set();
  for (const f of fs.readdirSync(www).filter((x) => x.endsWith('.js'))) {
    const src = fs.readFileSync(path.join(www, f), 'utf8');
    for (const m of src.matchAll(/\b(?:t|tn)\(\s*'([a-z0-9_.]+)'|key: '([a-z0-9_.]+)'/g)) used.add(m[1] || m[2]);
  }
  for (const k of used) expect(keys.has(k), `the page asks for "${k}", which no catalogue has`);
  // Keys built at run time (`form.error.${type}`, `lang.name.${l}`, `role.${role}`, `screen.${s}`,
  // `session.${kind}.title`).
  for (const t of ['int', 'money', 'decimal']) expect(keys.has(`form.error.${t}`), `no form.error.${t}`);
  for (const l of LANGS) expect(keys.has(`lang.name.${l}`), `no lang.name.${l}`);
  for (const r of ['official', 'adviser', 'auditor', 'admin']) expect(keys.has(`role.${r}`), `no role.${r}`);
  for (const s of ['signin', 'form', 'answer', 'receipt', 'figures']) expect(keys.has(`screen.${s}`), `no screen.${s}`);
  for (const k of ['idle', 'absolute']) {
    for (const p of ['title', 'text']) expect(keys.has(`session.${k}.${p}`), `no session.${k}.${p}`);
  }
  ctx.catalogueKeys = keys.size;
}
