// Every fuzz target (fuzz/README.md) runs briefly under Jazzer.js from its checked-in seed
// corpus: a fixed libFuzzer seed and run count, so a run is repeatable. A target passes when
// Jazzer.js finishes every run without a finding (an undocumented exception, a broken
// oracle, a hang past 10 s or memory past 2 GiB). `npm run fuzz -- --target NAME --runs N`
// runs one longer.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const runner = join(root, 'fuzz/run.mjs');
const RUNS = 2000;

function fuzz(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [runner, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const listed = fuzz(['--list']);
const targets = listed.stdout.trim().split('\n');

describe('coverage-guided fuzzing of the parsers (Jazzer.js)', () => {
  it('lists one target per parser the issue names', () => {
    expect(listed.status).toBe(0);
    expect(targets).toEqual([
      'frame_server',
      'frame_client',
      'http_head',
      'header_grammar',
      'permessage_deflate',
      'close_payload',
      'proxy_connect',
      'inflate_zlib',
      'inflate_js',
    ]);
  });

  for (const target of targets) {
    it(`${target}: ${RUNS} runs from the seed corpus with no finding`, () => {
      const r = fuzz(['--target', target, '--runs', String(RUNS), '--seed', '1', '--fresh']);
      const summary = r.stdout.match(new RegExp(`^fuzz ${target}: (\\d+) runs, cov (\\d+), ft (\\d+), corpus (\\d+), [\\d.]+ s, findings (\\d+)`, 'm'));
      expect(summary, `${r.stdout}\n${r.stderr.slice(-4000)}`).not.toBeNull();
      const [, runs, cov, , , findings] = summary!;
      expect(Number(findings), r.stderr.slice(-4000)).toBe(0);
      expect(r.status).toBe(0);
      expect(Number(runs)).toBe(RUNS);
      // The parser's code is instrumented: coverage feedback is there to steer by.
      expect(Number(cov)).toBeGreaterThan(20);
    }, 120_000);
  }
});
