/**
 * One synchronous raw inflate (RFC 1951) over `node:zlib`, with a preset dictionary and a
 * cap on the output: the building block of {@link ZlibInflater}.
 * @module
 */
import { InflateLimitError } from '@wsflow/codec';
import { constants as bufferConstants } from 'node:buffer';
import { constants, inflateRawSync } from 'node:zlib';
import { exactly } from './exactly.ts';
import type { InflateInput } from './inflate_input.ts';
import { inflatedLength } from './inflated_length.ts';
import { rawDictionarySupport } from './raw_dictionary_support.ts';

/** What one raw inflate produced. */
export interface RawInflateResult {
  /** The decompressed octets. */
  output: Uint8Array;
  /**
   * How many input octets zlib consumed: all of them unless a block with BFINAL set ended
   * the DEFLATE stream first (RFC 1951 §3.2.3).
   */
  consumed: number;
}

/** The shape `inflateRawSync` returns with `info: true` (Node, Deno and Bun agree on it). */
interface InfoResult {
  buffer: Uint8Array;
  engine: { bytesWritten: number };
}

/** The largest `maxOutputLength` the runtime takes (Node and Deno 2 ** 53 - 1, Bun 2 ** 32). */
const MAX_OUTPUT_LENGTH: number = bufferConstants.MAX_LENGTH;

/**
 * Output buffers are chunks of this size at most: zlib writes into one chunk at a time, so
 * memory stays bounded by the cap plus one chunk even for a decompression bomb.
 */
const MAX_CHUNK = 64 * 1024;
const MIN_CHUNK = 1024;

/**
 * Output zlib may produce before the stream is measured first: 8 times the input, at least
 * 1 MiB. Up to that, one call inflates; beyond it (a large or a very compressible stream,
 * or a decompression bomb), {@link inflatedLength} counts the output in a scratch buffer,
 * so a bomb is refused having allocated no more than this, and a stream within the limit is
 * inflated into one buffer of the size counted.
 */
const PROBE_RATIO = 8;
const PROBE_MIN = 1024 * 1024;

/**
 * Inflates `input` from `offset` on (a whole message with its `00 00 ff ff` put back, or what
 * follows a DEFLATE stream that ended inside it) as raw DEFLATE whose back-references may
 * reach into `dictionary` (the peer's LZ77 window), stopping as soon as the output would
 * pass `limit` octets. zlib reads only up to the end of the first DEFLATE stream there.
 *
 * Always with a 32 KiB window (windowBits 15): a larger window reads any smaller-window
 * stream, and the dictionary, at most `2 ** windowBits` octets, always fits. Where the
 * runtime ignores `dictionary` in raw mode (Deno), the dictionary goes in front of the input
 * as one stored block (RFC 1951 §3.2.4, see {@link InflateInput.withStoredDictionary}) and
 * its octets are cut from the output: zlib then holds exactly the same window when the
 * stream's first block starts.
 *
 * `sizeHint` is how many input octets the stream is expected to take (default: all that is
 * left), which sizes zlib's output chunks.
 *
 * @throws InflateLimitError when the output would pass `limit`
 * @throws Error when `input` is not valid DEFLATE
 */
export function inflateRaw(
  input: InflateInput,
  offset: number,
  dictionary: Uint8Array,
  limit: number,
  sizeHint: number = input.bytes.length - offset,
): RawInflateResult {
  const native = dictionary.length === 0 || rawDictionarySupport().inflate;
  const skip = native ? 0 : dictionary.length;
  const rest = input.bytes.length - offset;
  const source = native ? input.bytes.subarray(offset) : input.withStoredDictionary(offset, dictionary);
  const preset = native && dictionary.length > 0 ? dictionary : undefined;
  const probe = Math.max(PROBE_MIN, PROBE_RATIO * rest);
  if (probe >= limit) return inflateOnce(source, preset, skip, rest, limit, chunkSizeFor(Math.min(rest, sizeHint), skip));
  try {
    return inflateOnce(source, preset, skip, rest, probe, chunkSizeFor(Math.min(rest, sizeHint), skip));
  } catch (error) {
    if (!(error instanceof InflateLimitError)) throw error;
  }
  // More than `probe` octets: count them, keeping none, before allocating up to `limit`.
  const counted = inflatedLength(source, preset, skip + limit);
  if (counted === undefined) return inflateOnce(source, preset, skip, rest, limit, chunkSizeFor(Math.min(rest, sizeHint), skip));
  const length = counted - skip;
  if (length > limit) throw new InflateLimitError(limit);
  // One chunk holds all of it (and the one octet more that tells zlib it is done).
  return inflateOnce(source, preset, skip, rest, limit, skip + length + 1);
}

/** One `inflateRawSync` call over `source` (see {@link inflateRaw}) with output capped at `limit` octets beyond `skip`. */
function inflateOnce(source: Uint8Array, preset: Uint8Array | undefined, skip: number, rest: number, limit: number, chunkSize: number): RawInflateResult {
  let result: InfoResult;
  try {
    result = inflateRawSync(source, {
      windowBits: 15,
      finishFlush: constants.Z_SYNC_FLUSH,
      info: true,
      // At least 1: zlib refuses 0, so a limit of 0 is checked below.
      maxOutputLength: Math.min(MAX_OUTPUT_LENGTH, skip + Math.max(1, limit)),
      chunkSize: Math.max(MIN_CHUNK, chunkSize),
      ...(preset !== undefined ? { dictionary: preset } : {}),
    }) as unknown as InfoResult;
  } catch (error) {
    throw inflateFailure(error, limit);
  }
  const out = result.buffer;
  const consumed = result.engine.bytesWritten - (source.length - rest);
  if (out.length - skip > limit) throw new InflateLimitError(limit);
  return { output: exactly(out.subarray(skip)), consumed };
}

/**
 * Output chunks sized to the message: a guess of 8 times the input (text often compresses
 * 4 to 6 times), plus the dictionary when it comes back out, in [1 KiB, 64 KiB].
 * Allocating zlib's default 16 KiB (Node 24: 64 KiB) for every short message costs more
 * than inflating it on some runtimes (Deno), and a longer output takes a few chunks.
 */
function chunkSizeFor(inputLength: number, skip: number): number {
  const guess = skip + inputLength * 8;
  return guess <= MIN_CHUNK ? MIN_CHUNK : guess >= MAX_CHUNK ? MAX_CHUNK : guess;
}

/** The error `inflate` reports for a failure of zlib's. */
function inflateFailure(error: unknown, limit: number): Error {
  if ((error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') return new InflateLimitError(limit);
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`permessage-deflate: the message is not valid DEFLATE data (${reason})`, { cause: error });
}
