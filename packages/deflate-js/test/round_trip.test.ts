// Messages of every shape survive deflate then inflate, with and without context takeover,
// at several window sizes, levels and memory levels; the deflater keeps within its window.
import { describe, expect, it } from 'vitest';
import { jsDeflateEngine } from '../src/index.ts';
import { concat, MiB, pair, prng, randomBytes, utf8 } from './helpers.ts';

/** 200 messages: empty, 1 octet, frame-size edges, 64 KiB, random binary, UTF-8 text, repeats. */
function variedMessages(seed: number): Uint8Array[] {
  const random = prng(seed);
  const words = ['héllo', 'wörld', '日本語', 'emoji 🎉', 'json', '{"a":1}', 'ws', 'deflate', 'Ω', 'context'];
  const sentence = (n: number): string => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
  const fixed: Uint8Array[] = [
    new Uint8Array(0),
    Uint8Array.of(0x41),
    new Uint8Array(125).fill(0x61),
    new Uint8Array(126).fill(0x00),
    randomBytes(random, 65535),
    new Uint8Array(65536).fill(0x7a),
    randomBytes(random, 65536),
    utf8(sentence(12000)), // ~100 KB of UTF-8 text
    new Uint8Array(0),
    new Uint8Array(0),
  ];
  const out = [...fixed];
  while (out.length < 200) {
    const kind = out.length % 6;
    const length = Math.floor(random() * (kind === 5 ? 40000 : 2000));
    if (kind === 0) out.push(randomBytes(random, length));
    else if (kind === 1) out.push(utf8(sentence(1 + (length >> 4))));
    else if (kind === 2) out.push(out[Math.floor(random() * out.length)]); // a repeat: context takeover shines
    else if (kind === 3) out.push(new Uint8Array(length).fill(Math.floor(random() * 256)));
    else if (kind === 4) out.push(Uint8Array.of(Math.floor(random() * 256)));
    else {
      // Text with a random block repeated further back than small windows reach.
      const block = randomBytes(random, 300);
      out.push(concat(block, randomBytes(random, length), block, utf8(sentence(50)), block));
    }
  }
  return out;
}

const MESSAGES = variedMessages(7692);

describe('round trips', () => {
  for (const windowBits of [9, 10, 12, 15]) {
    for (const noContextTakeover of [false, true]) {
      it(`200 varied messages come back whole, windowBits ${windowBits}, ${noContextTakeover ? 'no ' : ''}context takeover`, () => {
        // The inflater's window is exactly 2**windowBits here: a deflater that reached
        // further back would fail with "invalid distance too far back".
        const { deflater, inflater } = pair(windowBits, noContextTakeover);
        let compressed = 0;
        let plain = 0;
        for (const [i, message] of MESSAGES.entries()) {
          const payload = deflater.deflate(message);
          expect(payload.length, `message ${i}`).toBeGreaterThan(0);
          expect(inflater.inflate(payload, MiB), `message ${i}`).toEqual(message);
          compressed += payload.length;
          plain += message.length;
        }
        expect(compressed).toBeLessThan(plain * 0.9); // it compresses (the random binary does not)
        deflater.dispose();
        inflater.dispose();
      });
    }
  }

  // A small memLevel cuts random data into many small blocks whose headers outgrow the
  // deflater's first output buffer (message size + 1/256 + 64): it has to grow it.
  for (const [level, memLevel] of [[0, 8], [0, 1], [1, 1], [9, 9], [6, 4]] as const) {
    it(`round trips at level ${level}, memLevel ${memLevel}`, () => {
      const { deflater, inflater } = pair(15, false, level, memLevel);
      for (const message of MESSAGES.slice(0, 60)) expect(inflater.inflate(deflater.deflate(message), MiB)).toEqual(message);
    });
  }

  it('level 0 stores: the payload is never smaller than the message', () => {
    const { deflater } = pair(15, false, 0, 8);
    const message = new Uint8Array(5000).fill(0x61);
    expect(deflater.deflate(message).length).toBeGreaterThan(message.length);
  });

  it('context takeover makes a repeated message much smaller; no context takeover does not', () => {
    const message = utf8(JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ id: i, name: `user ${i * 7919}`, ok: i % 3 === 0 }))));
    const takeover = pair(15, false).deflater;
    const reset = pair(15, true).deflater;
    const first = takeover.deflate(message).length;
    expect(takeover.deflate(message).length).toBeLessThan(first / 10);
    expect(reset.deflate(message).length).toBe(first);
    expect(reset.deflate(message).length).toBe(first);
  });

  it('does not keep a reference to the caller\'s message or change it', () => {
    const { deflater, inflater } = pair();
    const message = utf8('abc'.repeat(1000));
    const copy = message.slice();
    const payload = deflater.deflate(message);
    message.fill(0);
    expect(inflater.inflate(payload, MiB)).toEqual(copy);
  });

  it('a window of 2**8 from a peer is inflated with room for zlib\'s 2**9', () => {
    const deflater = jsDeflateEngine.createDeflater({ windowBits: 9, noContextTakeover: false, level: 9, memLevel: 9 });
    const inflater = jsDeflateEngine.createInflater({ windowBits: 8, noContextTakeover: false });
    const block = randomBytes(prng(1), 100);
    const message = concat(block, randomBytes(prng(2), 300), block); // a match 400 back
    expect(inflater.inflate(deflater.deflate(message), MiB)).toEqual(message);
  });

  it('says it cannot compress with a window of 2**8 and refuses one', () => {
    expect(jsDeflateEngine.minDeflateWindowBits).toBe(9);
    expect(() => jsDeflateEngine.createDeflater({ windowBits: 8, noContextTakeover: false, level: 6, memLevel: 8 })).toThrow(RangeError);
  });

  it('rejects parameters out of range with RangeError', () => {
    const good = { windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 };
    for (const bad of [{ windowBits: 16 }, { windowBits: 9.5 }, { level: 10 }, { level: -1 }, { memLevel: 0 }, { memLevel: 10 }]) {
      expect(() => jsDeflateEngine.createDeflater({ ...good, ...bad })).toThrow(RangeError);
    }
    expect(() => jsDeflateEngine.createInflater({ windowBits: 7, noContextTakeover: false })).toThrow(RangeError);
    expect(() => jsDeflateEngine.createInflater({ windowBits: 16, noContextTakeover: false })).toThrow(RangeError);
  });

  it('a disposed deflater or inflater throws instead of working', () => {
    const { deflater, inflater } = pair();
    deflater.dispose();
    inflater.dispose();
    deflater.dispose(); // twice is harmless
    expect(() => deflater.deflate(utf8('x'))).toThrow(Error);
    expect(() => inflater.inflate(Uint8Array.of(0), 10)).toThrow(Error);
  });
});
