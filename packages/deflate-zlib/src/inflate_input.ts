/**
 * One message's compressed octets as {@link inflateRaw} reads them, stream after stream.
 * @module
 */

/** The largest window, and so the largest preset dictionary (RFC 7692 §7.1.2: windowBits ≤ 15). */
const MAX_DICTIONARY = 1 << 15;
/** A stored block's header: BFINAL/BTYPE in one octet, then LEN and NLEN (RFC 1951 §3.2.4). */
const STORED_HEADER = 5;

/**
 * A message's input (its sync flush tail put back), read from an offset that only moves
 * forward: each DEFLATE stream of the message starts where the one before ended.
 *
 * Where the runtime ignores a preset dictionary in raw mode (Deno), a stream that needs one
 * is read with the dictionary in front of it as one stored block. Building that in a new
 * buffer for every stream would copy the rest of the message once per stream, which a peer
 * can make quadratic (thousands of 3-octet streams). So the message is copied once, after
 * room for the largest stored block, and each stream's block is written over the octets
 * just before it: they belong to streams already inflated, or to that room.
 */
export class InflateInput {
  /** The message's octets. */
  readonly bytes: Uint8Array;
  /** Room for a stored block, then {@link bytes}; made on first use. */
  #roomy: Uint8Array | undefined;
  /** The offset of the last call: octets before it may have been overwritten. */
  #last = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /**
   * The input from `offset` on, preceded by a stored block (BFINAL 0) holding `dictionary`:
   * inflating it leaves zlib with `dictionary` as its window when the octet at `offset` is
   * read. Overwrites what an earlier call returned before `offset`.
   * @throws RangeError when `dictionary` is longer than 32 KiB, or `offset` moved back
   */
  withStoredDictionary(offset: number, dictionary: Uint8Array): Uint8Array {
    const n = dictionary.length;
    if (n > MAX_DICTIONARY) throw new RangeError(`a dictionary holds at most ${MAX_DICTIONARY} octets, got ${n}`);
    if (!(offset >= this.#last && offset <= this.bytes.length)) {
      throw new RangeError(`the input is read forward only, within its ${this.bytes.length} octets: offset ${offset} after ${this.#last}`);
    }
    this.#last = offset;
    const room = STORED_HEADER + MAX_DICTIONARY;
    let roomy = this.#roomy;
    if (roomy === undefined) {
      roomy = new Uint8Array(room + this.bytes.length);
      roomy.set(this.bytes, room);
      this.#roomy = roomy;
    }
    const start = room + offset - STORED_HEADER - n;
    // BFINAL 0, BTYPE 00 (no compression), then LEN and its one's complement NLEN, little-endian.
    roomy[start] = 0x00;
    roomy[start + 1] = n & 0xff;
    roomy[start + 2] = n >>> 8;
    roomy[start + 3] = ~n & 0xff;
    roomy[start + 4] = (~n >>> 8) & 0xff;
    roomy.set(dictionary, start + STORED_HEADER);
    return roomy.subarray(start);
  }
}
