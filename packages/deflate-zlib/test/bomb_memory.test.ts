// A decompression bomb must cost memory for no more than a small part of maxOutput: output
// past 8 times the input (at least 1 MiB) is first counted in a scratch buffer, keeping
// nothing, and only a stream within the limit is inflated for real, into one buffer of the
// size counted. Before, every bomb made zlib allocate maxOutput octets of output chunks.
import { InflateLimitError } from '@wsflow/codec';
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, deflateRawSync } from 'node:zlib';
import { inflatedLength } from '../src/inflated_length.ts';
import { rawDictionarySupport } from '../src/raw_dictionary_support.ts';
import { zlibEngine } from '../src/index.ts';
import { zeroBomb } from './support/bits.ts';
import { concat, hex, jsonMessage, sameBytes } from './support/messages.ts';

const MiB = 1 << 20;
const inflater = (noContextTakeover = false) => zlibEngine.createInflater({ windowBits: 15, noContextTakeover });
/** A whole raw DEFLATE stream of `m` ending in a sync flush, its 00 00 ff ff kept (as inflatedLength reads it). */
const rawDeflate = (m: Uint8Array, dictionary?: Uint8Array): Uint8Array =>
  deflateRawSync(m, { finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) });

/** A /proc/self/status field in octets, or undefined off Linux. */
function procStatus(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** How far the peak resident set rose above the resident set while `fn` ran (Linux: VmHWM reset through clear_refs), or undefined. */
function peakGrowth(fn: () => void): number | undefined {
  const before = procStatus('VmRSS');
  let reset = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    reset = true;
  } catch {
    /* not Linux, or not allowed: no measure */
  }
  fn();
  const peak = procStatus('VmHWM');
  return reset && before !== undefined && peak !== undefined ? peak - before : undefined;
}

/** `block` repeated to `length` octets: references 16 KiB back, within every window of 32 KiB. */
function repeated(block: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += block.length) out.set(block.subarray(0, Math.min(block.length, length - at)), at);
  return out;
}

describe('inflatedLength', () => {
  it('counts what a stream inflates to: one zero and 1000 matches of 258 are 258,001 octets', () => {
    expect(inflatedLength(zeroBomb(1000), undefined, 10 * MiB)).toBe(258_001);
  });

  it('stops soon after passing the limit (one scratch buffer, 64 KiB, past it at most)', () => {
    const n = inflatedLength(zeroBomb(Math.ceil(100e6 / 258)), undefined, MiB);
    expect(n).toBeGreaterThan(MiB);
    expect(n).toBeLessThanOrEqual(MiB + 64 * 1024);
  });

  it('counts the first DEFLATE stream only, as the one-shot inflate reads it', () => {
    const once = hex('f3 48 cd c9 c9 07 00'); // "Hello", final block
    expect(inflatedLength(concat(once, once), undefined, 100)).toBe(5);
  });

  it('reads references into a preset dictionary, where the runtime honours one in raw mode', () => {
    if (!rawDictionarySupport().inflate) return; // Deno: the engine puts the dictionary in front instead
    const dictionary = new TextEncoder().encode('Hello');
    expect(inflatedLength(hex('f2 00 11 00 00 00 00 ff ff'), dictionary, 100)).toBe(5); // RFC 7692 §7.2.3.2
  });
});

describe('the engine, past 8 times the input', () => {
  // First, so that pages freed by earlier tests (still resident) do not hide what it allocates.
  it('refuses a 320 MiB bomb at a 256 MiB limit with InflateLimitError, peak resident memory growing by far less than the limit', () => {
    const bomb = zeroBomb(Math.ceil((320 * MiB) / 258)); // about 2.1 MB
    let error: unknown = null;
    const growth = peakGrowth(() => {
      try {
        inflater().inflate(bomb, 256 * MiB);
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(InflateLimitError);
    if (growth !== undefined) {
      console.log(`320 MiB bomb at a 256 MiB limit: peak RSS +${(growth / MiB).toFixed(1)} MiB`);
      // Output chunks up to the limit would be 256 MiB; the probe is 8 times the input (17 MiB).
      expect(growth / MiB).toBeLessThan(96);
    }
  }, 60_000);

  it('inflates a 6 MiB message of repeated JSON exactly (counted, then inflated once)', () => {
    const m = repeated(jsonMessage(1, 16 * 1024), 6 * MiB);
    const payload = rawDeflate(m).subarray(0, -4);
    expect(payload.length * 8).toBeLessThan(m.length); // past the probe: the counting path
    const out = inflater().inflate(payload, 6 * MiB);
    expect(sameBytes(out, m)).toBe(true);
    expect(out.buffer.byteLength - out.length).toBeLessThanOrEqual(1); // one buffer of the counted size
    expect(() => inflater().inflate(payload, 6 * MiB - 1)).toThrow(InflateLimitError);
  });

  it('with context takeover: a message referring into the window the one before left', () => {
    const i = inflater();
    const first = jsonMessage(2, 20_000);
    const firstPayload = rawDeflate(first);
    expect(sameBytes(i.inflate(firstPayload.subarray(0, -4), MiB), first)).toBe(true);
    // The second message is the first's last 20 KiB repeated: mostly references into the window.
    const second = repeated(first, 4 * MiB);
    const payload = rawDeflate(second, first).subarray(0, -4);
    expect(payload.length * 8).toBeLessThan(second.length);
    expect(sameBytes(i.inflate(payload, 4 * MiB), second)).toBe(true);
  });

});
