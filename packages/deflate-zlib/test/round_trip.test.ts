// Our deflater's messages through our inflater, for every window size and both context
// modes, and the engine's shape. The reference zlib streams are in interop_zlib_stream.
import { describe, expect, it } from 'vitest';
import { createZlibEngine, DEFAULT_DEFLATE_HISTORY, zlibEngine } from '../src/index.ts';
import { conversation, jsonMessage, sameBytes, utf8 } from './support/messages.ts';

const MAX = 1 << 24;
const messages = conversation(120);

describe('round trip: deflate-zlib to deflate-zlib', () => {
  for (const noContextTakeover of [false, true]) {
    for (let windowBits = 9; windowBits <= 15; windowBits++) {
      it(`${noContextTakeover ? 'without' : 'with'} context takeover, windowBits ${windowBits}: 120 mixed messages come back unchanged`, () => {
        const d = zlibEngine.createDeflater({ windowBits, noContextTakeover, level: 6, memLevel: 8 });
        const i = zlibEngine.createInflater({ windowBits, noContextTakeover });
        messages.forEach((m, n) => {
          const payload = d.deflate(m);
          expect(payload.length).toBeGreaterThan(0);
          const back = i.inflate(payload, MAX);
          if (!sameBytes(back, m)) expect.unreachable(`message ${n} (${m.length} octets) came back as ${back.length} different octets`);
        });
      });
    }
  }

  for (const level of [0, 1, 6, 9]) {
    for (const memLevel of [1, 8, 9]) {
      it(`level ${level}, memLevel ${memLevel}: messages come back unchanged`, () => {
        const d = zlibEngine.createDeflater({ windowBits: 15, noContextTakeover: false, level, memLevel });
        const i = zlibEngine.createInflater({ windowBits: 15, noContextTakeover: false });
        for (const m of messages.slice(0, 30)) expect(sameBytes(i.inflate(d.deflate(m), MAX), m)).toBe(true);
      });
    }
  }

  it('a larger history compresses a feed of JSON updates smaller (where the runtime honours raw dictionaries)', () => {
    const feed = Array.from({ length: 50 }, (_, n) => jsonMessage(n, 1024));
    const size = (history: number) => {
      const d = createZlibEngine({ deflateHistory: history }).createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
      return feed.reduce((sum, m) => sum + d.deflate(m).length, 0);
    };
    const alone = size(0);
    const full = size(32768);
    const deno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
    if (deno) expect(full).toBe(alone);
    else expect(full).toBeLessThan(alone * 0.8);
  });

  it('a deflater that keeps no history compresses each message alone', () => {
    const d = createZlibEngine({ deflateHistory: 0 }).createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
    const first = d.deflate(utf8('Hello'));
    expect(d.deflate(utf8('Hello'))).toEqual(first);
  });
});

describe('engine', () => {
  it('is named node:zlib and cannot deflate with an 8-bit window', () => {
    expect(zlibEngine.name).toBe('node:zlib');
    expect(zlibEngine.minDeflateWindowBits).toBe(9);
  });

  it('refuses to make a deflater for windowBits 8 (zlib would quietly use 9)', () => {
    expect(() => zlibEngine.createDeflater({ windowBits: 8, noContextTakeover: false, level: 6, memLevel: 8 })).toThrow(RangeError);
  });

  it('makes inflaters for every window size, 8 to 15', () => {
    for (let windowBits = 8; windowBits <= 15; windowBits++) {
      const i = zlibEngine.createInflater({ windowBits, noContextTakeover: false });
      expect(new TextDecoder().decode(i.inflate(zlibEngine.createDeflater({ windowBits: 9, noContextTakeover: false, level: 6, memLevel: 8 }).deflate(utf8('Hello')), 100))).toBe('Hello');
    }
  });

  it('refuses to make an inflater for a window outside 8 to 15', () => {
    for (const windowBits of [7, 16, 9.5]) {
      expect(() => zlibEngine.createInflater({ windowBits, noContextTakeover: false })).toThrow(RangeError);
    }
  });

  it('refuses a deflateHistory that is not a whole number of octets', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createZlibEngine({ deflateHistory: bad })).toThrow(RangeError);
    }
    expect(DEFAULT_DEFLATE_HISTORY).toBeGreaterThan(0);
  });

  it('deflate reports input that is not octets as an Error, not a crash', () => {
    const d = zlibEngine.createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
    expect(() => d.deflate(42 as unknown as Uint8Array)).toThrow(Error);
    // And the deflater still works afterwards.
    expect(new TextDecoder().decode(zlibEngine.createInflater({ windowBits: 15, noContextTakeover: false }).inflate(d.deflate(utf8('ok')), 10))).toBe('ok');
  });

  it('returns plain Uint8Arrays that own no large hidden buffer', () => {
    const d = zlibEngine.createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
    const i = zlibEngine.createInflater({ windowBits: 15, noContextTakeover: false });
    const payload = d.deflate(utf8('Hello'));
    const back = i.inflate(payload, MAX);
    for (const u of [payload, back]) {
      expect(Object.getPrototypeOf(u)).toBe(Uint8Array.prototype);
      expect(u.buffer.byteLength).toBeLessThanOrEqual(1024 + u.length);
    }
  });
});
