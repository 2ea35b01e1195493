#!/usr/bin/env node
// Doc tests: every fenced code block of every README.md and of docs/**/*.md is run, so the
// documentation cannot drift from the code.
//
//   node scripts/doc-test.mjs [--list] [--keep] [--verbose] [--concurrency N] [file-or-dir ...]
//
// What happens to a block is decided by its info string and by an optional directive, an
// HTML comment on the line(s) just above the fence (invisible on GitHub and in the site):
//
//   ```ts / ```js            run as a program under Node 24 (types stripped), from
//                            .tmp/doc-tests/, so `@wsflow/*` resolve to the workspace
//                            packages; relative imports resolve from the Markdown file's
//                            directory, as if the block were a file next to it.
//   ```ts deno / bun / node  run under each runtime named (esbuild bundle, as
//                            scripts/test-runtimes.mjs does). `ts node deno bun` runs it 3 times.
//   ```ts vitest             a Vitest test file: all such blocks run in one `vitest run`. A
//                            block that imports from 'vitest' is one without the tag.
//   ```json                  parsed (JSON.parse).
//   ```sh / bash / shell     not run: each command is checked instead (an `npm run X` script
//                            exists in the package it names, a file a command runs exists).
//                            `<!-- doc-test: run -->` runs the block with `sh -e` instead.
//                            Commands quoted inline in the prose (`npm run X`, `node file`)
//                            are checked the same way.
//   no language, text, wat…  output or another language: counted as skipped.
//   <!-- doc-test: skip REASON -->   not run; REASON is reported.
//   <!-- doc-test: timeout 60 -->    seconds before the block counts as hung (default 30).
//   <!-- doc-test: needs REDIS_URL -->  run only when that environment variable is set;
//                            otherwise skipped, with the reason counted.
//   <!-- doc-test: peer redis -->    a redis-server of its own for the block, its URL in REDIS_URL.
//   <!-- doc-test: peer echo -->     for a client snippet (a browser's, say): the runner starts
//                            a wsflow echo server (permessage-deflate on) on a free port and
//                            the block's 8080 becomes that port; closed after the block.
//   Directives combine: <!-- doc-test: peer echo, timeout 60 -->.
//
// Types: the `ts` blocks that run under Node or Vitest are also type-checked, in one `tsc`
// program against the packages' published .d.ts (strict, as tsconfig.base.json), so an
// example that runs but would not compile in a user's project fails too (`--no-types` skips
// this, `--types-only` does only this).
//
// Ports: the literal 8080 (and 9001) in a block is replaced by a free port picked when the
// block runs, so examples can show the usual port yet never collide on a shared machine.
// Every block must end by itself (servers closed, sockets ended) within its timeout; a block
// that does not is killed (its whole process group) and fails.
//
// Prints one line per failure (`FAIL file:line [runtime] reason`, then the block's output),
// then `doc-tests: N blocks run, M skipped (reasons)` and `doc-tests: N passed, N failed`,
// and exits non-zero if any block failed.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.tmp', `doc-tests-${process.pid}`);
const bin = (name) => join(root, 'node_modules', '.bin', name);

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const list = flag('--list');
const keep = flag('--keep');
const verbose = flag('--verbose');
const ci = argv.indexOf('--concurrency');
const concurrency = ci >= 0 ? Math.max(1, Number(argv[ci + 1]) || 1) : 2;
const filters = argv.filter((a, i) => !a.startsWith('--') && !(ci >= 0 && i === ci + 1));

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.tmp', '.turbo', 'docs-site', 'test-results', 'playwright-report']);
const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'mts']);
const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'zsh']);
const RUNTIMES = ['node', 'deno', 'bun'];
const PORTS = [8080, 9001];
const DEFAULT_TIMEOUT_S = 30;

/** Every README.md in the repo and every .md under docs/, sorted. */
function markdownFiles(dir = root) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...markdownFiles(join(dir, e.name)));
    } else if (e.name === 'README.md' || (e.name.endsWith('.md') && relative(root, dir).split(sep)[0] === 'docs')) {
      out.push(join(dir, e.name));
    }
  }
  return out.sort();
}

