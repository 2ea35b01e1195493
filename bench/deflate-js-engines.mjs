#!/usr/bin/env node
// Chooses @wsflow/deflate-js's DEFLATE library by measurement: pako (the package's engine,
// bundled from packages/deflate-js/src), fflate and CompressionStream('deflate-raw'), with
// node:zlib as the native reference, on 1 KiB and 64 KiB JSON-like text, with and without
// context takeover, in Node and (unless --no-browser) in headless Chromium.
//
//   npx node bench/deflate-js-engines.mjs [--ms=300] [--clock=cpu|wall] [--no-browser] [--json=out.json]
//
// Per cell: µs per message to compress and to inflate (median of rounds), mean compressed
// size. In Node the clock is this process's CPU time by default (the machine may be
// shared; CompressionStream's zlib work on libuv threads counts too); Chromium's is wall. Then the bundle size each library adds (esbuild, minified, and gzipped).
// A library that is not installed is skipped. Takes ~10-30 s.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';
import { compressionStreamAdapter, engineAdapter, fflateAdapter, runAll } from './deflate-js-engines-core.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const ms = Number(args.ms ?? 300);
const clock = args.clock === 'wall' ? 'wall' : 'cpu';
const now = clock === 'wall' ? () => performance.now() : () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const tmp = mkdtempSync(join(tmpdir(), 'wsflow-deflate-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function tryImport(name) {
  try {
    return await import(name);
  } catch {
    return null;
  }
}

/** Bundles `contents` (resolved from the repo root) with esbuild; returns the output text. */
async function bundle(contents, { format = 'esm', minify = false, external = [], globalName } = {}) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    write: false,
    format,
    globalName,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    minify,
    external,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** node:zlib, synchronously: the native reference the JavaScript engines are measured against. */
function zlibAdapter() {
  const { Z_SYNC_FLUSH } = zlib.constants;
  return {
    name: 'node:zlib (native reference)',
    async: false,
    takeover: false, // Node has no public sync streaming API (_processChunk closes the stream)
    createDeflater({ windowBits, level, memLevel }) {
      const opts = { windowBits, level, memLevel, finishFlush: Z_SYNC_FLUSH };
      return {
        deflate(data) {
          const out = zlib.deflateRawSync(data, opts);
          return out.length === 4 ? Uint8Array.of(0) : out.subarray(0, out.length - 4);
        },
        dispose() {},
      };
    },
    createInflater({ windowBits }) {
      const tail = Buffer.from([0, 0, 0xff, 0xff]);
      return {
        inflate: (data, maxOutput) => zlib.inflateRawSync(Buffer.concat([data, tail]), { windowBits, finishFlush: Z_SYNC_FLUSH, maxOutputLength: maxOutput }),
        dispose() {},
      };
    },
  };
}

// --- the candidates ---------------------------------------------------------------------
const enginePath = join(tmp, 'deflate-js.mjs');
writeFileSync(enginePath, await bundle(`export { jsDeflateEngine } from './packages/deflate-js/src/index.ts';`));
const { jsDeflateEngine } = await import(pathToFileURL(enginePath).href);
const fflate = await tryImport('fflate');
const adapters = [engineAdapter(jsDeflateEngine, 'pako (@wsflow/deflate-js)')];
if (fflate) adapters.push(fflateAdapter(fflate));
if (typeof CompressionStream === 'function') adapters.push(compressionStreamAdapter());
const reference = jsDeflateEngine;

const fmt = (n, d = 1) => (n === undefined ? '-' : n.toFixed(d));
function printRow(runtime, r) {
  if (r.error) {
    console.log(`${runtime.padEnd(9)} ${r.engine.padEnd(30)} ${r.mode.padEnd(20)} ${String(r.size).padStart(6)}  error: ${r.error}`);
    return;
  }
  const ratio = `${((100 * r.compressedBytes) / r.size).toFixed(1)}%`;
  console.log(
    `${runtime.padEnd(9)} ${r.engine.padEnd(30)} ${r.mode.padEnd(20)} ${String(r.size).padStart(6)} ` +
      `${fmt(r.compressUs).padStart(10)} ${fmt(r.inflateUs).padStart(10)} ${String(r.compressedBytes).padStart(8)} ${ratio.padStart(6)}`,
  );
}
const header = `${'runtime'.padEnd(9)} ${'engine'.padEnd(30)} ${'mode'.padEnd(20)} ${'size'.padStart(6)} ${'deflate µs'.padStart(10)} ${'inflate µs'.padStart(10)} ${'bytes'.padStart(8)} ${'ratio'.padStart(6)}`;

console.log(`deflate-js engines: ${ms} ms per cell (Node: ${clock} clock; Chromium: wall), level 6, memLevel 8, windowBits 15, JSON-like text`);
console.log('(CompressionStream inflates sync-flushed payloads from pako, as a real peer sends; it compresses per message)\n');
console.log(header);
const results = { node: [], chromium: [], bundle: [] };
results.node = await runAll([...adapters, zlibAdapter()], { ms, now, reference, log: (r) => printRow(`node ${process.versions.node.split('.')[0]}`, r) });

// --- Chromium ---------------------------------------------------------------------------
if (!args['no-browser']) {
  const pw = await tryImport('playwright-core');
  if (!pw) console.log('\n(playwright-core not installed: Chromium skipped)');
  else {
    const entry = `
      import * as core from './bench/deflate-js-engines-core.mjs';
      import { jsDeflateEngine } from './packages/deflate-js/src/index.ts';
      ${fflate ? "import * as fflate from 'fflate';" : 'const fflate = null;'}
      export async function run(ms) {
        const adapters = [core.engineAdapter(jsDeflateEngine, 'pako (@wsflow/deflate-js)')];
        if (fflate) adapters.push(core.fflateAdapter(fflate));
        adapters.push(core.compressionStreamAdapter());
        return core.runAll(adapters, { ms, reference: jsDeflateEngine });
      }`;
    const script = await bundle(entry, { format: 'iife', globalName: '__deflateBench' });
    const browser = await pw.chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      timeout: 60_000,
    });
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(120_000);
      await page.addScriptTag({ content: script });
      const version = browser.version().split('.')[0];
      results.chromium = await page.evaluate((ms) => globalThis.__deflateBench.run(ms), ms);
      for (const r of results.chromium) printRow(`chrome ${version}`, r);
    } finally {
      await browser.close();
    }
  }
}

