/**
 * The sliding window of one direction: the last octets of the uncompressed data, kept
 * between messages for context takeover (RFC 7692 §7.2.1, §7.2.2).
 * @module
 */

const EMPTY = new Uint8Array(0);

/** The smallest buffer a non-empty history gets, so that tiny messages do not regrow it each time. */
const MIN_CAPACITY = 256;

/**
 * The last `limit` octets of a byte stream, in one contiguous buffer that can be handed to
 * zlib as a preset dictionary. The buffer is allocated on first use and grows (by powers of
 * two, never past `limit`) only as the stream does: an idle connection holds nothing, one
 * that only sent a few short messages holds a few hundred octets.
 */
export class History {
  /** The most octets kept: `2 ** windowBits` at most (RFC 1951 §2: no distance exceeds the window). */
  readonly limit: number;
  #buffer: Uint8Array = EMPTY;
  #length = 0;

  constructor(limit: number) {
    this.limit = Math.max(0, Math.floor(limit));
  }

  /** The kept octets, oldest first: a view, valid until the next {@link push} or {@link clear}. */
  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  /** How many octets are kept: never more than {@link limit}. */
  get length(): number {
    return this.#length;
  }

  /** How many octets the buffer holds room for: never more than {@link limit}. */
  get capacity(): number {
    return this.#buffer.length;
  }

  /** Appends `data` to the stream, forgetting whatever falls out of the last {@link limit} octets. */
  push(data: Uint8Array): void {
    const limit = this.limit;
    const n = data.length;
    if (limit === 0 || n === 0) return;
    if (n >= limit) {
      if (this.#buffer.length < limit) this.#buffer = new Uint8Array(limit);
      this.#buffer.set(data.subarray(n - limit));
      this.#length = limit;
      return;
    }
    const keep = Math.min(this.#length, limit - n);
    const needed = keep + n;
    const from = this.#length - keep;
    if (needed > this.#buffer.length) {
      let capacity = Math.max(MIN_CAPACITY, this.#buffer.length);
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(Math.min(capacity, limit));
      grown.set(this.#buffer.subarray(from, this.#length));
      this.#buffer = grown;
    } else if (from > 0) {
      this.#buffer.copyWithin(0, from, this.#length);
    }
    this.#buffer.set(data, keep);
    this.#length = needed;
  }

  /** Forgets everything and frees the buffer. */
  clear(): void {
    this.#buffer = EMPTY;
    this.#length = 0;
  }
}
