/**
 * The compression engine permessage-deflate (RFC 7692) is injected with. The codec never
 * imports a zlib: runtimes with `node:zlib` (Node, Deno, Bun) inject one over it, browsers a
 * JavaScript one. Engines are synchronous, so the sans-I/O core stays synchronous: a message
 * is compressed in `send` and inflated before its event, in the order the frames came.
 * @module
 */

/** How one direction's compressor is set up (RFC 7692 §7.1). */
export interface DeflaterParams {
  /**
   * The LZ77 window, as a base-2 logarithm (8..15): the compressor must not refer further
   * back than `2 ** windowBits` octets (`*_max_window_bits`, RFC 7692 §7.1.2).
   */
  windowBits: number;
  /**
   * Reset the window after every message (`*_no_context_takeover`, RFC 7692 §7.1.1): each
   * message then compresses on its own. When false the compressor may refer to earlier
   * messages' data (context takeover).
   */
  noContextTakeover: boolean;
  /** zlib compression level, 0 (store) to 9 (smallest). */
  level: number;
  /** zlib memory level, 1 to 9: memory for the match finder's state. */
  memLevel: number;
}

/** How one direction's decompressor is set up (RFC 7692 §7.1). */
export interface InflaterParams {
  /** The peer compresses with a window of at most `2 ** windowBits` octets (8..15). */
  windowBits: number;
  /**
   * The peer resets its window after every message, so nothing need be kept between
   * messages. When false the decompressor keeps the last `2 ** windowBits` octets of output.
   */
  noContextTakeover: boolean;
}

/** Compresses one connection's outgoing messages, keeping its context between them. */
export interface MessageDeflater {
  /**
   * Compresses one whole message and ends it with a sync flush (RFC 7692 §7.2.1): the
   * result is the DEFLATE blocks without the trailing `00 00 ff ff`, ready for a frame
   * with RSV1 set. An empty message compresses to at least one octet (`00`, §7.2.3.6).
   * @throws Error if the engine fails; the caller fails the connection with 1011
   */
  deflate(data: Uint8Array): Uint8Array;
  /** Frees what the deflater holds. It is not used after. */
  dispose(): void;
}

/** Decompresses one connection's incoming messages, keeping the peer's context between them. */
export interface MessageInflater {
  /**
   * Decompresses one whole message: the concatenated payloads of its frames, without the
   * `00 00 ff ff` the sender removed (the inflater appends it, RFC 7692 §7.2.2).
   * Decompression stops as soon as the output would exceed `maxOutput` octets: memory
   * stays bounded whatever the input (a decompression bomb).
   * @throws InflateLimitError when the output would exceed `maxOutput`
   * @throws Error when the data is not valid DEFLATE; the caller fails the connection with 1007
   */
  inflate(data: Uint8Array, maxOutput: number): Uint8Array;
  /** Frees what the inflater holds. It is not used after. */
  dispose(): void;
}

/**
 * A DEFLATE implementation: makes the compressor and decompressor of each connection.
 *
 * @example
 * ```ts
 * import { zlibEngine } from '@wsflow/deflate-zlib';
 * const deflater = zlibEngine.createDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
 * const payload = deflater.deflate(new TextEncoder().encode('Hello')); // f2 48 cd c9 c9 07 00
 * ```
 */
export interface DeflateEngine {
  /** A short name for logs and benchmarks, e.g. `node:zlib`. */
  readonly name: string;
  /**
   * The smallest `windowBits` the deflater can honour (zlib's raw deflate refuses 8, so
   * 9). A peer that limits our window below it gets our messages uncompressed, which is
   * always allowed (RFC 7692 §6). Default 8.
   */
  readonly minDeflateWindowBits?: number;
  /** A compressor for the messages one end sends. */
  createDeflater(params: DeflaterParams): MessageDeflater;
  /** A decompressor for the messages one end receives. */
  createInflater(params: InflaterParams): MessageInflater;
}

/**
 * Thrown by {@link MessageInflater.inflate} when a message inflates past its limit. The
 * connection closes with 1009 (Message Too Big).
 */
export class InflateLimitError extends RangeError {
  /** The limit that was hit, in octets. */
  readonly limit: number;

  constructor(limit: number) {
    super(`decompressed message exceeds ${limit} octets`);
    this.name = 'InflateLimitError';
    this.limit = limit;
  }
}
