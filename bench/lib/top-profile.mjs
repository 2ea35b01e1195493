// Prints the functions with the most self time in a .cpuprofile (from `node --cpu-prof`,
// e.g. `node bench/codec.mjs --cpu-prof --filter=...`).
//
//   node bench/lib/top-profile.mjs bench/profiles/wsflow-protocol.cpuprofile [count]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [file, countArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/lib/top-profile.mjs FILE.cpuprofile [count]');
  process.exit(1);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
// Sample i lasted timeDeltas[i + 1]; attribute each delta to the sampled node.
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0;
  const n = byId.get(prof.samples[i]);
  const f = n.callFrame;
  const key = `${f.functionName || '(anonymous)'}  ${f.url ? basename(f.url) : ''}${f.lineNumber >= 0 && f.url ? `:${f.lineNumber + 1}` : ''}`;
  self.set(key, (self.get(key) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = (self.get('(idle)  ') ?? 0) + (self.get('(program)  ') ?? 0);
console.log(`${basename(file)}: ${(total / 1000).toFixed(0)} ms sampled, ${((idle / total) * 100).toFixed(0)}% idle/program`);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 20))) {
  console.log(`${((v / total) * 100).toFixed(1).padStart(6)}%  ${(v / 1000).toFixed(1).padStart(8)} ms  ${k}`);
}