/** The fenced code blocks of one Markdown file, with the directive above each. */
export function parseBlocks(text, file) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).exec(lines[j]);
      if (close) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    // The directive: the nearest non-blank line above, if it is a doc-test comment.
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const directive = k >= 0 ? /^\s*<!--\s*doc-test:?\s*(.*?)\s*-->\s*$/.exec(lines[k])?.[1] ?? null : null;
    const [lang = '', ...tags] = info.trim().split(/\s+/).filter(Boolean);
    blocks.push({ file, line: i + 1, lang: lang.toLowerCase(), tags, directive, code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

/** What to do with a block: { kind: 'code'|'vitest'|'json'|'shell'|'shell-run'|'skip', ... }. */
function plan(block) {
  const d = block.directive ?? '';
  const skip = /^skip\b\s*(.*)$/.exec(d);
  if (skip) return { kind: 'skip', reason: skip[1] || '(no reason given)' };
  const needs = /\bneeds\s+([A-Z_][A-Z0-9_]*)/.exec(d)?.[1];
  if (needs !== undefined && !process.env[needs]) return { kind: 'skip', reason: `needs ${needs} (unset)` };
  const timeout = Number(/\btimeout\s+(\d+)/.exec(d)?.[1] ?? DEFAULT_TIMEOUT_S) * 1000;
  if (CODE_LANGS.has(block.lang)) {
    // A test file: tagged so, or a block that imports from Vitest (it needs Vitest's runner).
    if (block.tags.includes('vitest') || (block.tags.length === 0 && /\bfrom\s*['"]vitest['"]/.test(block.code))) return { kind: 'vitest', timeout };
    const unknown = block.tags.filter((t) => !RUNTIMES.includes(t));
    if (unknown.length) return { kind: 'invalid', reason: `unknown tag(s) ${unknown.join(' ')} (use node, deno, bun or vitest)` };
    const runtimes = block.tags.length ? block.tags : ['node'];
    const peer = /\bpeer\s+(\w+)/.exec(d)?.[1];
    if (peer !== undefined && peer !== 'echo' && peer !== 'redis') return { kind: 'invalid', reason: `unknown peer ${peer} (the runner provides: echo, redis)` };
    return { kind: 'code', runtimes, timeout, peer };
  }
  if (block.lang === 'json') return { kind: 'json' };
  if (SHELL_LANGS.has(block.lang)) return /^run\b/.test(d) ? { kind: 'shell-run', timeout } : { kind: 'shell' };
  return { kind: 'skip', reason: block.lang ? `${block.lang}: not code to run` : 'output or diagram (no language)' };
}

const rel = (f) => relative(root, f).split(sep).join('/');
const where = (b) => `${rel(b.file)}:${b.line}`;

/** A free TCP port on 127.0.0.1 (the OS picks it; released before the block binds it). */
function freePort() {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

/** The block's code with its usual ports replaced by free ones (8080 by the peer's, if any). */
async function withFreePorts(code, peerPort) {
  for (const p of PORTS) {
    const port = p === 8080 && peerPort !== undefined ? peerPort : await freePort();
    code = code.replace(new RegExp(`\\b${p}\\b`, 'g'), String(port));
  }
  return code;
}

/**
 * A peer a block needs: `echo`, a wsflow echo server on 127.0.0.1 (any path; its port
 * replaces 8080); `redis`, a redis-server of its own on a free loopback port (its URL in
 * the block's `REDIS_URL`).
 */
async function startPeer(kind) {
  if (kind === 'redis') {
    const { startRedisServer } = await import('../tools/redis_server.ts');
    const redis = await startRedisServer();
    return { port: undefined, env: { REDIS_URL: redis.url }, close: () => redis.dispose() };
  }
  if (kind !== 'echo') throw new Error(`unknown peer ${kind}`);
  const { serve } = await import('@wsflow/node');
  const server = await serve({
    port: 0,
    perMessageDeflate: true,
    handler: (conn) => {
      conn.onmessage = (data) => conn.send(data);
    },
  });
  return { port: server.port, close: () => server.close() };
}

/** Relative import specifiers resolved against the Markdown file's directory. */
function absoluteImports(code, mdDir) {
  const fix = (spec) => pathToFileURL(resolve(mdDir, spec)).href;
  return code
    .replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]+)\2/g, (_, pre, q, spec) => `${pre}${q}${fix(spec)}${q}`);
}

/** Runs a command with a deadline; kills its process group when it is late. */
function exec(cmd, args, { cwd = root, timeout, env = {} }) {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', DENO_NO_UPDATE_CHECK: '1', ...env },
    });
    let output = '';
    const take = (chunk) => {
      output += chunk;
      if (output.length > 64 * 1024) output = output.slice(-64 * 1024);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ ok: false, reason: `could not start ${cmd}: ${e.message}`, output });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Anything the block left behind in its process group goes too.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      if (late) done({ ok: false, reason: `did not end within ${timeout / 1000}s (a server, socket or timer left open?)`, output });
      else if (code !== 0) done({ ok: false, reason: `exited with ${code ?? signal}`, output });
      else done({ ok: true, output });
    });
  });
}

