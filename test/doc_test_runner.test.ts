// scripts/doc-test.mjs, the runner that runs the README and guide code blocks: it must
// report a failing block with its file:line, kill a block that never ends, catch a stale
// shell command, and count what it skips.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const runner = join(root, 'scripts/doc-test.mjs');
mkdirSync(join(root, '.tmp'), { recursive: true });
const dir = mkdtempSync(join(root, '.tmp', 'doc-test-fixture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fence = '```';
function run(name: string, markdown: string) {
  const file = join(dir, name);
  writeFileSync(file, markdown);
  const r = spawnSync(process.execPath, [runner, file], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: r.stdout + r.stderr, file: file.slice(root.length + 1) };
}

describe('doc-test runner', () => {
  it('runs a passing ts block that imports a workspace package by name, and counts it', () => {
    const r = run('pass.md', `# x\n\n${fence}ts\nimport { acceptKey } from '@wsflow/codec';\nif (await acceptKey('dGhlIHNhbXBsZSBub25jZQ==') !== 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=') throw new Error('wrong');\n${fence}\n`);
    expect(r.out).toContain('doc-tests: 1 blocks run, 0 skipped');
    expect(r.out).toContain('doc-tests: 1 passed, 0 failed');
    expect(r.status).toBe(0);
  }, 120_000);

  it('fails a throwing block and names its file and line', () => {
    const r = run('fail.md', `# x\n\ntext\n\n${fence}ts\nthrow new Error('the example is stale');\n${fence}\n`);
    expect(r.out).toContain(`FAIL ${r.file}:5 [node] exited with 1`);
    expect(r.out).toContain('the example is stale');
    expect(r.out).toContain('doc-tests: 0 passed, 1 failed');
    expect(r.status).toBe(1);
  }, 120_000);

  it('kills a block that leaves a server open past its timeout', () => {
    const r = run('hang.md', `<!-- doc-test: timeout 2 -->\n${fence}js\nimport { createServer } from 'node:net';\ncreateServer().listen(8080, '127.0.0.1');\n${fence}\n`);
    expect(r.out).toContain(`FAIL ${r.file}:2 [node] did not end within 2s`);
    expect(r.status).toBe(1);
  }, 120_000);

  it('checks shell commands without running them: a missing npm script or file fails', () => {
    const good = run('sh-good.md', `${fence}sh\nnpm run build      # builds\nnode scripts/test.mjs\n${fence}\n`);
    expect(good.out).toContain('doc-tests: 0 blocks run, 1 skipped (1 shell: commands checked');
    expect(good.status).toBe(0);
    const bad = run('sh-bad.md', `${fence}sh\ncd /home/someone/wsflow\nnpm run no-such-script\nnode scripts/no-such-file.mjs\n${fence}\n`);
    expect(bad.out).toContain('has no "no-such-script" script');
    expect(bad.out).toContain('scripts/no-such-file.mjs`: no such file');
    expect(bad.out).toContain('`cd /home/someone/wsflow`: a path on one machine');
    expect(bad.status).toBe(1);
  }, 120_000);

  it('counts skipped blocks with their reasons, and runs vitest blocks as tests', () => {
    const r = run('mixed.md', [
      `<!-- doc-test: skip needs a browser -->\n${fence}ts\nwindow.alert(1);\n${fence}\n`,
      `${fence}\noutput\n${fence}\n`,
      `${fence}ts vitest\nimport { expect, it } from 'vitest';\nit('adds', () => expect(1 + 1).toBe(3));\n${fence}\n`,
    ].join('\n'));
    expect(r.out).toContain('2 skipped (1 needs a browser; 1 output or diagram (no language))');
    expect(r.out).toMatch(/FAIL .*mixed\.md:\d+ \[vitest\] 1 test\(s\) failed: adds/);
    expect(r.status).toBe(1);
  }, 120_000);

  it('lists every repo block without running any', () => {
    const out = execFileSync(process.execPath, [runner, '--list', 'README.md'], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/^README\.md:\d+\tts\tcode node$/m);
  });
});

