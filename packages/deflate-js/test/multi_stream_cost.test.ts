// A message of thousands of tiny DEFLATE streams, each ended by a final block (RFC 7692
// §7.2.3.4 allows ending one; a peer can end one every 3 octets). Each stream's end costs a
// reset and a call into inflate: unbounded, 1 MiB of them took 1.2 s (Node) to 1.5 s (Deno).
// Like the zlib engine, a message may hold 64 streams plus one per KiB.
import { describe, expect, it } from 'vitest';
import { concat, hex, inflater, MiB, text } from './helpers.ts';

/** `4b 04 00` repeated `count` times: each a whole DEFLATE stream (BFINAL 1, fixed Huffman) of one octet. */
function tinyStreams(count: number): Uint8Array {
  const m = new Uint8Array(3 * count);
  for (let i = 0; i < m.length; i += 3) {
    m[i] = 0x4b;
    m[i + 1] = 0x04;
    m[i + 2] = 0x00;
  }
  return m;
}

describe('a message made of many DEFLATE streams', () => {
  it('inflates up to 64 streams plus one per KiB of the message (its tail put back)', () => {
    // 64 streams and the tail: 196 octets, so 64 may end.
    expect(inflater().inflate(tinyStreams(64), MiB).length).toBe(64);
    // 400 streams in 1204 octets with the tail: 65 may end.
    expect(() => inflater().inflate(tinyStreams(400), MiB)).toThrow(/more than 65 DEFLATE streams/);
  });

  it('the streams after the first read the window the ones before left', () => {
    const once = hex('f3 48 cd c9 c9 07 00'); // "Hello", final block
    const i = inflater();
    expect(text(i.inflate(concat(once, once, once), MiB))).toBe('HelloHelloHello');
  });

  it('refuses 4b 04 00 repeated over 1, 4 and 16 MiB at its stream bound, in time that does not grow per octet', () => {
    const sizes = [1 * MiB, 4 * MiB, 16 * MiB];
    const messages = new Map(sizes.map((size) => [size, tinyStreams(Math.floor(size / 3))]));
    const run = (size: number): void => {
      expect(() => inflater().inflate(messages.get(size)!, 64 * MiB)).toThrow(/more than \d+ DEFLATE streams/);
    };
    const bestOf = (): number[] => {
      const best = sizes.map(() => Infinity);
      for (let round = 0; round < 5; round++) {
        sizes.forEach((size, k) => {
          const t0 = performance.now();
          run(size);
          best[k] = Math.min(best[k]!, performance.now() - t0);
        });
      }
      return best;
    };
    let best = bestOf();
    const growth = (times: number[]): number => Math.max(...times.map((t, k) => t / sizes[k]!)) / (times[0]! / sizes[0]!);
    // One load spike on a shared machine must not decide: measure again, keep the better figures.
    if (growth(best) > 3) best = bestOf().map((t, k) => Math.min(t, best[k]!));
    const perMiB = best.map((t, k) => t / (sizes[k]! / MiB));
    console.log(`js engine, 4b 04 00 x 1/4/16 MiB: ${perMiB.map((t) => t.toFixed(1)).join(' / ')} ms per MiB (best of 5)`);
    expect(perMiB[1]! / perMiB[0]!).toBeLessThan(6);
    expect(perMiB[2]! / perMiB[0]!).toBeLessThan(6);
  }, 120_000);
});