let seq = 0;
const slug = (b) => `${String(++seq).padStart(3, '0')}-${rel(b.file).replace(/[^a-z0-9]+/gi, '_')}-L${b.line}`;

/** Runs a ts/js block under one runtime. */
async function runCode(block, runtime, timeout, peerKind, peerPort, env = {}) {
  if (peerKind !== undefined) {
    const peer = await startPeer(peerKind);
    try {
      return await runCode(block, runtime, timeout, undefined, peer.port, peer.env ?? {});
    } finally {
      await peer.close();
    }
  }
  const code = await withFreePorts(block.code, peerPort);
  const mdDir = dirname(block.file);
  const ts = block.lang === 'ts' || block.lang === 'typescript' || block.lang === 'mts';
  const name = `${slug(block)}-${runtime}`;
  if (runtime === 'node') {
    const file = join(work, `${name}.${ts ? 'ts' : 'mjs'}`);
    writeFileSync(file, absoluteImports(code, mdDir));
    return exec(bin('node'), ['--no-warnings', file], { timeout, env });
  }
  // Deno and Bun: one bundle, as scripts/test-runtimes.mjs builds for them.
  const outfile = join(work, `${name}.js`);
  try {
    await build({
      stdin: { contents: code, resolveDir: mdDir, sourcefile: where(block), loader: ts ? 'ts' : 'js' },
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      conditions: [runtime, 'import', 'default'],
      target: 'esnext',
      external: ['node:*'],
      logLevel: 'silent',
    });
  } catch (e) {
    return { ok: false, reason: 'bundling failed', output: e.errors?.map((x) => x.text).join('\n') ?? String(e) };
  }
  const args = runtime === 'deno'
    ? ['run', '--allow-all', '--no-config', '--no-lock', '--no-remote', '--no-npm', outfile]
    : ['run', '--no-install', outfile];
  return exec(bin(runtime), args, { cwd: work, timeout, env });
}

/**
 * Type-checks the TypeScript blocks that run under Node or Vitest, in one `tsc` program
 * against the packages' published types (their dist .d.ts). Deno and Bun blocks use those
 * runtimes' globals and are left to run. Returns one problem list per block.
 */
async function typecheck(blocks) {
  const dir = join(work, 'types');
  mkdirSync(dir, { recursive: true });
  const files = blocks.map(({ block }, i) => {
    const file = join(dir, `b${String(i).padStart(3, '0')}.ts`);
    // Relative imports as absolute paths (tsc does not take file: URLs).
    const code = block.code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]+)\2/g, (_, pre, q, spec) => {
      const target = relative(dir, resolve(dirname(block.file), spec)).split(sep).join('/');
      return `${pre}${q}${target.startsWith('.') ? target : `./${target}`}${q}`;
    });
    writeFileSync(file, code);
    return file;
  });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: join(root, 'tsconfig.base.json'),
    compilerOptions: { noEmit: true, types: ['node'], lib: ['ES2023', 'DOM', 'DOM.Iterable', 'DOM.AsyncIterable'], moduleDetection: 'force', declaration: false, skipLibCheck: true },
    files,
  }));
  const r = await exec(bin('tsc'), ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { timeout: 180_000 });
  const problems = blocks.map(() => []);
  for (const line of r.output.split('\n')) {
    const m = /^(.*?)\((\d+),(\d+)\): (error TS\d+: .*)$/.exec(line);
    const i = m ? files.indexOf(resolve(m[1])) : -1;
    if (i >= 0) problems[i].push(`${rel(blocks[i].block.file)}:${blocks[i].block.line + Number(m[2])}: ${m[4]}`);
  }
  if (!r.ok && problems.every((p) => p.length === 0)) problems.forEach((p) => p.push(`tsc failed: ${r.reason}\n${r.output.slice(-2000)}`));
  return problems;
}

