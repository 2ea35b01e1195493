#!/usr/bin/env node
// Timing splits for the codec's hot paths: what one small frame costs, piece by piece,
// and the alternatives worth switching to. Complements bench/codec.mjs (whole-path
// throughput) and `node bench/codec.mjs --cpu-prof` (where the time goes).
//
//   npx node bench/codec-profile.mjs [--codec=src|dist|PATH] [--filter=REGEX]
//
// Each line: median ns per operation (main-thread CPU time) over 5 repetitions of
// ≥80 ms after a warm-up.
import { createRequire } from 'node:module';
import { isUtf8 } from 'node:buffer';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveCodec } from './lib/resolve-codec.mjs';
import { byteLoopMask, fusedMask32, protoMaskedSmallFrame, protoTextSmallFrame } from './lib/prototypes.mjs';
import { createWasmMasker } from './wasm-mask/mask.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  return [m[1], m[2] ?? true];
}));
const filter = args.filter ? new RegExp(args.filter, 'i') : null;
const info = await resolveCodec(args.codec);
const codec = await import(pathToFileURL(info.path).href);
const require = createRequire(import.meta.url);
const wsLib = (name) => require(join(dirname(require.resolve('ws')), 'lib', name));

const REPS = 5, REP_MS = 80, WARM_MS = 40;
let sink = 0; // results feed this so no work is dead

const cpuNow = typeof process.threadCpuUsage === 'function'
  ? () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }
  : () => performance.now();

/**
 * ns per op: `fn(ops)` performs `ops` operations. Timed on the main thread's CPU clock
 * (robust to other processes on a shared machine; it advances in scheduler ticks of up
 * to 4 ms, hence repetitions of ≥80 ms).
 */
function measure(fn, ops) {
  const t0 = performance.now();
  while (performance.now() - t0 < WARM_MS) fn(ops);
  const xs = [];
  for (let r = 0; r < REPS; r++) {
    let calls = 0;
    const s = performance.now();
    const c = cpuNow();
    do {
      fn(ops);
      calls++;
    } while (performance.now() - s < REP_MS);
    xs.push(((cpuNow() - c) * 1e6) / (calls * ops));
  }
  xs.sort((a, b) => a - b);
  return xs[REPS >> 1];
}

let section = '';
function row(sec, name, fn, ops = 10000) {
  if (filter && !filter.test(`${sec} ${name}`)) return;
  if (sec !== section) {
    console.log(`\n== ${sec} ==`);
    section = sec;
  }
  const ns = measure(fn, ops);
  console.log(`${name.padEnd(64)}${ns.toFixed(ns < 10 ? 2 : 1).padStart(10)} ns`);
}

console.log(`codec profile splits — Node ${process.version}; codec: ${info.from}`);

