/**
 * The compressor of one connection's outgoing messages (RFC 7692 §7.2.1).
 * @module
 */
import type { DeflaterParams, MessageDeflater } from '@wsflow/codec';
import { constants, deflateRawSync } from 'node:zlib';
import { exactly } from './exactly.ts';
import { History } from './history.ts';
import { rawDictionarySupport } from './raw_dictionary_support.ts';
import { endsWithSyncFlush } from './sync_flush.ts';

const EMPTY = new Uint8Array(0);

/**
 * zlib's deflate never refers further back than the window less its lookahead
 * (`MAX_DIST = w_size - MIN_LOOKAHEAD`, 262 octets), so a window that is to reach every
 * octet of dictionary and message needs this much more.
 */
const LOOKAHEAD = 262;

/**
 * A {@link MessageDeflater} over `node:zlib`'s one-shot `deflateRawSync`: each message is
 * one synchronous call ending with a sync flush, and context takeover is a preset
 * dictionary, the last `historySize` octets this deflater compressed (at most
 * `2 ** windowBits`). Referring to fewer earlier octets than the window allows is always
 * valid (RFC 7692 §7.2.1 lets the sender choose what to refer to), and the dictionary is
 * the only state kept between messages.
 *
 * Where the runtime's raw deflate ignores a dictionary (Deno 2), every message is
 * compressed on its own, which is equally valid, only larger.
 *
 * Made by {@link createZlibEngine}; the codec drives it.
 */
export class ZlibDeflater implements MessageDeflater {
  readonly #windowBits: number;
  readonly #level: number;
  readonly #memLevel: number;
  readonly #history: History | null;

  /**
   * @param historySize how many octets of what was sent to keep as the dictionary under
   *   context takeover; capped at `2 ** windowBits`
   * @throws RangeError when `windowBits` is below 9, which zlib's raw deflate cannot honour
   */
  constructor(params: DeflaterParams, historySize: number) {
    const { windowBits } = params;
    if (!(Number.isInteger(windowBits) && windowBits >= 9 && windowBits <= 15)) {
      throw new RangeError(`node:zlib deflates with windowBits 9 to 15, got ${String(windowBits)}`);
    }
    this.#windowBits = windowBits;
    this.#level = params.level;
    this.#memLevel = params.memLevel;
    const keep = params.noContextTakeover || !rawDictionarySupport().deflate ? 0 : Math.min(historySize, 2 ** windowBits);
    this.#history = keep > 0 ? new History(keep) : null;
  }

  /** How many octets of what was sent are kept as the next message's dictionary. */
  get historyLength(): number {
    return this.#history?.length ?? 0;
  }

  /**
   * Compresses one whole message, as {@link MessageDeflater.deflate} describes: DEFLATE
   * blocks ending with a sync flush, without its `00 00 ff ff`.
   * @throws Error if zlib fails (e.g. `data` is not octets)
   */
  deflate(data: Uint8Array): Uint8Array {
    const dictionary = this.#history?.bytes ?? EMPTY;
    let out: Uint8Array;
    try {
      out = deflateRawSync(data, {
        // RFC 7692 §7.2.1: compress, then end with an empty stored block (a sync flush).
        finishFlush: constants.Z_SYNC_FLUSH,
        windowBits: windowBitsFor(dictionary.length + data.length, this.#windowBits),
        level: this.#level,
        memLevel: this.#memLevel,
        chunkSize: chunkSizeFor(data.length),
        ...(dictionary.length > 0 ? { dictionary } : {}),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`permessage-deflate: zlib failed to compress the message (${reason})`, { cause: error });
    }
    if (!endsWithSyncFlush(out) || out.length < 5) {
      throw new Error('permessage-deflate: zlib did not end the message with a sync flush');
    }
    this.#history?.push(data);
    // §7.2.1: remove the 00 00 ff ff; what stays is at least one octet (`00` for an empty message, §7.2.3.6).
    return exactly(out.subarray(0, out.length - 4));
  }

  /** Frees the history. */
  dispose(): void {
    this.#history?.clear();
  }
}

/**
 * The smallest window (at least 9, at most the negotiated `max`) in which zlib can refer to
 * every one of `total` octets: the same output as the full window, for less to set up.
 */
function windowBitsFor(total: number, max: number): number {
  let bits = 9;
  while (bits < max && 2 ** bits < total + LOOKAHEAD) bits++;
  return bits;
}

/** Output chunks sized to the message (in [1 KiB, 64 KiB]): compressed data is rarely longer. */
function chunkSizeFor(length: number): number {
  const guess = length + 64;
  return guess <= 1024 ? 1024 : guess >= 65536 ? 65536 : guess;
}