/** Runs every `ts vitest` block in one Vitest run; one result per block. */
async function runVitest(blocks) {
  if (blocks.length === 0) return [];
  const dir = join(work, 'vitest');
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (const { block } of blocks) {
    const file = join(dir, `${slug(block)}.test.ts`);
    writeFileSync(file, absoluteImports(await withFreePorts(block.code), dirname(block.file)));
    files.push(file);
  }
  const config = join(dir, 'vitest.config.mjs');
  const timeout = Math.max(...blocks.map((b) => b.plan.timeout));
  writeFileSync(config, `export default { test: { root: ${JSON.stringify(dir)}, include: ['*.test.ts'], testTimeout: ${timeout}, hookTimeout: ${timeout} } };\n`);
  const report = join(dir, 'report.json');
  rmSync(report, { force: true });
  const r = await exec(bin('vitest'), ['run', '--config', config, '--reporter=json', `--outputFile=${report}`], { timeout: timeout * blocks.length + 60_000 });
  let results = null;
  try {
    results = JSON.parse(readFileSync(report, 'utf8')).testResults;
  } catch {}
  return blocks.map(({ block }, i) => {
    const f = results?.find((t) => resolve(t.name) === files[i]);
    if (!f) return { ok: false, reason: `vitest gave no result (${r.reason ?? 'no report'})`, output: r.output };
    const failed = f.assertionResults.filter((a) => a.status !== 'passed' && a.status !== 'skipped' && a.status !== 'pending');
    if (f.status !== 'passed' || failed.length) {
      return { ok: false, reason: failed.length ? `${failed.length} test(s) failed: ${failed.map((a) => a.title).join('; ')}` : 'the file failed', output: [f.message, ...failed.flatMap((a) => a.failureMessages)].filter(Boolean).join('\n') };
    }
    if (f.assertionResults.length === 0) return { ok: false, reason: 'no test in the block' };
    return { ok: true };
  });
}

