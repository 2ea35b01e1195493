#!/usr/bin/env node
// `npm test`: every suite, one after the other, then one closing line
// "N passed, N failed" summing them all.
//   1. Vitest: every package's unit, conformance and interop tests (Node 24).
//   2. Under Deno and under Bun (scripts/test-runtimes.mjs): the codec's and the facade's
//      suites again, and each runtime's own shim suite.
//      Then the test kit's Jest entry under Jest.
//   3. Doc tests: every code block of the READMEs and docs/ (scripts/doc-test.mjs), and
//      the API site builds with no broken link (scripts/docs.mjs, `npm run docs`).
//   4. Playwright: the end-to-end specs in Debian's Chromium.
// Expects `npm run build` to have run (scripts/test.sh does it). A suite that cannot
// report its counts counts as one failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.tmp');
mkdirSync(out, { recursive: true });
const bin = (name) => join(root, 'node_modules/.bin', name);

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function run(label, command, args, env = {}) {
  console.log(`\n=== ${label}: ${[command, ...args].join(' ')}`);
  const started = Date.now();
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
  const stdout = r.stdout?.toString() ?? '';
  process.stdout.write(stdout);
  return { status: r.status ?? 1, stdout, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

function add(label, counts, status, seconds) {
  if (counts === null) {
    counts = { passed: 0, failed: 1, skipped: 0 };
    console.log(`${label}: could not read its counts; counted as a failure`);
  } else if (status !== 0 && counts.failed === 0) {
    counts = { ...counts, failed: 1 };
    console.log(`${label}: exited ${status} with no failed test; counted as a failure`);
  }
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  lines.push(`${label.padEnd(12)} ${String(counts.passed).padStart(5)} passed ${String(counts.failed).padStart(4)} failed ${String(counts.skipped).padStart(4)} skipped  (${seconds}s)`);
}

// 1. Vitest, with a JSON report for the counts.
{
  const file = join(out, 'vitest.json');
  rmSync(file, { force: true });
  const r = run('vitest', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  let counts = null;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    counts = { passed: j.numPassedTests, failed: j.numFailedTests + (j.numTotalTestSuites > 0 && j.success === false && j.numFailedTests === 0 ? 1 : 0), skipped: j.numPendingTests + j.numTodoTests };
  } catch {}
  add('vitest', counts, r.status, r.seconds);
}

// 2. Deno and Bun: the harness prints "<runtime>: N passed, N failed[, N skipped]".
// The platform-neutral packages, the node:zlib deflate engine, the engine's behaviour suites
// (through the runtime's shim), plus the runtime's own shim.
for (const runtime of ['deno', 'bun']) {
  const r = run(runtime, process.execPath, [join(root, 'scripts/test-runtimes.mjs'), runtime, `packages/{codec,engine,websocket,deflate-zlib,deflate-js,${runtime}}`]);
  const m = r.stdout.match(new RegExp(`^${runtime}: (\\d+) passed, (\\d+) failed(?:, (\\d+) skipped)?$`, 'm'));
  add(runtime, m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : null, r.status, r.seconds);
}

// Jest: the test kit's Jest entry (matchers, fake timers, clean-up) under Jest itself.
{
  const file = join(out, 'jest.json');
  rmSync(file, { force: true });
  const r = run('jest', 'npm', ['run', '--silent', 'test:jest', '-w', '@wsflow/testing', '--', '--json', `--outputFile=${file}`]);
  let counts = null;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    counts = { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests };
  } catch {}
  add('jest', counts, r.status, r.seconds);
}

// 3. Doc tests: every code block of every README and docs/ page (scripts/doc-test.mjs).
{
  const r = run('doc-tests', process.execPath, [join(root, 'scripts/doc-test.mjs')]);
  const m = r.stdout.match(/^doc-tests: (\d+) passed, (\d+) failed/m);
  const s = r.stdout.match(/^doc-tests: \d+ blocks run, (\d+) skipped/m);
  add('doc-tests', m ? { passed: +m[1], failed: +m[2], skipped: +(s?.[1] ?? 0) } : null, r.status, r.seconds);
}
// The API site builds (TypeDoc, offline) with no broken link (scripts/docs.mjs).
{
  const r = run('docs-site', process.execPath, [join(root, 'scripts/docs.mjs')]);
  const m = r.stdout.match(/^docs: (\d+) passed, (\d+) failed$/m);
  add('docs-site', m ? { passed: +m[1], failed: +m[2], skipped: 0 } : null, r.status, r.seconds);
}

// 4. Playwright in Chromium, with a JSON report for the counts.
{
  const file = join(out, 'playwright.json');
  rmSync(file, { force: true });
  const r = run('playwright', bin('playwright'), ['test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: file });
  let counts = null;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')).stats;
    counts = { passed: s.expected + s.flaky, failed: s.unexpected, skipped: s.skipped };
  } catch {}
  add('playwright', counts, r.status, r.seconds);
}

console.log('\n=== summary');
for (const line of lines) console.log(line);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed === 0 ? 0 : 1);
