/**
 * The plain-JavaScript permessage-deflate engine, for browsers and anywhere without
 * `node:zlib`.
 * @module
 */
import type { DeflateEngine, DeflaterParams, InflaterParams, MessageDeflater, MessageInflater } from '@wsflow/codec';
import { JsMessageDeflater } from './js_message_deflater.ts';
import { JsMessageInflater } from './js_message_inflater.ts';
import { MIN_DEFLATE_WINDOW_BITS } from './params.ts';

/**
 * A synchronous {@link DeflateEngine} in plain JavaScript over pako, a port of zlib: the
 * same algorithms, window sizes (`windowBits` 9..15 when compressing, 8..15 when
 * inflating), levels and memory levels as `node:zlib`, with context takeover and
 * `no_context_takeover` (RFC 7692 §7.1.1). It runs in browsers, workers, Deno, Bun and
 * Node alike; where `node:zlib` is at hand, its engine is faster.
 *
 * A peer that limits our window to 2**8 octets gets our messages uncompressed, as zlib's
 * raw DEFLATE cannot honour it (`minDeflateWindowBits` is 9; RFC 7692 §6 lets any message
 * go uncompressed).
 *
 * @example
 * ```ts
 * import { jsDeflateEngine } from '@wsflow/deflate-js';
 *
 * const deflater = jsDeflateEngine.createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
 * const inflater = jsDeflateEngine.createInflater({ windowBits: 15, noContextTakeover: false });
 * const payload = deflater.deflate(new TextEncoder().encode('Hello')); // f2 48 cd c9 c9 07 00
 * new TextDecoder().decode(inflater.inflate(payload, 1 << 20)); // 'Hello'
 * ```
 */
export const jsDeflateEngine: DeflateEngine = Object.freeze({
  name: 'pako',
  minDeflateWindowBits: MIN_DEFLATE_WINDOW_BITS,
  createDeflater(params: DeflaterParams): MessageDeflater {
    return new JsMessageDeflater(params);
  },
  createInflater(params: InflaterParams): MessageInflater {
    return new JsMessageInflater(params);
  },
});
