// `npm run size` (bench/size/run.mjs): typical imports bundled from the built packages stay
// within the budgets in bench/size/budget.json, and the script fails when one does not.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const script = join(root, 'bench/size/run.mjs');

function run(...args: string[]) {
  return spawnSync(process.execPath, [script, '--top', '0', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('bundle size budgets', () => {
  it('every typical import is within its budget', () => {
    const r = run();
    expect(r.stdout).toContain('size: every entry within its budget');
    expect(r.status).toBe(0);
  }, 60_000);

  it('acceptKey alone bundles to under 1.5 KB (its SHA-1 included): the rest of the codec is shaken out', () => {
    const dir = join(root, '.tmp/size');
    mkdirSync(dir, { recursive: true });
    const json = join(dir, 'sizes.json');
    run('--json', json);
    const entry = JSON.parse(readFileSync(json, 'utf8')).find((e: { name: string }) => e.name === 'codec-acceptKey');
    expect(entry.min).toBeLessThan(1536);
    expect(entry.modules.map((m: { path: string }) => m.path)).toEqual(
      expect.not.arrayContaining([expect.stringMatching(/frame_parser|protocol|connection/)]),
    );
  }, 60_000);

  it('exits 1 and names the entry when one is over its budget', () => {
    const dir = join(root, '.tmp/size');
    mkdirSync(dir, { recursive: true });
    const budget = JSON.parse(readFileSync(join(root, 'bench/size/budget.json'), 'utf8'));
    budget['codec-streams'] = { min: 1000, gzip: 500 };
    const file = join(dir, 'tight-budget.json');
    writeFileSync(file, JSON.stringify(budget));
    const r = run('--budget', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/codec-streams .* OVER \(min \d+ > 1000, gzip \d+ > 500\)/);
    expect(r.stdout).toContain('size: 1 of');
  }, 60_000);
});