// ---- V8: small typed arrays live on the JS heap until something needs their buffer ------
// A Uint8Array of at most 64 octets is allocated inside the V8 heap (cheap). Reading its
// `.buffer`, or calling `.subarray()` on it, makes V8 move it to a real off-heap
// ArrayBuffer, which costs as much as allocating a large typed array. maskInto reads
// `src.buffer`/`dst.buffer`, and FrameWriter.text calls `subarray`, on fresh buffers.
{
  const sec = 'typed array allocation (per op)';
  row(sec, 'new Uint8Array(16)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(16).length; });
  row(sec, 'new Uint8Array(16).buffer (forces an off-heap copy)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(16).buffer.byteLength; });
  row(sec, 'new Uint8Array(16).subarray(2) (same)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(16).subarray(2).length; });
  row(sec, 'new Uint8Array(64) (largest on-heap size)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(64).length; });
  row(sec, 'new Uint8Array(65) (off-heap from the start)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(65).length; });
  row(sec, 'new Uint8Array(1024)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(1024).length; });
  row(sec, 'Buffer.allocUnsafe(1024) (Node pool slice)', (o) => { for (let i = 0; i < o; i++) sink += Buffer.allocUnsafe(1024).length; });
  const slab = new Uint8Array(64 * 1024);
  let at = 0;
  row(sec, 'slab.subarray(at, at + 1024) (bump allocation, 64 KiB slab)', (o) => {
    for (let i = 0; i < o; i++) {
      if (at + 1024 > slab.length) at = 0;
      sink += slab.subarray(at, (at += 1024)).length;
    }
  });
  const small = new Uint8Array(16).fill(3);
  row(sec, 'new Uint8Array(16) + codec.maskInto into it (decode of a masked 16 B frame)', (o) => {
    for (let i = 0; i < o; i++) { const d = new Uint8Array(16); codec.maskInto(small, d, 0, 0x01020304, 0); sink += d[3]; }
  });
  row(sec, 'new Uint8Array(16) + octet-loop mask into it', (o) => {
    for (let i = 0; i < o; i++) {
      const d = new Uint8Array(16);
      let k = 0x01020304;
      for (let j = 0; j < 16; j++) { d[j] = small[j] ^ (k >>> 24); k = ((k << 8) | (k >>> 24)) >>> 0; }
      sink += d[3];
    }
  });
}

// ---- masking: where the 32-bit word path starts paying ----------------------------------
{
  const key = 0x37fa213d;
  const keyBytes = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
  /** Masks src into dst octet by octet with the rotating key word: no copy, no view. */
  function byteFused(src, dst, off, k) {
    for (let i = 0; i < src.length; i++) {
      dst[off + i] = src[i] ^ (k >>> 24);
      k = ((k << 8) | (k >>> 24)) >>> 0;
    }
  }
  const wasm = createWasmMasker(2 << 20);
  for (const n of [4, 8, 16, 24, 32, 64, 128, 256, 512, 1024, 4096]) {
    const src = new Uint8Array(n).fill(7);
    const dst = new Uint8Array(n);
    const sec = `mask ${n} B, src -> dst (per call)`;
    row(sec, 'maskInto (byte loop to 63 B, then wasm SIMD in 4 KiB blocks)', (o) => { for (let i = 0; i < o; i++) codec.maskInto(src, dst, 0, key, 0); sink += dst[0]; });
    row(sec, 'byte loop, key word rotated (no copy, no view)', (o) => { for (let i = 0; i < o; i++) byteFused(src, dst, 0, key); sink += dst[0]; });
    row(sec, 'byte loop, key octets [i & 3]', (o) => { for (let i = 0; i < o; i++) byteLoopMask(src, dst, 0, keyBytes); sink += dst[0]; });
    row(sec, 'fused 32-bit prototype (two Uint32Array views)', (o) => { for (let i = 0; i < o; i++) fusedMask32(src, dst, 0, key); sink += dst[0]; });
    row(sec, 'wasm SIMD incl. copy in and out', (o) => { for (let i = 0; i < o; i++) wasm.maskInto(src, dst, 0, key, 0); sink += dst[0]; });
    row(sec, 'new Uint32Array(view) alone (the word path\'s fixed cost)', (o) => { for (let i = 0; i < o; i++) sink += new Uint32Array(dst.buffer, 0, n >>> 2).length; });
  }
}

// ---- per-frame allocation -----------------------------------------------------------------
{
  const sec = 'per-frame payload buffer, 16 B';
  row(sec, 'new Uint8Array(16) (zero-filled; what the parser does when masked)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(16).length; });
  row(sec, 'Buffer.allocUnsafe(16) (pooled slice; ws)', (o) => { for (let i = 0; i < o; i++) sink += Buffer.allocUnsafe(16).length; });
  const slab = new Uint8Array(64 * 1024);
  let at = 0;
  row(sec, 'slab.subarray(at, at + 16) (bump allocation from a 64 KiB slab)', (o) => {
    for (let i = 0; i < o; i++) {
      if (at + 16 > slab.length) at = 0;
      sink += slab.subarray(at, (at += 16)).length;
    }
  });
  const u8 = new Uint8Array(64 * 1024);
  const buf = Buffer.alloc(64 * 1024);
  const sec2 = 'payload view of a received chunk, 16 B';
  row(sec2, 'Uint8Array chunk .subarray()', (o) => { for (let i = 0; i < o; i++) sink += u8.subarray(i & 1023, (i & 1023) + 16).length; });
  row(sec2, 'Buffer chunk .subarray() (Node sockets deliver Buffers)', (o) => { for (let i = 0; i < o; i++) sink += buf.subarray(i & 1023, (i & 1023) + 16).length; });
  const plain = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  row(sec2, 'Buffer re-viewed once as a plain Uint8Array, then .subarray()', (o) => { for (let i = 0; i < o; i++) sink += plain.subarray(i & 1023, (i & 1023) + 16).length; });
  row(sec2, 'new Uint8Array(chunk.buffer, off, 16)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(buf.buffer, buf.byteOffset + (i & 1023), 16).length; });

  const sec3 = 'large payload buffer, 1 MiB (per MiB)';
  const big = new Uint8Array(1 << 20);
  const big2 = new Uint8Array(1 << 20);
  row(sec3, 'new Uint8Array(1 MiB) (zero-filled)', (o) => { for (let i = 0; i < o; i++) sink += new Uint8Array(1 << 20).length; }, 20);
  row(sec3, 'Buffer.allocUnsafe(1 MiB) (not zeroed)', (o) => { for (let i = 0; i < o; i++) sink += Buffer.allocUnsafe(1 << 20).length; }, 20);
  row(sec3, 'new Uint8Array(1 MiB) + fill it with .set', (o) => { for (let i = 0; i < o; i++) { const x = new Uint8Array(1 << 20); x.set(big); sink += x[5]; } }, 20);
  row(sec3, 'Buffer.allocUnsafe(1 MiB) + fill it with .set', (o) => { for (let i = 0; i < o; i++) { const x = Buffer.allocUnsafe(1 << 20); x.set(big); sink += x[5]; } }, 20);
  row(sec3, 'copy 1 MiB (.set)', (o) => { for (let i = 0; i < o; i++) big2.set(big); sink += big2[0]; }, 20);
}

// ---- UTF-8 decode ----------------------------------------------------------------------------
{
  const { decodeUtf8 } = codec;
  const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** All octets below 0x80? Then the bytes are valid UTF-8 and equal to Latin-1. */
  function isAscii(b) {
    for (let i = 0; i < b.length; i++) if (b[i] > 0x7f) return false;
    return true;
  }
  const cases = [
    ['16 B ASCII', Buffer.from('{"op":"tick","n"')],
    ['16 B non-ASCII', Buffer.from('héllo wörld €!')],
    ['1 KiB ASCII', Buffer.from('x'.repeat(1024))],
  ];
  for (const [label, b] of cases) {
    const u8 = new Uint8Array(b); // a plain Uint8Array, as the parser produces
    const sec = `UTF-8 decode + validate, ${label} (per message)`;
    row(sec, 'codec decodeUtf8 (shared fatal TextDecoder, try/catch)', (o) => { for (let i = 0; i < o; i++) sink += decodeUtf8(u8).length; });
    row(sec, 'fatal TextDecoder.decode directly', (o) => { for (let i = 0; i < o; i++) sink += fatal.decode(u8).length; });
    row(sec, 'buffer.isUtf8 + Buffer#utf8Slice (what ws + toString does)', (o) => {
      for (let i = 0; i < o; i++) { if (!isUtf8(b)) throw new Error(); sink += b.utf8Slice(0, b.length).length; }
    });
    row(sec, 'Buffer#utf8Slice alone (no validation; not acceptable, for scale)', (o) => { for (let i = 0; i < o; i++) sink += b.utf8Slice(0, b.length).length; });
    if (b.length <= 64) {
      row(sec, 'JS: ASCII check + String.fromCharCode.apply, else TextDecoder', (o) => {
        for (let i = 0; i < o; i++) sink += (isAscii(u8) ? String.fromCharCode.apply(null, u8) : fatal.decode(u8)).length;
      });
    }
    row(sec, 'JS: ASCII check + Buffer#latin1Slice, else TextDecoder', (o) => {
      for (let i = 0; i < o; i++) sink += (isAscii(b) ? b.latin1Slice(0, b.length) : fatal.decode(b)).length;
    });
  }
}

// ---- UTF-8 encode -----------------------------------------------------------------------------
{
  const s = '{"op":"tick","n"';
  const enc = new TextEncoder();
  const out = new Uint8Array(64);
  const sec = 'UTF-8 encode, 16-char string (per message)';
  row(sec, 'TextEncoder.encode (new Uint8Array each)', (o) => { for (let i = 0; i < o; i++) sink += enc.encode(s).length; });
  row(sec, 'TextEncoder.encodeInto(buf.subarray(head)) (FrameWriter.text)', (o) => { for (let i = 0; i < o; i++) sink += enc.encodeInto(s, out.subarray(2)).written; });
  row(sec, 'TextEncoder.encodeInto(buf) (no subarray)', (o) => { for (let i = 0; i < o; i++) sink += enc.encodeInto(s, out).written; });
  const b = Buffer.alloc(64);
  row(sec, 'Buffer.byteLength + Buffer#utf8Write (ws)', (o) => { for (let i = 0; i < o; i++) sink += Buffer.byteLength(s) + b.utf8Write(s, 2); });
  row(sec, 'JS charCodeAt loop for short strings (bail out at >= 0x80)', (o) => {
    for (let i = 0; i < o; i++) {
      let j = 0;
      for (; j < s.length; j++) { const c = s.charCodeAt(j); if (c > 0x7f) break; out[2 + j] = c; }
      sink += j;
    }
  });
}

// ---- whole small frames -------------------------------------------------------------------------
{
  const Sender = wsLib('sender.js');
  const p16 = new Uint8Array(16).fill(1);
  const b16 = Buffer.from(p16);
  let n = 0;
  const writeCount = (x) => { n += x.length; };
  const sec = 'encode one 16 B binary frame (per frame)';
  const clientW = new codec.FrameWriter('client', writeCount);
  const serverW = new codec.FrameWriter('server', writeCount);
  row(sec, 'wsflow FrameWriter client (masked)', (o) => { for (let i = 0; i < o; i++) clientW.frame(true, 0, 2, p16); sink += n; });
  row(sec, 'wsflow FrameWriter server', (o) => { for (let i = 0; i < o; i++) serverW.frame(true, 0, 2, p16); sink += n; });
  row(sec, 'ws Sender.frame, masked (static; no socket)', (o) => {
    for (let i = 0; i < o; i++) sink += Sender.frame(b16, { fin: true, mask: true, opcode: 2, readOnly: true, rsv1: false }).length;
  });
  row(sec, 'ws Sender.frame, unmasked (static; no socket)', (o) => {
    for (let i = 0; i < o; i++) sink += Sender.frame(b16, { fin: true, mask: false, opcode: 2, readOnly: true, rsv1: false }).length;
  });
  row(sec, 'prototype: small masked frame, octet-loop mask, one allocation', (o) => { for (let i = 0; i < o; i++) n += protoMaskedSmallFrame(2, p16, codec.defaultMaskKeys.next()).length; sink += n; });
  row(sec, 'wsflow defaultMaskKeys.next() alone', (o) => { for (let i = 0; i < o; i++) sink += codec.defaultMaskKeys.next() & 1; });
  row(sec, 'wsflow writeFrameHeader alone (masked)', (o) => { const h = new Uint8Array(14); for (let i = 0; i < o; i++) sink += codec.writeFrameHeader(h, 0, true, 0, 2, 16, true, 0x01020304); });
}

{
  const s16 = '{"op":"tick","n"';
  const sMixed = 'héllo wörld €!';
  let n = 0;
  const writeCount = (x) => { n += x.length; };
  const serverW = new codec.FrameWriter('server', writeCount);
  for (const [label, s] of [['16 ASCII chars', s16], ['14 chars, non-ASCII', sMixed]]) {
    const sec = `encode one text frame, ${label} (per frame)`;
    row(sec, 'wsflow FrameWriter.text server', (o) => { for (let i = 0; i < o; i++) serverW.text(true, 0, 1, s); sink += n; });
    row(sec, 'wsflow serializeFrame(makeFrame(Text, encodeUtf8(s)))', (o) => { for (let i = 0; i < o; i++) n += codec.serializeFrame(codec.makeFrame(1, codec.encodeUtf8(s))).length; sink += n; });
    row(sec, 'prototype: encodeInto a reused scratch, copy to exact-size frame', (o) => { for (let i = 0; i < o; i++) n += protoTextSmallFrame(s).length; sink += n; });
  }
}

console.log(sink === 42 ? '' : '\n(done)');