describe('docs site build (scripts/docs.mjs)', () => {
  it('treats broken links as fatal and links to internal symbols as notes', () => {
    const lines = [
      '[warning] Failed to resolve link to "Nope" in comment for @wsflow/codec.acceptKey',
      '[warning] Failed to resolve link to "./gone.md" in document guides/node',
      '[warning] The relative path ./missing.md is not a file and will not be copied to the output directory',
      '\x1b[96m./docs/guides/bun.md\x1b[0m:\x1b[93m56\x1b[0m:\x1b[93m23\x1b[0m - \x1b[93m[warning]\x1b[0m The relative path missing-page.md is not a file and will not be copied to the output directory',
      '[warning] The glob /x/docs/guides/*.md did not match any files',
      '[warning] The comment for @wsflow/bun.X links to "Y" which was resolved but is not included in the documentation. To fix this warning export it',
      '[error] Something failed',
      '[warning] Found 0 errors and 2 warnings',
      '[info] html generated at ./docs-site',
    ];
    const out = execFileSync(process.execPath, [join(root, 'scripts/docs.mjs'), '--classify'], { input: lines.join('\n'), encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['broken-link', 'broken-link', 'broken-link', 'broken-link', 'broken-link', 'not-exported', 'error', 'other', 'other']);
  });
});

describe('doc-test runner peers', () => {
  it('gives a client snippet marked peer echo a server on its 8080', () => {
    const r = run('peer.md', `<!-- doc-test: peer echo -->\n${fence}js\nconst ws = new WebSocket('ws://127.0.0.1:8080/');\nws.onopen = () => ws.send('marco');\nws.onmessage = (e) => { if (e.data !== 'marco') process.exit(3); ws.close(); };\n${fence}\n`);
    expect(r.out).toContain('doc-tests: 1 passed, 0 failed');
    const without = run('no-peer.md', `<!-- doc-test: timeout 10 -->\n${fence}js\nconst ws = new WebSocket('ws://127.0.0.1:8080/');\nws.onerror = () => process.exit(4);\n${fence}\n`);
    expect(without.out).toContain('exited with 4');
  }, 120_000);
});

describe('doc-test runner types', () => {
  it('fails a ts block that runs but does not type-check, naming the Markdown line', () => {
    const r = run('types.md', `# x\n\n${fence}ts\nimport { acceptKey } from '@wsflow/codec';\nconst n: number = await acceptKey('dGhlIHNhbXBsZSBub25jZQ==');\nconsole.log(n);\n${fence}\n`);
    expect(r.out).toContain(`FAIL ${r.file}:3 [types] does not type-check`);
    expect(r.out).toMatch(new RegExp(`${r.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: error TS2322`));
    expect(r.out).toContain('doc-tests: 1 passed, 1 failed (1 of them type errors)');
    expect(r.status).toBe(1);
  }, 120_000);
});

describe('doc-test runner defaults', () => {
  it('runs a block importing from vitest as a test file, and skips a block whose service is missing', () => {
    const r = run('auto.md', [
      `${fence}ts\nimport { expect, test } from 'vitest';\ntest('runs under vitest', () => expect(2 * 2).toBe(4));\n${fence}\n`,
      `<!-- doc-test: needs WSFLOW_DOC_TEST_UNSET_VAR -->\n${fence}ts\nthrow new Error('must not run');\n${fence}\n`,
    ].join('\n'));
    expect(r.out).toMatch(/ok {3}.*auto\.md:1 \[vitest\]/);
    expect(r.out).toContain('1 needs WSFLOW_DOC_TEST_UNSET_VAR (unset)');
    expect(r.out).toContain('doc-tests: 1 passed, 0 failed');
  }, 120_000);
});

describe('doc-test runner prose', () => {
  it('checks commands quoted inline in the prose, outside code blocks', () => {
    const r = run('inline.md', 'Run `npm run build` first, then `npm run bench:gone` and `node scripts/test.mjs`.\n');
    expect(r.out).toMatch(/FAIL .*inline\.md:1 \[inline\] stale command in the prose/);
    expect(r.out).toContain('has no "bench:gone" script');
    expect(r.out).toContain('3 inline commands checked');
    expect(r.status).toBe(1);
  }, 120_000);
});
