#!/usr/bin/env node
// `npm run size`: what typical imports of wsflow cost an application bundle. Each entry of
// bench/size/entries.mjs is bundled with esbuild (minified, ESM, for its platform) from the
// built packages (`npm run build` first), and its minified and gzipped sizes are checked
// against bench/size/budget.json. Prints a table and the largest modules of each bundle
// (esbuild's metafile), and exits 1 when an entry is over its budget.
//
//   node bench/size/run.mjs [--budget FILE] [--root DIR] [--top N] [--json FILE]
//
//   --budget FILE  budgets to check against (default bench/size/budget.json)
//   --root DIR     resolve @wsflow/* from DIR's node_modules (e.g. another checkout, to compare)
//   --top N        how many of the largest modules to list per entry (default 5; 0: none)
//   --json FILE    also write the measurements as JSON
//   --set-budget   write the budget file from this run: each size plus 15%, rounded up to
//                  100 bytes (after a deliberate growth; say why in the commit)
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ENTRIES } from './entries.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
}
const budgetFile = resolve(option('budget', join(here, 'budget.json')));
const root = resolve(option('root', join(here, '../..')));
const top = Number(option('top', '5'));
const jsonFile = option('json', undefined);
const setBudget = args.includes('--set-budget');
const budgets = setBudget ? {} : JSON.parse(readFileSync(budgetFile, 'utf8'));
const HEADROOM = 1.15;

/** Bundles one entry; returns its sizes and its inputs by bytes in the output. */
async function measure(entry) {
  const result = await build({
    stdin: { contents: entry.source, resolveDir: root, sourcefile: `${entry.name}.mjs`, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: entry.platform,
    target: 'es2022',
    external: entry.platform === 'node' ? ['node:*'] : [],
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'error',
  });
  const output = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const meta = Object.values(result.metafile.outputs)[0];
  const modules = Object.entries(meta.inputs)
    .map(([path, { bytesInOutput }]) => ({ path: shortPath(path), bytes: bytesInOutput }))
    .filter((m) => m.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  return { min: output.contents.length, gzip: gzipSync(output.contents, { level: 9 }).length, modules };
}

/** `packages/codec/dist/x.js` for a path inside the repo, the package path inside node_modules. */
function shortPath(path) {
  const abs = resolve(root, path);
  const nm = abs.lastIndexOf('/node_modules/');
  return nm !== -1 ? abs.slice(nm + '/node_modules/'.length) : relative(root, abs);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const rows = [];
let over = 0;
for (const entry of ENTRIES) {
  const m = await measure(entry);
  if (setBudget) {
    const allow = (n) => Math.ceil((n * HEADROOM) / 100) * 100;
    budgets[entry.name] = { min: allow(m.min), gzip: allow(m.gzip) };
  }
  const budget = budgets[entry.name];
  const problems = [];
  if (budget === undefined) problems.push('no budget');
  else {
    if (m.min > budget.min) problems.push(`min ${m.min} > ${budget.min}`);
    if (m.gzip > budget.gzip) problems.push(`gzip ${m.gzip} > ${budget.gzip}`);
  }
  if (problems.length > 0) over++;
  rows.push({ ...entry, ...m, budget, problems });
}
if (setBudget) writeFileSync(budgetFile, `${JSON.stringify(budgets, null, 2)}\n`);

console.log(`wsflow bundle sizes (esbuild, minified, ESM; gzip level 9), packages from ${relative(process.cwd(), root) || '.'}`);
console.log('');
console.log(`${'entry'.padEnd(26)}${'platform'.padEnd(10)}${'min'.padStart(10)}${'gzip'.padStart(10)}${'budget gzip'.padStart(13)}  status`);
for (const r of rows) {
  const status = r.problems.length === 0 ? 'ok' : `OVER (${r.problems.join(', ')})`;
  console.log(`${r.name.padEnd(26)}${r.platform.padEnd(10)}${kb(r.min).padStart(10)}${kb(r.gzip).padStart(10)}${(r.budget ? kb(r.budget.gzip) : '-').padStart(13)}  ${status}`);
}
if (top > 0) {
  for (const r of rows) {
    console.log(`\n${r.name}: ${r.description}\n  largest modules (minified bytes in the bundle):`);
    for (const m of r.modules.slice(0, top)) console.log(`  ${String(m.bytes).padStart(8)}  ${m.path}`);
  }
}
if (jsonFile !== undefined) {
  const out = rows.map(({ name, platform, min, gzip, budget, modules }) => ({ name, platform, min, gzip, budget, modules }));
  writeFileSync(jsonFile, `${JSON.stringify(out, null, 2)}\n`);
}
console.log(over === 0 ? '\nsize: every entry within its budget' : `\nsize: ${over} of ${rows.length} entries over budget`);
process.exit(over === 0 ? 0 : 1);
