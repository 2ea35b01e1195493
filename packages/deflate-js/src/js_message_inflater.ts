/**
 * The decompressing half of the plain-JavaScript engine: one pako (zlib port) raw INFLATE
 * stream per connection, fed each message with the sync flush's tail put back (RFC 7692
 * §7.2.2), into output buffers that never add up to more than the caller's limit.
 * @module
 */
import { InflateLimitError, type InflaterParams, type MessageInflater } from '@wsflow/codec';
import { ZStream, Z_BUF_ERROR, Z_OK, Z_STREAM_END, Z_SYNC_FLUSH, zlibInflate, zlibInflateEnd, zlibInflateInit2, zlibInflateReset, zlibInflateResetKeep } from 'pako';
import { MIN_DEFLATE_WINDOW_BITS, checkIntRange } from './params.ts';
import { SYNC_FLUSH_TAIL } from './sync_flush.ts';

/** zlib sets this bit of `data_type` when inflate stopped where a block header starts. */
const DATA_TYPE_AT_BLOCK_BOUNDARY = 128;
/** The first output buffer holds this many times the input (text often inflates 3-10x)... */
const FIRST_CHUNK_RATIO = 8;
/** ...but no less than this... */
const MIN_CHUNK = 4096;
/** ...and no buffer grows past this, so a large message is built from a few pieces. */
const MAX_CHUNK = 1 << 22;

/**
 * Decompresses one connection's incoming messages with pako's port of zlib's `inflate`.
 *
 * Memory stays bounded whatever the input: output goes into buffers sized so that their
 * total never passes `maxOutput + 1` octets, and decompression stops with
 * {@link InflateLimitError} the moment that last octet fills (a decompression bomb).
 *
 * Lenient where RFC 7692 allows a choice: a message may end its DEFLATE stream with a
 * BFINAL block (§7.2.3.4); the next block then starts a new stream over the same window, so
 * context takeover still works. An empty payload inflates to an empty message.
 *
 * @example
 * ```ts
 * const inflater = new JsMessageInflater({ windowBits: 15, noContextTakeover: false });
 * inflater.inflate(Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), 1 << 20); // "Hello"
 * ```
 */
export class JsMessageInflater implements MessageInflater {
  #strm: ZStream | null = new ZStream();
  readonly #noContextTakeover: boolean;
  // The message being inflated: its output pieces, their total, and what the limit leaves.
  #chunks: Uint8Array[] = [];
  #produced = 0;
  #capacityLeft = 0;
  #nextChunk = 0;
  // How many DEFLATE streams of the message have ended, and how many may (see maxStreams).
  #streams = 0;
  #maxStreams = 0;

