// The sliding window kept between messages: bounded by 2 ** windowBits, grown only as
// needed, nothing at all without context takeover or before the first message.
import { describe, expect, it } from 'vitest';
import { History } from '../src/history.ts';
import { createZlibEngine } from '../src/index.ts';
import { ZlibDeflater } from '../src/zlib_deflater.ts';
import { ZlibInflater } from '../src/zlib_inflater.ts';
import { rawDictionarySupport } from '../src/raw_dictionary_support.ts';
import { conversation, noise } from './support/messages.ts';

const range = (from: number, to: number) => Uint8Array.from({ length: to - from }, (_, i) => (from + i) & 0xff);

describe('History', () => {
  it('keeps the last `limit` octets of everything pushed, oldest first', () => {
    const h = new History(10);
    h.push(range(0, 4));
    expect(h.bytes).toEqual(range(0, 4));
    h.push(range(4, 9));
    expect(h.bytes).toEqual(range(0, 9));
    h.push(range(9, 12));
    expect(h.bytes).toEqual(range(2, 12));
    h.push(range(12, 40));
    expect(h.bytes).toEqual(range(30, 40));
    h.push(new Uint8Array(0));
    expect(h.bytes).toEqual(range(30, 40));
  });

  it('matches a reference model over many random pushes', () => {
    for (const limit of [1, 7, 256, 1000]) {
      const h = new History(limit);
      let all: number[] = [];
      for (let n = 0; n < 200; n++) {
        const chunk = noise((n * 37) % (limit * 2 + 3), n + limit);
        h.push(chunk);
        all = all.concat(Array.from(chunk)).slice(-limit);
        expect(Array.from(h.bytes)).toEqual(all);
        expect(h.length).toBeLessThanOrEqual(limit);
        expect(h.capacity).toBeLessThanOrEqual(limit);
      }
    }
  });

  it('allocates nothing until the first push, and grows only as needed', () => {
    const h = new History(32768);
    expect(h.capacity).toBe(0);
    h.push(new Uint8Array(10));
    expect(h.capacity).toBe(256);
    h.push(new Uint8Array(300));
    expect(h.capacity).toBe(512);
    h.push(new Uint8Array(40000));
    expect(h.capacity).toBe(32768);
    expect(h.length).toBe(32768);
    h.clear();
    expect(h.capacity).toBe(0);
    expect(h.length).toBe(0);
  });

  it('with limit 0 keeps nothing', () => {
    const h = new History(0);
    h.push(new Uint8Array(100));
    expect(h.length).toBe(0);
    expect(h.capacity).toBe(0);
  });
});

describe('window bounds', () => {
  const messages = conversation(60, 5);

  for (let windowBits = 8; windowBits <= 15; windowBits++) {
    it(`an inflater at windowBits ${windowBits} never keeps more than ${2 ** windowBits} octets`, () => {
      const deflater = createZlibEngine().createDeflater({ windowBits: Math.max(9, windowBits), noContextTakeover: true, level: 6, memLevel: 8 });
      const i = new ZlibInflater({ windowBits, noContextTakeover: false });
      expect(i.windowLength).toBe(0);
      let total = 0;
      for (const m of messages) {
        i.inflate(deflater.deflate(m), 1 << 24);
        total += m.length;
        expect(i.windowLength).toBe(Math.min(total, 2 ** windowBits));
      }
      i.dispose();
      expect(i.windowLength).toBe(0);
    });
  }

  it('an inflater without context takeover keeps nothing', () => {
    const deflater = createZlibEngine().createDeflater({ windowBits: 15, noContextTakeover: true, level: 6, memLevel: 8 });
    const i = new ZlibInflater({ windowBits: 15, noContextTakeover: true });
    for (const m of messages) {
      i.inflate(deflater.deflate(m), 1 << 24);
      expect(i.windowLength).toBe(0);
    }
  });

  for (const [history, windowBits] of [[4096, 15], [4096, 10], [32768, 15], [100_000, 12], [0, 15]]) {
    it(`a deflater with deflateHistory ${history} at windowBits ${windowBits} keeps at most ${Math.min(history, 2 ** windowBits)} octets`, () => {
      const d = new ZlibDeflater({ windowBits, noContextTakeover: false, level: 6, memLevel: 8 }, history);
      const cap = rawDictionarySupport().deflate ? Math.min(history, 2 ** windowBits) : 0;
      let total = 0;
      for (const m of messages) {
        d.deflate(m);
        total += m.length;
        expect(d.historyLength).toBe(Math.min(total, cap));
      }
      d.dispose();
      expect(d.historyLength).toBe(0);
    });
  }

  it('a deflater without context takeover keeps nothing', () => {
    const d = new ZlibDeflater({ windowBits: 15, noContextTakeover: true, level: 6, memLevel: 8 }, 32768);
    for (const m of messages) {
      d.deflate(m);
      expect(d.historyLength).toBe(0);
    }
  });
});
