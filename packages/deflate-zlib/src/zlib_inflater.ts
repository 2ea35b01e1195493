/**
 * The decompressor of one connection's incoming messages (RFC 7692 §7.2.2).
 * @module
 */
import { InflateLimitError, type InflaterParams, type MessageInflater } from '@wsflow/codec';
import { History } from './history.ts';
import { InflateInput } from './inflate_input.ts';
import { inflateRaw, type RawInflateResult } from './raw_inflate.ts';
import { isSyncFlushRest, withSyncFlushTail } from './sync_flush.ts';

const EMPTY = new Uint8Array(0);

/**
 * A {@link MessageInflater} over `node:zlib`'s one-shot `inflateRawSync`: each message is
 * one synchronous call, and context takeover is a preset dictionary, the last
 * `2 ** windowBits` octets this inflater produced. That is exactly the window the peer's
 * compressor refers into (RFC 7692 §7.2.2; RFC 1951 §2: no distance reaches further back),
 * so every stream a conforming peer writes inflates the same as with one long-lived zlib
 * stream, while an idle connection holds only those octets (nothing, before its first
 * message or with `noContextTakeover`) instead of a zlib state.
 *
 * Made by {@link createZlibEngine}; the codec drives it.
 */
export class ZlibInflater implements MessageInflater {
  readonly #takeover: boolean;
  readonly #history: History;

  /** @throws RangeError when `windowBits` is not 8 to 15 (RFC 7692 §7.1.2) */
  constructor(params: InflaterParams) {
    const { windowBits } = params;
    if (!(Number.isInteger(windowBits) && windowBits >= 8 && windowBits <= 15)) {
      throw new RangeError(`windowBits must be 8 to 15, got ${String(windowBits)}`);
    }
    this.#takeover = !params.noContextTakeover;
    this.#history = new History(2 ** windowBits);
  }

  /**
   * How many octets of the peer's window are kept between messages: at most
   * `2 ** windowBits`, and 0 with `noContextTakeover`.
   */
  get windowLength(): number {
    return this.#history.length;
  }

  /**
   * Decompresses one whole message (its frames' payloads, concatenated), as
   * {@link MessageInflater.inflate} describes.
   * @throws InflateLimitError when the output would exceed `maxOutput` octets
   * @throws Error when the data is not valid DEFLATE
   */
  inflate(data: Uint8Array, maxOutput: number): Uint8Array {
    const limit = outputLimit(maxOutput);
    // RFC 7692 §7.2.2 step 1: append 00 00 ff ff to the tail end of the payload.
    const input = new InflateInput(withSyncFlushTail(data));
    const bytes = input.bytes;
    const dictionary = this.#takeover ? this.#history.bytes : EMPTY;
    const first = inflateRaw(input, 0, dictionary, limit);
    let output = first.output;
    // A block with BFINAL set ended the DEFLATE stream before the input did (§7.2.3.4).
    if (first.consumed < bytes.length && !isSyncFlushRest(bytes.subarray(first.consumed))) {
      output = this.#inflateFurtherStreams(input, dictionary, first, limit);
    }
    if (this.#takeover) this.#history.push(output);
    return output;
  }

  /** Frees the window. */
  dispose(): void {
    this.#history.clear();
  }

  /**
   * The rest of a message whose first DEFLATE stream ended with a final block (RFC 7692
   * §7.2.3.4) and was followed by more than what is left of the sync flush: further
   * streams, each reading the window as the one before left it. Each costs one zlib call,
   * so a message may hold at most 64 of them plus one per KiB of its length: no more work
   * per octet than short messages already cost. Each call reads only its own stream (zlib
   * stops at its end, and {@link InflateInput} copies nothing but the window), so the whole
   * message costs time linear in its input plus output.
   */
  #inflateFurtherStreams(input: InflateInput, dictionary: Uint8Array, first: RawInflateResult, limit: number): Uint8Array {
    const window = new History(this.#history.limit);
    window.push(dictionary);
    window.push(first.output);
    const parts = [first.output];
    let total = first.output.length;
    let offset = first.consumed;
    const length = input.bytes.length;
    const maxStreams = 64 + (length >>> 10);
    let previous = first.consumed;
    for (let streams = 2; ; streams++) {
      if (streams > maxStreams) {
        throw new Error(`permessage-deflate: the message holds more than ${maxStreams} DEFLATE streams`);
      }
      let next: RawInflateResult;
      try {
        // Output chunks sized to streams like the one before, not to all that is left.
        next = inflateRaw(input, offset, window.bytes, limit - total, 2 * previous);
      } catch (error) {
        throw error instanceof InflateLimitError ? new InflateLimitError(limit) : error;
      }
      if (next.consumed <= 0) throw new Error('permessage-deflate: the message is not valid DEFLATE data (no progress)');
      parts.push(next.output);
      total += next.output.length;
      window.push(next.output);
      offset += next.consumed;
      previous = next.consumed;
      if (offset >= length || isSyncFlushRest(input.bytes.subarray(offset))) break;
    }
    const output = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      output.set(part, at);
      at += part.length;
    }
    return output;
  }
}

/** `maxOutput` as a whole number of octets: NaN and negatives allow nothing, Infinity anything. */
function outputLimit(maxOutput: number): number {
  return maxOutput >= 0 ? Math.floor(Math.min(maxOutput, Number.MAX_SAFE_INTEGER)) : 0;
}
