#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node bench/node/run.mjs --cpu-prof`): the functions
// with the most self time, and the share of time under each package.
//
//   node bench/node/top-profile.mjs bench/node/profiles/wsflow-main.cpuprofile [count]
import { readFileSync } from 'node:fs';

const [file, countArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/node/top-profile.mjs FILE.cpuprofile [count]');
  process.exit(2);
}
const count = Number(countArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node: samples are node ids, timeDeltas the time before each sample (µs).
const selfTime = new Map();
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) selfTime.set(samples[i], (selfTime.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));

const shortUrl = (url) => {
  if (!url) return '';
  const m = /(packages\/[^/]+\/(?:src|dist)\/.*|node_modules\/.*|node:.*)$/.exec(url);
  return m ? m[1] : url.replace(/^file:\/\//, '');
};
const byFunction = new Map();
const byOwner = new Map();
let total = 0;
for (const node of profile.nodes) {
  const t = selfTime.get(node.id) ?? 0;
  if (t === 0) continue;
  total += t;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = shortUrl(url);
  const key = `${functionName || '(anonymous)'}  ${where}${where ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + t);
  const owner = /packages\/([^/]+)/.exec(where)?.[1] ?? /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where.startsWith('node:') ? 'node internals' : functionName.startsWith('(') ? functionName : 'native/other');
  byOwner.set(owner, (byOwner.get(owner) ?? 0) + t);
}

const pct = (t) => `${((t / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
console.log('self time by owner:');
for (const [owner, t] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${pct(t)}  ${owner}`);
console.log(`\ntop ${count} functions by self time:`);
for (const [key, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, count)) console.log(`  ${pct(t)}  ${key}`);
