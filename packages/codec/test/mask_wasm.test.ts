// The WebAssembly SIMD masking kernel and the paths of maskInto that use it.
import { describe, expect, it } from 'vitest';
import { wasmBytes } from '../../../bench/wasm-mask/mask.mjs';
import { maskInto, maskWords } from '../src/mask.ts';
import { createWasmMasker, WASM_BLOCK, wasmMaskBytes } from '../src/mask_wasm.ts';
import { feed, toHex, wire } from './helpers.ts';
import { Opcode } from '../src/constants.ts';

function naive(src: Uint8Array, key: number, phase: number): Uint8Array {
  const k = [key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff];
  return src.map((b, i) => b ^ k[(i + phase) & 3]);
}

function bytes(n: number, seed: number): Uint8Array {
  let x = seed;
  return new Uint8Array(n).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
}

describe('WebAssembly SIMD masking', () => {
  it('the embedded module is exactly what bench/wasm-mask/mask.mjs assembles', () => {
    expect(toHex(wasmMaskBytes())).toBe(toHex(wasmBytes));
  });

  it('loads in this runtime (all of Node, Deno, Bun and Chromium support wasm SIMD)', () => {
    expect(createWasmMasker()).not.toBeNull();
  });

  // 64 is the first length maskInto hands to the kernel; the rest sit around its 4 KiB blocks.
  it.each([64, 65, 256, 257, 1023, 4095, 4096, 4097, 8191, 8195, 65535, 65536, 65537, 200_003])('maskInto of %i octets equals the byte-by-byte definition at every phase', (n) => {
    const src = bytes(n, n);
    for (const phase of [0, 1, 2, 3]) {
      const dst = new Uint8Array(n + 3);
      maskInto(src, dst, 3, 0x37fa213d, phase);
      expect(toHex(dst.subarray(3, 3 + 64))).toBe(toHex(naive(src, 0x37fa213d, phase).subarray(0, 64)));
      expect(dst.subarray(3).every((b, i) => b === (naive(src.subarray(i, i + 1), 0x37fa213d, (i + phase) & 3)[0]))).toBe(true);
    }
  });

  it('masks in place across kernel blocks, through the same view or a second view of its buffer, at every phase', () => {
    for (const n of [WASM_BLOCK - 1, WASM_BLOCK + 5, 3 * WASM_BLOCK + 2]) {
      for (const phase of [0, 1, 2, 3]) {
        const original = bytes(n + 9, n + phase);
        const backing = original.slice();
        // The payload starts at an odd offset of its buffer.
        const view = backing.subarray(5, 5 + n);
        if (phase % 2 === 0) maskInto(view, view, 0, 0x0badf00d, phase);
        else maskInto(view, backing, 5, 0x0badf00d, phase);
        expect(toHex(backing.subarray(0, 5))).toBe(toHex(original.subarray(0, 5)));
        expect(toHex(backing.subarray(5 + n))).toBe(toHex(original.subarray(5 + n)));
        const want = naive(original.subarray(5, 5 + n), 0x0badf00d, phase);
        expect(view.every((b, i) => b === want[i])).toBe(true);
      }
    }
  });

  it('masks in place (the same memory as source and destination)', () => {
    const original = bytes(70_000, 7);
    const buf = original.slice();
    maskInto(buf, buf, 0, 0xdeadbeef, 1);
    expect(toHex(buf.subarray(65530, 65545))).toBe(toHex(naive(original, 0xdeadbeef, 1).subarray(65530, 65545)));
    maskInto(buf, buf, 0, 0xdeadbeef, 1);
    expect(buf.every((b, i) => b === original[i])).toBe(true);
  });
});

