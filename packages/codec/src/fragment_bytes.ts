/**
 * The octets of a fragmented message (RFC 6455 §5.4) gathered as its frames arrive, in
 * memory proportional to what arrived.
 * @module
 */

/**
 * Fragments at least this long are kept as they are (a view, no copy) when their buffer is
 * at most {@link VIEW_SLACK} times their length; every other fragment is copied into
 * {@link FragmentBytes}' own chunks. A view costs some hundred octets of objects and pins
 * its whole buffer: a peer sending 65,535 one-octet fragments would otherwise make a
 * connection hold 30 times what it sent, and fragments cut from a big read buffer would
 * pin all of it.
 */
const VIEW_MIN = 64 * 1024;
const VIEW_SLACK = 2;
/** The first chunk of a run of copied fragments holds at least this; each next one as much as all before it. */
const CHUNK_MIN = 256;
/** What a view or a chunk is reckoned to cost beyond its octets: the typed array and its buffer objects. */
const PIECE_OVERHEAD = 128;

const EMPTY = new Uint8Array(0);

/**
 * Gathers a fragmented binary (or compressed) message: large fragments as views, runs of
 * smaller ones copied into chunks that double in size, so that what is held stays within
 * about twice the octets gathered whatever the fragments' sizes, and
 * {@link FragmentBytes.take} joins them once.
 *
 * @example
 * ```ts
 * const bytes = new FragmentBytes((n) => new Uint8Array(n));
 * bytes.add(Uint8Array.of(1), Infinity);
 * bytes.add(Uint8Array.of(2, 3), Infinity);
 * bytes.take(); // Uint8Array [1, 2, 3]
 * ```
 */
export class FragmentBytes {
  readonly #allocate: (size: number) => Uint8Array;
  /** The views and filled chunk regions so far, in order, but for the open chunk. */
  #parts: Uint8Array[] = [];
  /** The chunk copied fragments go into, and how much of it is used. */
  #chunk: Uint8Array = EMPTY;
  #used = 0;
  #length = 0;
  /** Octets allocated for chunks in this message. */
  #chunked = 0;

  /** @param allocate makes the chunks (every octet is written before it is read) */
  constructor(allocate: (size: number) => Uint8Array) {
    this.#allocate = allocate;
  }

  /** How many octets were gathered. */
  get length(): number {
    return this.#length;
  }

  /**
   * What is held: how many separate pieces (views and chunks), and the octets of the
   * buffers they pin (chunks whole, views with their buffers) plus {@link PIECE_OVERHEAD}
   * per piece. @internal (tests bound these)
   */
  get held(): { pieces: number; octets: number } {
    let octets = this.#chunk.length;
    let pieces = this.#chunk.length > 0 ? 1 : 0;
    const buffers = new Set<ArrayBufferLike>([this.#chunk.buffer]);
    for (const part of this.#parts) {
      if (buffers.has(part.buffer)) continue;
      buffers.add(part.buffer);
      pieces++;
      octets += part.buffer.byteLength;
    }
    return { pieces, octets: octets + PIECE_OVERHEAD * pieces };
  }

  /**
   * Appends a fragment's payload.
   * @param payload the octets (a view is kept only while nothing writes to it: the caller hands it over)
   * @param room how many octets the message may still take after this fragment: no chunk grows past it
   */
  add(payload: Uint8Array, room: number): void {
    const n = payload.length;
    if (n === 0) return;
    this.#length += n;
    if (n >= VIEW_MIN && payload.buffer.byteLength <= VIEW_SLACK * n) {
      this.#closeChunk();
      // The next run of copies starts small again: what it holds is what it gets.
      this.#chunked = 0;
      this.#parts.push(payload);
      return;
    }
    let at = 0;
    while (at < n) {
      if (this.#used === this.#chunk.length) this.#openChunk(n - at, room);
      const take = Math.min(n - at, this.#chunk.length - this.#used);
      this.#chunk.set(at === 0 && take === n ? payload : payload.subarray(at, at + take), this.#used);
      this.#used += take;
      at += take;
    }
  }

  /** The gathered octets as one array (a chunk itself when it is all there is and mostly full); then starts afresh. */
  take(): Uint8Array {
    this.#closeChunk();
    const parts = this.#parts;
    const length = this.#length;
    this.#parts = [];
    this.#length = 0;
    this.#chunked = 0;
    if (parts.length === 1 && parts[0]!.buffer.byteLength - length <= length >>> 2) return parts[0]!;
    const out = this.#allocate(length);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Drops what was gathered. */
  clear(): void {
    this.#parts = [];
    this.#chunk = EMPTY;
    this.#used = 0;
    this.#length = 0;
    this.#chunked = 0;
  }

  /**
   * A new chunk: as large as all the chunks before it in this run of copies (so the run
   * holds at most twice what it copied), at least what is left of the fragment, at most
   * `room` more.
   */
  #openChunk(needed: number, room: number): void {
    this.#closeChunk();
    const doubled = Math.max(CHUNK_MIN, this.#chunked);
    const size = Math.max(needed, Math.min(doubled, needed + Math.max(0, room)));
    this.#chunk = this.#allocate(size);
    this.#chunked += size;
  }

  /** Files the open chunk's used part among the parts (it is full, a view comes after it, or the message ends). */
  #closeChunk(): void {
    if (this.#used > 0) this.#parts.push(this.#chunk.subarray(0, this.#used));
    this.#chunk = EMPTY;
    this.#used = 0;
  }
}
