#!/usr/bin/env node
// `npm run fuzz -- --target NAME [--runs N] [--seconds S] [--seed N]`: runs one fuzz target under
// Jazzer.js (libFuzzer with coverage from instrumented JavaScript), from its checked-in seed
// corpus in fuzz/corpus/NAME/. New interesting inputs go to .tmp/fuzz/corpus/NAME/, findings
// to .tmp/fuzz/findings/ (with `--fresh`, new inputs go to a temporary folder, removed after:
// the run starts from the seeds alone). `--list` prints the targets; `--all` runs each in turn.
// Prints one line per target, "fuzz NAME: N runs, cov C, ft F, corpus K, T s, findings X",
// and exits non-zero when any target had a finding.
//
// Each target (fuzz/NAME.ts) is bundled with esbuild into .tmp/fuzz/NAME.mjs first, codec
// source included, so that Jazzer.js's ES module loader instruments the parser's code (it
// does not instrument TypeScript, and Node 20 cannot run it). pako, deflate-js's inflater, is
// bundled too, so coverage steers into it; ws, the independent implementation the targets
// compare with, is left out of the bundle and so out of the coverage.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const work = join(root, '.tmp/fuzz');

/** The targets: name -> the longest input libFuzzer makes for it. */
const TARGETS = {
  frame_server: { maxLen: 4096 },
  frame_client: { maxLen: 4096 },
  http_head: { maxLen: 4096 },
  header_grammar: { maxLen: 1024 },
  permessage_deflate: { maxLen: 1024 },
  close_payload: { maxLen: 256 },
  proxy_connect: { maxLen: 2048 },
  inflate_zlib: { maxLen: 4096 },
  inflate_js: { maxLen: 4096 },
};

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    all: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '10' },
    'rss-limit-mb': { type: 'string', default: '2048' },
    fresh: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const name of Object.keys(TARGETS)) console.log(name);
  process.exit(0);
}
const names = values.all ? Object.keys(TARGETS) : [values.target];
if (names[0] === undefined || !names.every((name) => name in TARGETS)) {
  console.error(`usage: npm run fuzz -- --target NAME [--runs N] [--seconds S] [--seed N] [--fresh] | --all | --list\ntargets: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of names) {
  const result = await fuzzTarget(name);
  console.log(
    `fuzz ${name}: ${result.runs} runs, cov ${result.cov}, ft ${result.ft}, corpus ${result.corpus}, ${result.seconds} s, findings ${result.findings}` +
      (result.findings ? ` (exit ${result.status}; input in ${join(work, 'findings')})` : ''),
  );
  if (result.findings) failed++;
}
process.exit(failed === 0 ? 0 : 1);

async function fuzzTarget(name) {
  const bundle = join(work, `${name}.mjs`);
  await build({
    entryPoints: [join(here, `${name}.ts`)],
    outfile: bundle,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    external: ['ws', 'node:*'],
    // One copy of the codec: the engines import it by package name, the targets by path.
    alias: { '@wsflow/codec': join(root, 'packages/codec/src/index.ts') },
    logLevel: 'warning',
  });
  const seeds = join(here, 'corpus', name);
  // --fresh: start from the seeds alone and keep nothing (the test command's runs).
  mkdirSync(work, { recursive: true });
  const grown = values.fresh ? mkdtempSync(join(work, `${name}-`)) : join(work, 'corpus', name);
  const findingsDir = join(work, 'findings');
  mkdirSync(grown, { recursive: true });
  mkdirSync(findingsDir, { recursive: true });
  const libFuzzer = [
    `-seed=${values.seed}`,
    `-max_len=${TARGETS[name].maxLen}`,
    `-rss_limit_mb=${values['rss-limit-mb']}`,
    `-artifact_prefix=${join(findingsDir, `${name}-`)}`,
    '-print_final_stats=1',
  ];
  if (values.runs !== undefined) libFuzzer.push(`-runs=${values.runs}`);
  if (values.seconds !== undefined) libFuzzer.push(`-max_total_time=${values.seconds}`);
  const jazzer = join(root, 'node_modules/@jazzer.js/core/dist/cli.js');
  const args = [
    '--require', join(here, 'support/prebuilt_compat.cjs'),
    jazzer, bundle, grown, seeds,
    '--sync', `--timeout=${Number(values.timeout) * 1000}`,
    '--', ...libFuzzer,
  ];
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${r.stdout}${r.stderr}`;
  if (values.fresh) rmSync(grown, { recursive: true, force: true });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const done = [...output.matchAll(/^#(\d+)\s+(?:DONE|INITED|NEW|REDUCE|pulse)\s+cov: (\d+) ft: (\d+) corp: (\d+)/gm)].at(-1);
  const runs = output.match(/^stat::number_of_executed_units: (\d+)/m)?.[1] ?? done?.[1] ?? '0';
  const status = r.status ?? 1;
  const findings = status === 0 && done ? 0 : 1;
  if (findings) process.stderr.write(output.split('\n').filter((line) => !/^#\d+\s+(NEW|REDUCE|pulse)/.test(line)).join('\n'));
  return { runs: Number(runs), cov: done?.[2] ?? '?', ft: done?.[3] ?? '?', corpus: done?.[4] ?? '?', seconds, status, findings };
}

