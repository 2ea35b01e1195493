// Bad input from the peer: decompression bombs stop at the limit, corrupt data throws an
// Error (never a crash or a hang), and the inflater recovers for the next message.
import { InflateLimitError } from '@wsflow/codec';
import { describe, expect, it } from 'vitest';
import { SYNC_FLUSH_TAIL } from '../src/sync_flush.ts';
import { concat, hex, inflater, MiB, pair, prng, randomBytes, text, utf8 } from './helpers.ts';

/**
 * A ~50 MiB run of zeros as one compressed message, built from a few KiB: with context
 * takeover, 1 MiB of zeros after 1 MiB of zeros always compresses to the same payload, so
 * that payload is repeated (each sync flush's tail put back between the parts).
 */
function zeroBomb(mebibytes: number): Uint8Array {
  const { deflater } = pair(15, false, 9, 9);
  const zeros = new Uint8Array(MiB);
  const first = deflater.deflate(zeros);
  const steady = deflater.deflate(zeros);
  expect(toArray(deflater.deflate(zeros))).toEqual(toArray(steady)); // the repeat is exact
  const parts = [first];
  for (let i = 1; i < mebibytes; i++) parts.push(SYNC_FLUSH_TAIL, steady);
  return concat(...parts);
}
const toArray = (u: Uint8Array): number[] => Array.from(u);

describe('limits and bad input', () => {
  it('stops a 50 MiB decompression bomb at a 1 MiB limit with InflateLimitError', () => {
    const bomb = zeroBomb(50);
    expect(bomb.length).toBeLessThan(100_000);
    // The bomb is real: a generous limit inflates all of it.
    expect(inflater().inflate(zeroBomb(3), 3 * MiB).length).toBe(3 * MiB);
    let error: unknown;
    try {
      inflater().inflate(bomb, MiB);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InflateLimitError);
    expect((error as InflateLimitError).limit).toBe(MiB);
  });

  it('inflates a message of exactly the limit and refuses one octet more', () => {
    const message = randomBytes(prng(3), 4096);
    const { deflater } = pair();
    const payload = deflater.deflate(message);
    expect(inflater().inflate(payload, 4096)).toEqual(message);
    expect(() => inflater().inflate(payload, 4095)).toThrow(InflateLimitError);
    expect(() => inflater().inflate(deflater.deflate(Uint8Array.of(1)), 0)).toThrow(InflateLimitError);
    expect(inflater().inflate(hex('00'), 0)).toEqual(new Uint8Array(0));
  });

  it('after a limit hit, the inflater inflates the next self-contained message', () => {
    const inf = inflater(15, true);
    expect(() => inf.inflate(zeroBomb(2), 1000)).toThrow(InflateLimitError);
    expect(text(inf.inflate(hex('f2 48 cd c9 c9 07 00'), 1000))).toBe('Hello');
  });

  it('throws an Error for a block of the reserved type 11', () => {
    const error = catchError(() => inflater().inflate(hex('07 00'), MiB));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(InflateLimitError);
    expect(String(error)).toMatch(/invalid block type/);
  });

  it('throws an Error for a stored block whose length check fails', () => {
    expect(() => inflater().inflate(hex('00 05 00 00 00 48 65 6c 6c 6f'), MiB)).toThrow(/stored block lengths/);
  });

  it('throws an Error for a message cut inside a block', () => {
    const { deflater } = pair();
    const payload = deflater.deflate(utf8('a fairly long message that makes a dynamic block '.repeat(20)));
    expect(() => inflater().inflate(payload.subarray(0, payload.length >> 1), MiB)).toThrow(Error);
  });

  it('throws an Error for a message that kept its 00 00 ff ff tail', () => {
    expect(() => inflater().inflate(hex('f2 48 cd c9 c9 07 00 00 00 ff ff'), MiB)).toThrow(/ends inside a block/);
  });

  it('throws an Error for a back-reference before the start of the stream', () => {
    expect(() => inflater().inflate(hex('f2 00 11 00 00'), MiB)).toThrow(/invalid distance too far back/);
  });

  it('returns or throws an Error for 2000 random payloads, never anything else', () => {
    const random = prng(1951);
    let threw = 0;
    for (let i = 0; i < 2000; i++) {
      const payload = randomBytes(random, 1 + Math.floor(random() * 200));
      const inf = inflater(15, i % 2 === 0);
      try {
        const out = inf.inflate(payload, 64 * 1024);
        expect(out.length).toBeLessThanOrEqual(64 * 1024);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(1000); // most random octets are not DEFLATE
  });

  it('an empty payload inflates to an empty message and leaves the stream as it was', () => {
    const inf = inflater();
    expect(inf.inflate(new Uint8Array(0), 10)).toEqual(new Uint8Array(0));
    expect(text(inf.inflate(hex('f2 48 cd c9 c9 07 00'), 10))).toBe('Hello');
  });

  it('rejects a negative or NaN limit with RangeError', () => {
    expect(() => inflater().inflate(hex('00'), -1)).toThrow(RangeError);
    expect(() => inflater().inflate(hex('00'), Number.NaN)).toThrow(RangeError);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
