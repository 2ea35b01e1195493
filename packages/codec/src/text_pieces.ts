/**
 * The text of a fragmented message (RFC 6455 §5.4) put together as its pieces are decoded,
 * in memory proportional to its length.
 * @module
 */

/** Decoded pieces are joined into one flat string this many at a time. */
const BATCH = 16;
/** What a string is reckoned to cost beyond its characters: its header (V8, JavaScriptCore). */
const STRING_OVERHEAD = 32;

/**
 * Puts a text message together from its decoded pieces. Appending each piece to a string
 * would leave one rope node per piece (tens of octets each, in V8 and JavaScriptCore): a
 * peer sending 65,535 one-octet fragments would make a connection hold several times what
 * it sent. Instead pieces are joined flat {@link BATCH} at a time, and joined strings are
 * kept as a stack in which each is longer than all those above it together: a joined
 * string that would break that merges with the top (again flat). So a message of `n`
 * characters is held in at most about `log2(n) + BATCH` strings, and each character is
 * copied at most about `log2(n)` times.
 *
 * @example
 * ```ts
 * const text = new TextPieces();
 * text.add('Hel');
 * text.add('lo');
 * text.take(); // 'Hello'
 * ```
 */
export class TextPieces {
  /** Joined strings, oldest first, each longer than all after it together. */
  #stack: string[] = [];
  #batch: string[] = [];
  #length = 0;

  /** How many UTF-16 code units were added. */
  get length(): number {
    return this.#length;
  }

  /**
   * What is held: how many separate strings, and an upper bound of their octets (2 per
   * code unit, plus {@link STRING_OVERHEAD} per string). @internal (tests bound these)
   */
  get held(): { pieces: number; octets: number } {
    const pieces = this.#stack.length + this.#batch.length;
    return { pieces, octets: 2 * this.#length + STRING_OVERHEAD * pieces };
  }

  /** Appends a decoded piece. */
  add(piece: string): void {
    if (piece.length === 0) return;
    this.#batch.push(piece);
    this.#length += piece.length;
    if (this.#batch.length >= BATCH) this.#push(this.#joinBatch());
  }

  /** The text so far, as one string; then starts afresh. */
  take(): string {
    const parts = this.#stack;
    if (this.#batch.length > 0) parts.push(this.#joinBatch());
    const text = parts.length === 0 ? '' : parts.length === 1 ? parts[0]! : parts.join('');
    this.clear();
    return text;
  }

  /** Drops what was added. */
  clear(): void {
    this.#stack = [];
    this.#batch = [];
    this.#length = 0;
  }

  #joinBatch(): string {
    const joined = this.#batch.join('');
    this.#batch = [];
    return joined;
  }

  /** Pushes a joined string, merging while the top is no longer than what comes. */
  #push(joined: string): void {
    const stack = this.#stack;
    let s = joined;
    while (stack.length > 0 && stack[stack.length - 1]!.length <= s.length) s = [stack.pop()!, s].join('');
    stack.push(s);
  }
}
