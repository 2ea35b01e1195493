// `deno publish --dry-run` (scripts/jsr-dry-run.mjs) for every package with a jsr.json: Deno
// type-checks the TypeScript sources JSR would serve, finds no slow types, and lists the files.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const withJsr = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'jsr.json'))).sort();

describe('JSR', () => {
  it('deno publish --dry-run is clean for every package with a jsr.json, publishing README, LICENSE and src/*.ts only', () => {
    expect(withJsr).toEqual(expect.arrayContaining(['codec', 'deno', 'engine', 'websocket']));
    const r = spawnSync(process.execPath, [join(root, 'scripts/jsr-dry-run.mjs')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    expect(r.stdout).toContain('Success Dry run complete');
    expect(r.status).toBe(0);
    for (const dir of withJsr) {
      const section = r.stdout.split(`Simulating publish of @wsflow/${dir}@`)[1]?.split(/\nSimulating publish|\nSuccess/)[0] ?? '';
      const files = [...section.matchAll(/^\s+packages\/[^/]+\/(\S+) \(/gm)].map((m) => m[1]);
      expect(files, dir).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'src/index.ts']));
      expect(files.filter((f) => !/^(?:README\.md|LICENSE|deno\.json|src\/.+(?<!\.d)\.ts)$/.test(f)), dir).toEqual([]);
    }
  }, 300_000);
});