/** The commands of a shell block, checked without running them. Returns the problems. */
export function checkShell(block) {
  const problems = [];
  const mdDir = dirname(block.file);
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const workspace = new Map();
  for (const d of readdirSync(join(root, 'packages'))) {
    const p = join(root, 'packages', d, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8'));
      workspace.set(pkg.name, pkg).set(`packages/${d}`, pkg);
    }
  }
  const exists = (p) => existsSync(resolve(root, p)) || existsSync(resolve(mdDir, p));
  const placeholder = (t) => /[<>[\]|{}$*]/.test(t) || /^[A-Z][A-Z0-9_]*$/.test(t);
  const joined = block.code.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line || line.startsWith('$ ') === false && /^[A-Za-z]+:/.test(line)) continue;
    for (const part of line.replace(/^\$\s+/, '').split(/\s*(?:&&|\|\||;|\|)\s*/)) {
      const tokens = part.split(/\s+/).filter(Boolean);
      while (tokens.length && /^[A-Z_][A-Z0-9_]*=/.test(tokens[0])) tokens.shift();
      if (tokens.length === 0) continue;
      let [cmd, ...args] = tokens;
      if (cmd === 'npx' && args[0] && !args[0].startsWith('-')) {
        const tool = args.shift();
        if (!existsSync(bin(tool))) problems.push(`\`npx ${tool}\`: no node_modules/.bin/${tool} (not a devDependency)`);
        cmd = tool;
      }
      if (cmd === 'cd' && args[0]?.startsWith('/')) {
        problems.push(`\`cd ${args[0]}\`: a path on one machine; say "from the repository root" instead`);
        continue;
      }
      if (cmd === 'npm') {
        const w = args.findIndex((a) => a === '-w' || a === '--workspace');
        const target = w >= 0 ? args[w + 1] : null;
        const pkg = target ? workspace.get(target.replace(/\/$/, '')) : rootPkg;
        if (target && !pkg) {
          problems.push(`\`npm … -w ${target}\`: no such workspace`);
          continue;
        }
        const sub = args[0];
        const script = sub === 'run' || sub === 'run-script' ? args.find((a, i) => i > 0 && !a.startsWith('-') && args[i - 1] !== '-w' && args[i - 1] !== '--workspace') : ['start', 'test', 'stop', 'restart'].includes(sub) ? sub : null;
        if (script && !placeholder(script) && !pkg.scripts?.[script]) problems.push(`\`npm ${sub}${sub === 'run' ? ` ${script}` : ''}\`: ${target ?? 'the root package.json'} has no "${script}" script`);
        continue;
      }
      if (/^(\.{0,2}\/|node_modules\/|scripts\/|tools\/|bench\/)/.test(cmd) && !placeholder(cmd) && !exists(cmd)) problems.push(`\`${cmd}\`: no such file`);
      if (['node', 'deno', 'bun', 'sh', 'bash', 'python3', 'tsx'].includes(cmd.split('/').pop())) {
        const file = args.find((a) => /\.(m?[jt]s|cjs|sh|py)$/.test(a) && !a.startsWith('-') && !/^[a-z]+:/.test(a));
        if (file && !placeholder(file) && !exists(file)) problems.push(`\`${cmd} … ${file}\`: no such file`);
      }
    }
  }
  return problems;
}

async function pool(items, n, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }));
  return results;
}

