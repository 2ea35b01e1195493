/**
 * Reads a fuzz input as a few control octets followed by the data under test, so that one
 * byte string chooses both the parser's options and what it is fed. Past the end it reads
 * zeros, so every input is usable.
 * @module
 */
export class FuzzInput {
  readonly #bytes: Uint8Array;
  #at = 0;

  /** Copies `bytes` into a plain `Uint8Array`: Jazzer.js passes a `Buffer`, whose `slice` is a view. */
  constructor(bytes: Uint8Array) {
    this.#bytes = new Uint8Array(bytes);
  }

  /** The next octet, or 0 past the end. */
  byte(): number {
    return this.#at < this.#bytes.length ? this.#bytes[this.#at++] : 0;
  }

  /** Everything not read yet (a view). */
  rest(): Uint8Array {
    const rest = this.#bytes.subarray(Math.min(this.#at, this.#bytes.length));
    this.#at = this.#bytes.length;
    return rest;
  }
}

/**
 * Chunk sizes that cut `length` octets the way a transport might: `seed` 0 gives one chunk,
 * otherwise sizes cycle through a small pattern drawn from the seed (1 octet at a time
 * included), so the parser sees headers and payloads split everywhere.
 */
export function chunkSizes(seed: number, length: number): number[] {
  if (seed === 0 || length === 0) return [length];
  const pattern = [1 + (seed & 0x07), 1 + ((seed >> 3) & 0x03), 1 + (seed >> 5) * 3];
  const sizes: number[] = [];
  for (let left = length, i = 0; left > 0; i++) {
    const size = Math.min(left, pattern[i % pattern.length]);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** Cuts `bytes` into fresh copies of the given sizes (each chunk its own buffer). */
export function cut(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    chunks.push(bytes.slice(at, at + size));
    at += size;
  }
  return chunks;
}
