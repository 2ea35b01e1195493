/**
 * The permessage-deflate engine over `node:zlib`, for Node, Deno and Bun.
 * @module
 */
import type { DeflateEngine, DeflaterParams, InflaterParams, MessageDeflater, MessageInflater } from '@wsflow/codec';
import { ZlibDeflater } from './zlib_deflater.ts';
import { ZlibInflater } from './zlib_inflater.ts';

/** Tuning for {@link createZlibEngine}. */
export interface ZlibEngineOptions {
  /**
   * Under context takeover, how many octets of what was last sent the deflater keeps and
   * compresses the next message against (capped at the negotiated `2 ** windowBits`).
   * More finds more repeats across messages but costs time on every message: zlib reads
   * the whole dictionary each call. 0 compresses every message on its own. Default 4096,
   * measured with `bench/deflate-engine.mjs` on 1 KiB JSON-like messages at level 6
   * (Node 24): 211 octets a message in 27 µs, against 374 in 19 µs with none and 202 in
   * 61 µs with a full 32 KiB window (the size a long-lived zlib stream gets).
   */
  deflateHistory?: number;
}

/** The default of {@link ZlibEngineOptions.deflateHistory}. */
export const DEFAULT_DEFLATE_HISTORY = 4096;

/**
 * Makes a {@link DeflateEngine} over `node:zlib`, to inject into wsflow's permessage-deflate.
 *
 * Every message is one synchronous zlib call (the codec is synchronous); the context kept
 * between messages is the plain octets of the LZ77 window, handed to zlib as a preset
 * dictionary, so an idle connection holds at most those octets and no zlib state.
 *
 * @example
 * ```ts
 * import { createZlibEngine } from '@wsflow/deflate-zlib';
 *
 * // Keep a full 32 KiB of sent data to compress against: smaller messages, more CPU.
 * const engine = createZlibEngine({ deflateHistory: 32 * 1024 });
 * const deflater = engine.createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
 * const inflater = engine.createInflater({ windowBits: 15, noContextTakeover: false });
 * const payload = deflater.deflate(new TextEncoder().encode('Hello')); // f2 48 cd c9 c9 07 00
 * inflater.inflate(payload, 1 << 20); // the octets of "Hello"
 * ```
 * @throws RangeError when `deflateHistory` is not a whole number of octets, 0 or more
 */
export function createZlibEngine(options: ZlibEngineOptions = {}): DeflateEngine {
  const deflateHistory = options.deflateHistory ?? DEFAULT_DEFLATE_HISTORY;
  if (!(Number.isInteger(deflateHistory) && deflateHistory >= 0)) {
    throw new RangeError(`deflateHistory must be a whole number of octets, got ${String(deflateHistory)}`);
  }
  return {
    name: 'node:zlib',
    // zlib's raw deflate refuses an 8-bit window (Node quietly makes it 9, which a peer
    // that asked for 8 must not receive); a peer that asks for 8 gets uncompressed messages.
    minDeflateWindowBits: 9,
    createDeflater(params: DeflaterParams): MessageDeflater {
      return new ZlibDeflater(params, deflateHistory);
    },
    createInflater(params: InflaterParams): MessageInflater {
      return new ZlibInflater(params);
    },
  };
}

/**
 * The `node:zlib` engine with default tuning: what Node, Deno and Bun servers and clients
 * inject for permessage-deflate.
 *
 * @example
 * ```ts
 * import { zlibEngine } from '@wsflow/deflate-zlib';
 *
 * const deflater = zlibEngine.createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
 * deflater.deflate(new TextEncoder().encode('Hello')); // f2 48 cd c9 c9 07 00 (RFC 7692 §7.2.3.1)
 * deflater.deflate(new TextEncoder().encode('Hello')); // f2 00 11 00 00 (§7.2.3.2; Deno: as the first)
 * ```
 */
export const zlibEngine: DeflateEngine = createZlibEngine();