async function main() {
  // A filter naming a .md file anywhere (e.g. a test's fixture) takes that file as it is.
  const found = markdownFiles().filter((f) => filters.length === 0 || filters.some((s) => rel(f) === s || rel(f).startsWith(`${s.replace(/\/$/, '')}/`)));
  const direct = filters.filter((s) => s.endsWith('.md') && existsSync(s)).map((s) => resolve(s)).filter((f) => !found.includes(f));
  const files = [...found, ...direct];
  const blocks = files.flatMap((f) => parseBlocks(readFileSync(f, 'utf8'), f)).map((b) => ({ block: b, plan: plan(b) }));
  if (list) {
    for (const { block, plan: p } of blocks) console.log(`${where(block)}\t${block.lang || '-'}\t${p.kind}${p.runtimes ? ` ${p.runtimes.join(',')}` : ''}${p.reason ? `\t${p.reason}` : ''}`);
    return 0;
  }
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const failures = [];
  const skipped = new Map();
  let run = 0;
  let passed = 0;
  const perFile = new Map();
  const record = (block, label, r) => {
    run++;
    const key = rel(block.file);
    perFile.set(key, (perFile.get(key) ?? 0) + 1);
    if (r.ok) passed++;
    else failures.push({ block, label, ...r });
  };
  const skip = (reason) => skipped.set(reason, (skipped.get(reason) ?? 0) + 1);

  // Cheap ones first, in this process.
  for (const { block, plan: p } of blocks) {
    if (p.kind === 'skip') skip(p.reason);
    else if (p.kind === 'invalid') record(block, 'directive', { ok: false, reason: p.reason });
    else if (p.kind === 'shell') {
      const problems = checkShell(block);
      if (problems.length) record(block, 'sh', { ok: false, reason: 'stale command(s)', output: problems.join('\n') });
      else skip('shell: commands checked (scripts and files exist), not run');
    } else if (p.kind === 'json') {
      try {
        JSON.parse(block.code);
        record(block, 'json', { ok: true });
      } catch (e) {
        record(block, 'json', { ok: false, reason: e.message });
      }
    }
  }
  // Commands quoted inline in the prose (`npm run bench:deflate`, `node tools/echo.ts …`):
  // checked like shell blocks, outside fenced blocks.
  let inlineChecked = 0;
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let fenced = false;
    lines.forEach((text, i) => {
      if (/^\s*(`{3,}|~{3,})/.test(text)) fenced = !fenced;
      if (fenced) return;
      for (const m of text.matchAll(/`((?:npm (?:run|start|test)|npx node|node|deno run|bun run)\b[^`]*)`/g)) {
        inlineChecked++;
        const problems = checkShell({ file, line: i + 1, lang: 'sh', code: m[1] });
        if (problems.length) failures.push({ block: { file, line: i + 1 }, label: 'inline', reason: 'stale command in the prose', output: problems.join('\n') });
      }
    });
  }

  // Programs, under each runtime they name (none with --types-only).
  const jobs = flag('--types-only') ? [] : blocks.flatMap(({ block, plan: p }) =>
    p.kind === 'code' ? p.runtimes.map((rt) => ({ block, runtime: rt, timeout: p.timeout, peer: p.peer }))
    : p.kind === 'shell-run' ? [{ block, runtime: 'sh', timeout: p.timeout }] : []);
  await pool(jobs, concurrency, async ({ block, runtime, timeout, peer }) => {
    const started = Date.now();
    const r = runtime === 'sh'
      ? await exec('sh', ['-e', '-c', await withFreePorts(block.code)], { cwd: dirname(block.file), timeout })
      : await runCode(block, runtime, timeout, peer);
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${where(block)} [${runtime}] ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (verbose && r.ok && r.output?.trim()) console.log(r.output.trim().split('\n').map((l) => `  | ${l}`).join('\n'));
    record(block, runtime, r);
  });
  // Types: the TypeScript blocks run under Node or Vitest, in one tsc program.
  const typed = blocks.filter(({ block, plan: p }) =>
    ['ts', 'typescript', 'mts'].includes(block.lang) && (p.kind === 'vitest' || (p.kind === 'code' && p.runtimes.includes('node'))));
  let typeFailures = 0;
  let typeChecked = 0;
  if (!flag('--no-types') && typed.length > 0) {
    const problems = await typecheck(typed);
    typeChecked = typed.length;
    typed.forEach(({ block }, i) => {
      if (problems[i].length === 0) return;
      typeFailures++;
      failures.push({ block, label: 'types', reason: 'does not type-check', output: problems[i].join('\n') });
    });
    console.log(`${typeFailures ? 'FAIL' : 'ok  '} types: ${typed.length} TypeScript blocks type-checked, ${typeFailures} with errors`);
  }
  // Test files, in one Vitest run.
  const vitestBlocks = flag('--types-only') ? [] : blocks.filter((b) => b.plan.kind === 'vitest');
  const vr = await runVitest(vitestBlocks);
  vitestBlocks.forEach(({ block }, i) => {
    console.log(`${vr[i].ok ? 'ok  ' : 'FAIL'} ${where(block)} [vitest]`);
    record(block, 'vitest', vr[i]);
  });

  for (const f of failures) {
    console.log(`\nFAIL ${where(f.block)} [${f.label}] ${f.reason}`);
    if (f.output?.trim()) console.log(f.output.trim().split('\n').slice(-25).map((l) => `  | ${l}`).join('\n'));
  }
  if (!keep) rmSync(work, { recursive: true, force: true });
  const skippedTotal = [...skipped.values()].reduce((a, b) => a + b, 0);
  const reasons = [...skipped].map(([reason, n]) => `${n} ${reason}`).join('; ');
  console.log(`\ndoc-tests: blocks run per file: ${[...perFile].sort(([a], [b]) => a.localeCompare(b)).map(([f, n]) => `${f}: ${n}`).join(', ')}`);
  console.log(`doc-tests: ${run} blocks run, ${skippedTotal} skipped${skippedTotal ? ` (${reasons})` : ''}; ${typeChecked} TypeScript blocks type-checked; ${inlineChecked} inline commands checked`);
  console.log(`doc-tests: ${passed} passed, ${failures.length} failed${typeFailures ? ` (${typeFailures} of them type errors)` : ""}`);
  return failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await main());
}