describe('maskWords (the path where WebAssembly is unavailable)', () => {
  it.each([0, 1, 3, 63, 64, 65, 255, 1023, 4097])('equals the byte-by-byte definition for %i octets at every phase and destination alignment', (n) => {
    const src = bytes(n, n + 11);
    for (const phase of [0, 1, 2, 3]) {
      for (const offset of [0, 1, 2, 3]) {
        const dst = new Uint8Array(n + 8).fill(0xaa);
        maskWords(src, dst, offset, 0x37fa213d, phase);
        const want = naive(src, 0x37fa213d, phase);
        expect(dst.subarray(offset, offset + n).every((b, i) => b === want[i])).toBe(true);
        // Octets outside the destination range are untouched.
        expect(dst.subarray(0, offset).every((b) => b === 0xaa)).toBe(true);
        expect(dst.subarray(offset + n).every((b) => b === 0xaa)).toBe(true);
      }
    }
  });

  it('masks in place', () => {
    const original = bytes(1001, 5);
    const backing = original.slice();
    const view = backing.subarray(3, 1000);
    maskWords(view, backing, 3, 0xdeadbeef, 2);
    const want = naive(original.subarray(3, 1000), 0xdeadbeef, 2);
    expect(view.every((b, i) => b === want[i])).toBe(true);
    expect(backing[0] === original[0] && backing[1000] === original[1000]).toBe(true);
  });
});

describe('mutableInput', () => {
  it('server unmasks a whole frame in place in the chunk it was handed, and the message is intact', () => {
    const chunk = wire('server', [Opcode.Binary, bytes(300, 3)]);
    const copy = chunk.slice();
    const r = feed({ role: 'server', mutableInput: true }, [chunk]);
    expect(r.events).toEqual([{ type: 'binary', data: toHex(bytes(300, 3)) }]);
    // The payload octets of the chunk now hold the unmasked data.
    expect(toHex(chunk.subarray(8))).toBe(toHex(bytes(300, 3)));
    expect(toHex(chunk.subarray(0, 8))).toBe(toHex(copy.subarray(0, 8)));
  });

  it('server unmasks the pieces of a split text frame in place in their chunks, as they arrive', () => {
    const text = 'é€😀x'.repeat(100_000);
    const payload = new TextEncoder().encode(text);
    const frame = wire('server', [Opcode.Text, payload]);
    // Cut at odd places, so pieces start at every key phase; the header (14 octets) is in the first chunk.
    const cuts = [0, 70_001, 70_002, 600_003, frame.length];
    const chunks = cuts.slice(1).map((end, i) => frame.slice(cuts[i], end));
    const r = feed({ role: 'server', maxPayload: 4 << 20, mutableInput: true }, chunks);
    expect(r.events).toEqual([{ type: 'text', data: text }]);
    // Every chunk now holds unmasked payload octets where masked ones were.
    const joined = new Uint8Array(frame.length);
    let at = 0;
    for (const c of chunks) {
      joined.set(c, at);
      at += c.length;
    }
    expect(joined.subarray(14).every((b, i) => b === payload[i])).toBe(true);
  });

  it('server gathers a split binary frame still masked and unmasks it once, into a new buffer', () => {
    const payload = bytes((1 << 20) + 4099, 9);
    const frame = wire('server', [Opcode.Binary, payload]);
    const cuts = [0, 70_001, 70_002, 600_003, frame.length];
    const chunks = cuts.slice(1).map((end, i) => frame.slice(cuts[i], end));
    const r = feed({ role: 'server', maxPayload: 4 << 20, mutableInput: true }, chunks);
    expect(r.events).toEqual([{ type: 'binary', data: toHex(payload) }]);
    // Separate buffers: nothing was unmasked in them (the key phase of each piece was kept for the copy).
    expect(chunks.every((c, i) => c.every((b, j) => b === frame[cuts[i] + j]))).toBe(true);
  });

  it('server without mutableInput leaves the chunks of a large split frame as they were', () => {
    const payload = bytes((1 << 20) + 3, 4);
    const frame = wire('server', [Opcode.Binary, payload]);
    const chunks = [frame.slice(0, 500_001), frame.slice(500_001)];
    const r = feed({ role: 'server', maxPayload: 4 << 20 }, chunks);
    expect(r.events).toEqual([{ type: 'binary', data: toHex(payload) }]);
    expect(chunks[0].every((b, i) => b === frame[i]) && chunks[1].every((b, i) => b === frame[500_001 + i])).toBe(true);
  });

  it('server without mutableInput never modifies the chunk', () => {
    const chunk = wire('server', [Opcode.Text, 'hello'], [Opcode.Binary, bytes(300, 3)]);
    const copy = chunk.slice();
    feed({ role: 'server' }, [chunk]);
    expect(toHex(chunk)).toBe(toHex(copy));
  });
});
