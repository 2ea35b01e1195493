/**
 * The compressing half of the plain-JavaScript engine: one pako (zlib port) raw DEFLATE
 * stream per connection, sync-flushed after every message (RFC 7692 §7.2.1).
 * @module
 */
import type { DeflaterParams, MessageDeflater } from '@wsflow/codec';
import { ZStream, Z_BUF_ERROR, Z_DEFAULT_STRATEGY, Z_OK, Z_SYNC_FLUSH, zlibDeflate, zlibDeflateEnd, zlibDeflateInit2, zlibDeflateReset } from 'pako';
import { MIN_DEFLATE_WINDOW_BITS, checkIntRange } from './params.ts';
import { endsWithSyncFlushTail } from './sync_flush.ts';

/** zlib's only compression method, DEFLATE. */
const Z_DEFLATED = 8;

/**
 * zlib asks for more than six free octets before a sync flush, so that a flush marker is
 * never cut by a full buffer and written twice.
 */
const FLUSH_MARKER_ROOM = 6;

/**
 * Compresses one connection's outgoing messages with pako's port of zlib's `deflate`.
 *
 * With context takeover the stream lives as long as the connection, so a message may refer
 * back to earlier ones (RFC 7692 §7.1.1); with `noContextTakeover` the stream is reset after
 * every message (`deflateReset`: its memory is kept, its window forgotten). A negative
 * `windowBits` makes the stream raw DEFLATE, and zlib never refers further back than
 * `2 ** windowBits - 262` octets (RFC 7692 §7.1.2.1).
 *
 * @example
 * ```ts
 * const deflater = new JsMessageDeflater({ windowBits: 15, noContextTakeover: false, level: 6, memLevel: 8 });
 * deflater.deflate(new TextEncoder().encode('Hello')); // f2 48 cd c9 c9 07 00
 * ```
 */
export class JsMessageDeflater implements MessageDeflater {
  #strm: ZStream | null = new ZStream();
  readonly #noContextTakeover: boolean;

  /**
   * @throws RangeError when `windowBits` is not 9..15 (zlib's raw DEFLATE refuses 8), `level`
   *   not 0..9 or `memLevel` not 1..9
   */
  constructor(params: DeflaterParams) {
    checkIntRange('windowBits', params.windowBits, MIN_DEFLATE_WINDOW_BITS, 15);
    checkIntRange('level', params.level, 0, 9);
    checkIntRange('memLevel', params.memLevel, 1, 9);
    this.#noContextTakeover = params.noContextTakeover;
    const status = zlibDeflateInit2(this.#strm!, params.level, Z_DEFLATED, -params.windowBits, params.memLevel, Z_DEFAULT_STRATEGY);
    if (status !== Z_OK) throw new Error(`deflate init failed (${status})`);
  }

  /** {@inheritDoc @wsflow/codec!MessageDeflater.deflate} */
  deflate(data: Uint8Array): Uint8Array {
    const strm = this.#strm;
    if (strm === null) throw new Error('the deflater is disposed');
    strm.input = data;
    strm.next_in = 0;
    strm.avail_in = data.length;
    // Room for the whole message stored, its block headers and the flush marker: one pass
    // almost always. Compressible data is copied out below, so the slack is short-lived.
    let out = new Uint8Array(data.length + (data.length >>> 8) + 64);
    let chunks: Uint8Array[] | null = null;
    let total = 0;
    strm.output = out;
    strm.next_out = 0;
    strm.avail_out = out.length;
    try {
      for (;;) {
        if (strm.avail_out <= FLUSH_MARKER_ROOM) {
          (chunks ??= []).push(out.subarray(0, strm.next_out));
          total += strm.next_out;
          out = new Uint8Array(Math.max(1024, out.length));
          strm.output = out;
          strm.next_out = 0;
          strm.avail_out = out.length;
        }
        const status = zlibDeflate(strm, Z_SYNC_FLUSH);
        // Z_BUF_ERROR: nothing to do, e.g. an empty message right after a flush.
        if (status !== Z_OK && status !== Z_BUF_ERROR) throw new Error(`deflate failed (${status}${strm.msg ? `: ${strm.msg}` : ''})`);
        // zlib has finished the flush when it returns with output space to spare.
        if (strm.avail_out !== 0) break;
      }
    } finally {
      strm.input = null as unknown as Uint8Array; // do not keep the caller's message alive
      strm.output = null as unknown as Uint8Array<ArrayBuffer>;
      if (this.#noContextTakeover) zlibDeflateReset(strm);
    }
    let result: Uint8Array;
    let end: number;
    if (chunks === null) {
      result = out;
      end = strm.next_out;
    } else {
      chunks.push(out.subarray(0, strm.next_out));
      end = total + strm.next_out;
      result = new Uint8Array(end);
      let at = 0;
      for (const chunk of chunks) {
        result.set(chunk, at);
        at += chunk.length;
      }
    }
    // An empty message after a flush writes nothing: one octet stands for it (§7.2.3.6).
    if (end === 0) return Uint8Array.of(0x00);
    if (!endsWithSyncFlushTail(result, end)) throw new Error('deflate output does not end with a sync flush');
    end -= 4;
    if (end === 0) return Uint8Array.of(0x00);
    // Keep the result compact: a large, mostly empty buffer would outlive the frame it is sent in.
    return end < result.length >>> 1 ? result.slice(0, end) : result.subarray(0, end);
  }

  /** {@inheritDoc @wsflow/codec!MessageDeflater.dispose} */
  dispose(): void {
    if (this.#strm === null) return;
    zlibDeflateEnd(this.#strm);
    this.#strm = null;
  }
}
