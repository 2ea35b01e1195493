#!/usr/bin/env node
// `deno publish --dry-run` for every package with a jsr.json, offline for the wsflow
// packages themselves: they are copied (src/, README.md, LICENSE, jsr.json as deno.json)
// into a Deno workspace in a temp directory, where each resolves its @wsflow/* siblings
// from the workspace instead of from jsr.io. Deno type-checks each package's public API
// (no "slow types") and lists the files it would publish. Nothing is published.
// npm dependencies (pako for @wsflow/deflate-js) are fetched from the npm registry.
//
//   node scripts/jsr-dry-run.mjs
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dirs = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'jsr.json')))
  .sort();
const work = mkdtempSync(join(tmpdir(), 'wsflow-jsr-'));
try {
  for (const dir of dirs) {
    const from = join(root, 'packages', dir);
    cpSync(join(from, 'src'), join(work, dir, 'src'), { recursive: true });
    for (const file of ['README.md', 'LICENSE']) cpSync(join(from, file), join(work, dir, file));
    writeFileSync(join(work, dir, 'deno.json'), readFileSync(join(from, 'jsr.json')));
  }
  writeFileSync(join(work, 'deno.json'), `${JSON.stringify({ workspace: dirs.map((d) => `./${d}`) }, null, 2)}\n`);
  const deno = join(root, 'node_modules/.bin/deno');
  const r = spawnSync(deno, ['publish', '--dry-run', '--allow-dirty'], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    timeout: 600_000,
  });
  const output = `${r.stdout}${r.stderr}`.replaceAll(`file://${work}/`, 'packages/');
  process.stdout.write(output);
  const ok = r.status === 0 && /Dry run complete/.test(output);
  console.log(ok ? `jsr: dry run clean for ${dirs.map((d) => `@wsflow/${d}`).join(', ')}` : `jsr: dry run failed (exit ${r.status})`);
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