// --- bundle size ------------------------------------------------------------------------
console.log('\nbundle size added (esbuild --bundle --minify, platform neutral; gzip -9 in parentheses)');
const sizes = [
  ['pako: the low-level zlib functions the engine uses', `export { ZStream, zlibDeflateInit2, zlibDeflate, zlibDeflateReset, zlibDeflateEnd, zlibInflateInit2, zlibInflate, zlibInflateReset, zlibInflateResetKeep, zlibInflateEnd } from 'pako';`],
  ['@wsflow/deflate-js (engine + pako, codec external)', `export { jsDeflateEngine } from './packages/deflate-js/src/index.ts';`, ['@wsflow/codec']],
];
if (fflate) sizes.push(['fflate: Deflate + Inflate streams', `export { Deflate, Inflate } from 'fflate';`]);
for (const [label, contents, external] of sizes) {
  const text = await bundle(contents, { minify: true, external });
  const gz = zlib.gzipSync(text, { level: 9 }).length;
  results.bundle.push({ label, bytes: Buffer.byteLength(text), gzip: gz });
  console.log(`  ${label.padEnd(52)} ${String(Buffer.byteLength(text)).padStart(7)} B (${gz} B)`);
}
console.log(`  ${'CompressionStream (built in)'.padEnd(52)} ${'0'.padStart(7)} B`);
if (args.json) writeFileSync(String(args.json), JSON.stringify(results, null, 2));
