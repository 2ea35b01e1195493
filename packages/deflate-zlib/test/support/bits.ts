/**
 * Hand-made DEFLATE (RFC 1951) for tests: fixed-Huffman blocks with exactly the literals
 * and back-references a test needs, e.g. a match at a chosen distance or a bomb of
 * 258-octet matches, without a compressor's choices in the way.
 */

/** Writes bits least-significant first, as DEFLATE packs them (RFC 1951 §3.1.1). */
class BitWriter {
  readonly #bytes: number[] = [];
  #bit = 0;
  #acc = 0;

  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.#acc |= ((value >>> i) & 1) << this.#bit;
      if (++this.#bit === 8) {
        this.#bytes.push(this.#acc);
        this.#acc = 0;
        this.#bit = 0;
      }
    }
  }

  /** A Huffman code, packed most-significant bit first (RFC 1951 §3.1.1). */
  code(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.bits((value >>> i) & 1, 1);
  }

  /** Pads to a byte boundary with zero bits and returns everything written. */
  finish(): Uint8Array {
    if (this.#bit > 0) this.bits(0, 8 - this.#bit);
    return Uint8Array.from(this.#bytes);
  }
}

// RFC 1951 §3.2.5: length codes 257..285 and distance codes 0..29, with their extra bits.
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** Finds the code whose range holds `value`. */
function codeFor(base: number[], value: number): number {
  let i = base.length - 1;
  while (base[i] > value) i--;
  return i;
}

/** One fixed-Huffman block (BTYPE 01, RFC 1951 §3.2.6) built symbol by symbol. */
export class FixedBlock {
  readonly #w = new BitWriter();

  constructor(final = false) {
    this.#w.bits(final ? 1 : 0, 1); // BFINAL
    this.#w.bits(1, 2); // BTYPE 01: fixed Huffman codes
  }

  #symbol(s: number): void {
    if (s < 144) this.#w.code(0x30 + s, 8);
    else if (s < 256) this.#w.code(0x190 + s - 144, 9);
    else if (s < 280) this.#w.code(s - 256, 7);
    else this.#w.code(0xc0 + s - 280, 8);
  }

  literal(octet: number): this {
    this.#symbol(octet);
    return this;
  }

  /** A back-reference: `length` octets (3..258) copied from `distance` (1..32768) back. */
  match(length: number, distance: number): this {
    const l = codeFor(LENGTH_BASE, length);
    this.#symbol(257 + l);
    this.#w.bits(length - LENGTH_BASE[l], LENGTH_EXTRA[l]);
    const d = codeFor(DIST_BASE, distance);
    this.#w.code(d, 5);
    this.#w.bits(distance - DIST_BASE[d], DIST_EXTRA[d]);
    return this;
  }

  /**
   * Ends the block and, as permessage-deflate does (RFC 7692 §7.2.1), a sync flush: the
   * 3-bit header of an empty stored block, padding, and no `00 00 ff ff` (the receiver
   * appends it). With `final`, only the end-of-block code and padding.
   */
  message(final = false): Uint8Array {
    this.#symbol(256);
    if (!final) this.#w.bits(0, 3);
    return this.#w.finish();
  }
}

/**
 * A decompression bomb: one zero octet and then `matches` back-references of 258 octets at
 * distance 1, so about 13 bits of input become 258 zero octets. 100 MB takes ~660 KB.
 */
export function zeroBomb(matches: number): Uint8Array {
  const block = new FixedBlock().literal(0);
  for (let i = 0; i < matches; i++) block.match(258, 1);
  return block.message();
}