  /** @throws RangeError when `windowBits` is not 8..15 */
  constructor(params: InflaterParams) {
    checkIntRange('windowBits', params.windowBits, 8, 15);
    this.#noContextTakeover = params.noContextTakeover;
    // Some zlib versions silently compress with a 2**9 window when asked for 2**8, so a
    // window of at least 2**9 is kept: it accepts every conforming peer and those too.
    const status = zlibInflateInit2(this.#strm!, -Math.max(params.windowBits, MIN_DEFLATE_WINDOW_BITS));
    if (status !== Z_OK) throw new Error(`inflate init failed (${status})`);
  }

  /** {@inheritDoc @wsflow/codec!MessageInflater.inflate} */
  inflate(data: Uint8Array, maxOutput: number): Uint8Array {
    const strm = this.#strm;
    if (strm === null) throw new Error('the inflater is disposed');
    if (!(maxOutput >= 0)) throw new RangeError(`maxOutput must be a non-negative number, got ${String(maxOutput)}`);
    if (data.length === 0) return new Uint8Array(0);
    // The peer starts every message with an empty window (§7.1.1.1): so do we.
    if (this.#noContextTakeover) zlibInflateReset(strm);
    this.#chunks = [];
    this.#produced = 0;
    this.#capacityLeft = maxOutput + 1;
    this.#nextChunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, data.length * FIRST_CHUNK_RATIO));
    this.#streams = 0;
    this.#maxStreams = maxStreams(data.length + SYNC_FLUSH_TAIL.length);
    strm.avail_out = 0;
    try {
      // A stream that ends exactly at the end of the payload (a BFINAL block, §7.2.3.4,
      // without the octet that usually follows it) needs no tail: the next message starts
      // a new stream on a byte boundary.
      const endedAtEnd = this.#run(strm, data, maxOutput);
      if (!endedAtEnd) {
        // With the tail back, a message ends with an empty stored block (§7.2.1), so the
        // stream waits for a block header, or that block was a final one (`01` before the
        // tail) and the stream ended with it. Anywhere else, the message was cut short.
        const endedWithTail = this.#run(strm, SYNC_FLUSH_TAIL, maxOutput);
        if (!endedWithTail && (strm.data_type & DATA_TYPE_AT_BLOCK_BOUNDARY) === 0) throw new Error('invalid DEFLATE data: the message ends inside a block');
      }
      if (this.#produced + strm.next_out > maxOutput) throw new InflateLimitError(maxOutput);
      return this.#collect(strm);
    } catch (error) {
      // The message is abandoned; a stream in mid-block is of no use for the next one.
      zlibInflateReset(strm);
      throw error;
    } finally {
      strm.input = null as unknown as Uint8Array;
      strm.output = null as unknown as Uint8Array<ArrayBuffer>;
      this.#chunks = [];
    }
  }

  /**
   * Inflates all of `input` into the current message's output.
   * @returns whether the DEFLATE stream ended (a BFINAL block) exactly at the end of `input`
   */
  #run(strm: ZStream, input: Uint8Array, maxOutput: number): boolean {
    strm.input = input;
    strm.next_in = 0;
    strm.avail_in = input.length;
    for (;;) {
      if (strm.avail_out === 0) this.#grow(strm, maxOutput);
      const inBefore = strm.avail_in;
      const outBefore = strm.avail_out;
      const status = zlibInflate(strm, Z_SYNC_FLUSH);
      if (status === Z_STREAM_END) {
        // A BFINAL block ended the stream. Start a new one over the same window: the
        // octets that follow (often `00` plus our tail: an empty stored block) belong to it.
        if (++this.#streams > this.#maxStreams) {
          throw new Error(`invalid DEFLATE data: the message holds more than ${this.#maxStreams} DEFLATE streams`);
        }
        zlibInflateResetKeep(strm);
        if (strm.avail_in === 0) return true;
        continue;
      }
      if (status !== Z_OK && status !== Z_BUF_ERROR) {
        throw new Error(`invalid DEFLATE data: ${strm.msg || `inflate status ${status}`}`);
      }
      if (strm.avail_out === 0) continue; // output may be pending: more room, then again
      if (strm.avail_in === 0) return false;
      if (strm.avail_in === inBefore && strm.avail_out === outBefore) {
        throw new Error('invalid DEFLATE data: inflate made no progress');
      }
    }
  }

  /**
   * Gives the stream a new output buffer, counting the full one.
   * @throws InflateLimitError when the output has passed `maxOutput`
   */
  #grow(strm: ZStream, maxOutput: number): void {
    if (strm.output !== null && strm.next_out > 0) {
      this.#chunks.push(strm.output.subarray(0, strm.next_out));
      this.#produced += strm.next_out;
    }
    if (this.#produced > maxOutput || this.#capacityLeft === 0) throw new InflateLimitError(maxOutput);
    const size = Math.min(this.#nextChunk, this.#capacityLeft);
    this.#capacityLeft -= size;
    this.#nextChunk = Math.min(MAX_CHUNK, this.#nextChunk * 2);
    strm.output = new Uint8Array(size);
    strm.next_out = 0;
    strm.avail_out = size;
  }

  /** The current message's output as one array. */
  #collect(strm: ZStream): Uint8Array {
    const last = strm.output;
    const lastUsed = last === null ? 0 : strm.next_out;
    const chunks = this.#chunks;
    if (chunks.length === 0) {
      if (last === null || lastUsed === 0) return new Uint8Array(0);
      // A mostly empty buffer is copied down rather than kept alive behind a small view.
      return lastUsed < last.length >>> 1 ? last.slice(0, lastUsed) : last.subarray(0, lastUsed);
    }
    const result = new Uint8Array(this.#produced + lastUsed);
    let at = 0;
    for (const chunk of chunks) {
      result.set(chunk, at);
      at += chunk.length;
    }
    if (lastUsed > 0) result.set(last!.subarray(0, lastUsed), at);
    return result;
  }

  /** {@inheritDoc @wsflow/codec!MessageInflater.dispose} */
  dispose(): void {
    if (this.#strm === null) return;
    zlibInflateEnd(this.#strm);
    this.#strm = null;
  }
}

/**
 * The most DEFLATE streams a message of `length` octets (its tail put back) may hold: 64, plus one per KiB.
 * Each stream's end costs a reset and a call into inflate (a few microseconds), so a peer
 * sending thousands of 3-octet streams (`4b 04 00` repeated) would otherwise cost about a
 * second per MiB; conforming peers end a message's stream at most once (RFC 7692 §7.2.3.4).
 * The same bound as the zlib engine's, so that both engines accept the same messages.
 */
function maxStreams(length: number): number {
  return 64 + (length >>> 10);
}
