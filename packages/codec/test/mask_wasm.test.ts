// The WebAssembly SIMD masking kernel and the paths of maskInto that use it.
import { describe, expect, it } from 'vitest';
import { wasmBytes } from '../../../bench/wasm-mask/mask.mjs';
import { maskInto } from '../src/mask.ts';
import { createWasmMasker, wasmMaskBytes } from '../src/mask_wasm.ts';
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

  it.each([256, 257, 1023, 65535, 65536, 65537, 200_003])('maskInto of %i octets equals the byte-by-byte definition at every phase', (n) => {
    const src = bytes(n, n);
    for (const phase of [0, 1, 2, 3]) {
      const dst = new Uint8Array(n + 3);
      maskInto(src, dst, 3, 0x37fa213d, phase);
      expect(toHex(dst.subarray(3, 3 + 64))).toBe(toHex(naive(src, 0x37fa213d, phase).subarray(0, 64)));
      expect(dst.subarray(3).every((b, i) => b === (naive(src.subarray(i, i + 1), 0x37fa213d, (i + phase) & 3)[0]))).toBe(true);
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

  it('server without mutableInput never modifies the chunk', () => {
    const chunk = wire('server', [Opcode.Text, 'hello'], [Opcode.Binary, bytes(300, 3)]);
    const copy = chunk.slice();
    feed({ role: 'server' }, [chunk]);
    expect(toHex(chunk)).toBe(toHex(copy));
  });
});
