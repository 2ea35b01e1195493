// A message of thousands of tiny DEFLATE streams, each ended by a final block (RFC 7692
// §7.2.3.4 allows ending one; a peer can end one every 3 octets), must cost time linear in
// the message. On Deno, whose raw inflate ignores a preset dictionary, every stream used to
// be read from a new copy of the rest of the message: 1 MiB took about 0.6 s, 16 MiB 150 s.
import { describe, expect, it } from 'vitest';
import { constants, inflateRawSync } from 'node:zlib';
import { InflateInput } from '../src/inflate_input.ts';
import { zlibEngine } from '../src/index.ts';
import { concat, hex, utf8 } from './support/messages.ts';

const MiB = 1 << 20;

/** `4b 04 00` repeated to about `size` octets: each is a whole DEFLATE stream (BFINAL 1, fixed Huffman) of one octet. */
function tinyStreams(size: number): Uint8Array {
  const m = new Uint8Array(size - (size % 3));
  for (let i = 0; i < m.length; i += 3) {
    m[i] = 0x4b;
    m[i + 1] = 0x04;
    m[i + 2] = 0x00;
  }
  return m;
}

/** Milliseconds `fn` took at best over `rounds` rounds of every size, sizes interleaved so that load spikes hit them alike. */
function bestTimes(sizes: number[], rounds: number, fn: (size: number) => void): number[] {
  const best = sizes.map(() => Infinity);
  for (let round = 0; round < rounds; round++) {
    sizes.forEach((size, i) => {
      const t0 = performance.now();
      fn(size);
      best[i] = Math.min(best[i]!, performance.now() - t0);
    });
  }
  return best;
}

describe('a message made of many DEFLATE streams', () => {
  it('4b 04 00 repeated is one octet per stream, and within the stream bound it inflates', () => {
    const inflater = zlibEngine.createInflater({ windowBits: 15, noContextTakeover: false });
    // 60 streams in 184 octets (tail included): under the 64 + 1 per KiB a message may hold.
    const out = inflater.inflate(tinyStreams(180), 1024);
    expect(out.length).toBe(60);
    expect(new Set(out).size).toBe(1);
    // The next message's streams read the window the 60 left (a preset dictionary).
    expect(inflater.inflate(tinyStreams(30), 1024)).toEqual(out.subarray(0, 10));
  });

  it('costs no more time per octet at 4 and 16 MiB than at 1 MiB (refused at its stream bound, in linear time)', () => {
    const sizes = [1 * MiB, 4 * MiB, 16 * MiB];
    const messages = new Map(sizes.map((size) => [size, tinyStreams(size)]));
    const errors: string[] = [];
    const ms = bestTimes(sizes, 3, (size) => {
      const inflater = zlibEngine.createInflater({ windowBits: 15, noContextTakeover: false });
      try {
        inflater.inflate(messages.get(size)!, 64 * MiB);
        errors.push('none');
      } catch (error) {
        errors.push(String((error as Error).message));
      }
    });
    const perMiB = ms.map((t, i) => t / (sizes[i]! / MiB));
    console.log(`zlib engine, 4b 04 00 x 1/4/16 MiB: ${ms.map((t) => t.toFixed(0)).join(' / ')} ms, ${perMiB.map((t) => t.toFixed(1)).join(' / ')} ms per MiB`);
    for (const e of errors) expect(e).toMatch(/more than \d+ DEFLATE streams/);
    // Quadratic work would make 16 MiB cost 16 times as much per octet as 1 MiB; 4 leaves room for noise.
    expect(perMiB[1]! / perMiB[0]!).toBeLessThan(4);
    expect(perMiB[2]! / perMiB[0]!).toBeLessThan(4);
  }, 120_000);
});

describe('InflateInput', () => {
  // RFC 7692 §7.2.3.2: "Hello" compressed against a window that already holds "Hello".
  const secondHello = hex('f2 00 11 00 00 00 00 ff ff');
  const firstHello = hex('f3 48 cd c9 c9 07 00'); // a whole stream, final block

  it('puts a stored block holding the dictionary right before the offset, so zlib reads the stream with that window', () => {
    const input = new InflateInput(concat(firstHello, secondHello));
    const source = input.withStoredDictionary(firstHello.length, utf8('Hello'));
    expect(source.subarray(0, 5)).toEqual(hex('00 05 00 fa ff')); // BFINAL 0, stored; LEN 5, NLEN ~5
    const out = inflateRawSync(source, { finishFlush: constants.Z_SYNC_FLUSH });
    expect(new TextDecoder().decode(out)).toBe('HelloHello'); // the dictionary, then the stream
  });

  it('copies the message once, not once per stream: every call returns a view of the same buffer', () => {
    const input = new InflateInput(tinyStreams(3000));
    const window = new Uint8Array(32 * 1024).fill(0x61);
    const first = input.withStoredDictionary(0, window);
    for (let offset = 3; offset < 3000; offset += 3) {
      const view = input.withStoredDictionary(offset, window.subarray(0, offset % 2 === 0 ? 32 * 1024 : 7));
      expect(view.buffer).toBe(first.buffer);
    }
    expect(first.buffer.byteLength).toBe(5 + 32 * 1024 + 3000);
  });

  it('refuses to go back (the octets before the last offset are overwritten) or to take more than a 32 KiB window', () => {
    const input = new InflateInput(tinyStreams(300));
    input.withStoredDictionary(30, utf8('a'));
    expect(() => input.withStoredDictionary(27, utf8('a'))).toThrow(RangeError);
    expect(() => input.withStoredDictionary(33, new Uint8Array(32 * 1024 + 1))).toThrow(RangeError);
    expect(() => input.withStoredDictionary(301, utf8('a'))).toThrow(RangeError);
  });
});
