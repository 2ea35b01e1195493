// maxOutput (a decompression bomb stops near the cap) and corrupt input: errors reach the
// caller as InflateLimitError or Error, never as a crash or unbounded memory.
import { InflateLimitError } from '@wsflow/codec';
import { describe, expect, it } from 'vitest';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { zlibEngine } from '../src/index.ts';
import { FixedBlock, zeroBomb } from './support/bits.ts';
import { concat, hex, noise, utf8 } from './support/messages.ts';

const MiB = 1 << 20;
const inflater = (noContextTakeover = false, windowBits = 15) => zlibEngine.createInflater({ windowBits, noContextTakeover });
const deflate = (m: Uint8Array) => zlibEngine.createDeflater({ windowBits: 15, noContextTakeover: true, level: 6, memLevel: 8 }).deflate(m);

/** The error `fn` throws (fails the test if it throws none). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

const rss = (): number | undefined => (globalThis as { process?: { memoryUsage?: () => { rss: number } } }).process?.memoryUsage?.().rss;

describe('maxOutput', () => {
  it('the bomb generator makes what it says (258 zero octets per match)', () => {
    const out = inflateRawSync(zeroBomb(1000), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(out.length).toBe(1 + 258 * 1000);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it('a 100 MB bomb against maxOutput 1 MiB throws InflateLimitError and memory stays bounded', () => {
    const bomb = zeroBomb(Math.ceil(100e6 / 258)); // ~660 KB of input for 100 MB of output
    expect(bomb.length).toBeLessThan(700_000);
    const i = inflater();
    const before = rss();
    const started = performance.now();
    const error = thrown(() => i.inflate(bomb, MiB));
    const ms = performance.now() - started;
    const after = rss();
    expect(error).toBeInstanceOf(InflateLimitError);
    expect((error as InflateLimitError).limit).toBe(MiB);
    if (before !== undefined && after !== undefined) {
      // Inflating it all would take 100 MB; stopping at the cap takes ~1 MiB plus a chunk.
      console.log(`bomb: InflateLimitError after ${ms.toFixed(1)} ms, RSS +${((after - before) / MiB).toFixed(1)} MiB`);
      expect(after - before).toBeLessThan(48 * MiB);
    }
  });

  for (const noContextTakeover of [false, true]) {
    it(`inflation stops at the cap, before reading the rest of the input (${noContextTakeover ? 'no ' : ''}context takeover)`, () => {
      // A bomb, then a stored block whose NLEN is wrong: zlib meets the error only if it
      // inflates the whole bomb; stopping near the cap, it never gets there.
      const bomb = concat(zeroBomb(Math.ceil(20e6 / 258)), hex('05 00 05 00'));
      expect(() => inflater(noContextTakeover).inflate(bomb, 64 * 1024 * 1024)).toThrow(/not valid DEFLATE/);
      const error = thrown(() => inflater(noContextTakeover).inflate(bomb, MiB));
      expect(error).toBeInstanceOf(InflateLimitError);
    });
  }

  it('a message of exactly maxOutput octets inflates; one more throws InflateLimitError', () => {
    const m = noise(5000, 3);
    const payload = deflate(m);
    expect(inflater().inflate(payload, 5000)).toEqual(m);
    const error = thrown(() => inflater().inflate(payload, 4999));
    expect(error).toBeInstanceOf(InflateLimitError);
    expect((error as InflateLimitError).limit).toBe(4999);
  });

  it('the cap holds with context takeover: the dictionary does not count against it', () => {
    const i = inflater();
    const m = utf8('x'.repeat(100));
    // Fill the window with 32 KiB of history first.
    for (let n = 0; n < 40; n++) expect(i.inflate(deflate(noise(1000, n)), 1000).length).toBe(1000);
    expect(i.inflate(deflate(m), 100)).toEqual(m);
    expect(() => i.inflate(deflate(m), 99)).toThrow(InflateLimitError);
  });

  it('maxOutput 0: an empty message inflates, anything longer throws InflateLimitError', () => {
    expect(inflater().inflate(hex('00'), 0)).toEqual(new Uint8Array(0));
    expect(inflater().inflate(deflate(new Uint8Array(0)), 0)).toEqual(new Uint8Array(0));
    const error = thrown(() => inflater().inflate(hex('f2 48 cd c9 c9 07 00'), 0));
    expect(error).toBeInstanceOf(InflateLimitError);
    expect((error as InflateLimitError).limit).toBe(0);
  });

  it('maxOutput Infinity means no cap', () => {
    const m = new Uint8Array(3 * MiB).fill(7);
    expect(inflater().inflate(deflate(m), Number.POSITIVE_INFINITY).length).toBe(3 * MiB);
  });

  it('the cap counts every DEFLATE stream of a message together', () => {
    const once = hex('f3 48 cd c9 c9 07 00'); // "Hello", ended by a final block
    const three = new Uint8Array(21);
    three.set(once, 0);
    three.set(once, 7);
    three.set(once, 14);
    expect(inflater().inflate(three, 15).length).toBe(15);
    const error = thrown(() => inflater().inflate(three, 14));
    expect(error).toBeInstanceOf(InflateLimitError);
    expect((error as InflateLimitError).limit).toBe(14);
  });

  it('after InflateLimitError the process and other inflaters carry on', () => {
    expect(() => inflater().inflate(zeroBomb(10_000), 1000)).toThrow(InflateLimitError);
    expect(new TextDecoder().decode(inflater().inflate(hex('f2 48 cd c9 c9 07 00'), 5))).toBe('Hello');
  });
});

describe('corrupt input', () => {
  const cases: [string, string][] = [
    ['ff ff ff ff', 'a reserved block type (BTYPE 11)'],
    ['00 05 00 05 00 48 65 6c 6c 6f', 'a stored block whose NLEN is not the complement of LEN'],
    ['f2 00 11 00 00', 'a reference before the start of the data (no context yet)'],
    ['f3 48 cd c9 c9 07 00 ff ff', 'garbage after a final block'],
  ];
  for (const [bytes, what] of cases) {
    it(`throws an Error, not InflateLimitError, for ${what}`, () => {
      const error = thrown(() => inflater().inflate(hex(bytes), MiB));
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(InflateLimitError);
      expect((error as Error).message).toMatch(/^permessage-deflate: /);
    });
  }

  it('random payloads never throw anything but Error, and never past the cap', () => {
    for (let n = 0; n < 300; n++) {
      try {
        const out = inflater(n % 2 === 0).inflate(noise(1 + (n % 97), n + 1), 4096);
        expect(out.length).toBeLessThanOrEqual(4096);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
      }
    }
  });

  it('a corrupt message does not stop the process: a new inflater works', () => {
    expect(() => inflater().inflate(hex('ff ff ff ff'), MiB)).toThrow(Error);
    const m = deflateRawSync(utf8('still fine'), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(new TextDecoder().decode(inflater().inflate(m.subarray(0, m.length - 4), MiB))).toBe('still fine');
  });

  it('a reference one octet past the window fails; one exactly at its edge works', () => {
    // windowBits 10: the peer may refer at most 1024 octets back (RFC 7692 §7.1.2.1).
    const first = noise(3000, 99);
    const i = inflater(false, 10);
    expect(i.inflate(deflate(first), MiB)).toEqual(first);
    const atEdge = i.inflate(new FixedBlock().match(3, 1024).message(), MiB);
    expect(atEdge).toEqual(first.subarray(3000 - 1024, 3000 - 1021));
    const j = inflater(false, 10);
    j.inflate(deflate(first), MiB);
    expect(() => j.inflate(new FixedBlock().match(3, 1025).message(), MiB)).toThrow(/not valid DEFLATE/);
  });
});
