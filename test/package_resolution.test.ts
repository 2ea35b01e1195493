// "@wsflow/codec" resolves by name from the repo root in Node, Deno and Bun, and works.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const fixture = join(root, 'test/fixtures/resolve-codec.mjs');
const bin = (name: string) => join(root, 'node_modules/.bin', name);

const runtimes: Array<[string, string, string[]]> = [
  ['node', process.execPath, [fixture]],
  ['deno', bin('deno'), ['run', '--allow-read', '--allow-env', '--no-lock', '--no-remote', fixture]],
  ['bun', bin('bun'), ['run', '--no-install', fixture]],
];

describe('package resolution from the repo root', () => {
  it.each(runtimes)('%s imports @wsflow/codec by name and computes the RFC accept key', (_name, command, args) => {
    const out = execFileSync(command, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
      accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      keyLength: 16,
      frames: ['Hello'],
      encoded: [9],
    });
  }, 60_000);
});
