/**
 * Masking (RFC 6455 §5.3): `octet[i] ^ key[i % 4]`, with a WebAssembly SIMD fast path
 * (and a 32-bit word path where WebAssembly is unavailable).
 *
 * A mask key is handled as one unsigned 32-bit number holding the four key octets in
 * wire order (`key[0]` in the most significant byte), so no per-frame key buffer is
 * allocated. `phase` is how many payload octets were masked before this call, so a
 * frame whose payload arrives in pieces can be unmasked piece by piece.
 * @module
 */

import { createWasmMasker, WASM_BLOCK, type WasmMasker } from './mask_wasm.ts';

/**
 * Payloads up to this long are masked byte by byte; longer ones go through the
 * WebAssembly SIMD kernel where it loads, else through 32-bit words. Measured with
 * `bench/codec-profile.mjs` (Node 24, x64): the byte loop costs ~1 ns per octet, the
 * kernel ~55 ns per call plus its copies, so they break even near 64 octets, and from 64
 * octets up the kernel is as fast as the word path or faster (1.3x at 1 KiB, 2x from
 * 64 KiB). Besides, touching `.buffer` of a small typed array makes V8 move it off its
 * heap (hundreds of nanoseconds), so short payloads never look at it.
 */
const SMALL_MAX = 63;

let wasm: WasmMasker | null | undefined;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The key rotated left by `phase` octets, so that its first octet applies to the next payload octet. */
function rotate(key: number, phase: number): number {
  const s = (phase & 3) * 8;
  return s === 0 ? key >>> 0 : ((key << s) | (key >>> (32 - s))) >>> 0;
}

/** The rotated key as a native-endian word, to XOR against a `Uint32Array` lane. */
function nativeWord(key: number): number {
  if (!LITTLE_ENDIAN) return key >>> 0;
  return (((key & 0xff) << 24) | ((key & 0xff00) << 8) | ((key >>> 8) & 0xff00) | (key >>> 24)) >>> 0;
}

/**
 * Writes `src` masked with `key` into `dst` starting at `dstOffset`. `src` is not
 * modified unless it is the same memory as the destination range (masking in place is allowed).
 * Masking and unmasking are the same operation.
 *
 * @param src the octets to mask
 * @param dst the buffer to write into; must have room for `src.length` octets at `dstOffset`
 * @param dstOffset where in `dst` to start writing
 * @param key the 4 key octets in wire order as an unsigned 32-bit number
 * @param phase how many octets of this payload were masked before (only `phase % 4` matters)
 *
 * @example
 * ```ts
 * const out = new Uint8Array(5);
 * maskInto(new TextEncoder().encode('Hello'), out, 0, 0x37fa213d, 0);
 * // out is 7f 9f 4d 51 58 (RFC 6455 §5.7)
 * ```
 */
export function maskInto(src: Uint8Array, dst: Uint8Array, dstOffset: number, key: number, phase: number): void {
  const n = src.length;
  if (n <= SMALL_MAX) {
    let k = rotate(key, phase);
    for (let i = 0; i < n; i++) {
      dst[dstOffset + i] = src[i] ^ (k >>> 24);
      k = ((k << 8) | (k >>> 24)) >>> 0;
    }
    return;
  }
  if (wasm === undefined) wasm = createWasmMasker();
  if (wasm !== null) maskWasm(wasm, src, dst, dstOffset, key, phase);
  else maskWords(src, dst, dstOffset, key, phase);
}

/**
 * {@link maskInto} without WebAssembly: copies `src` to the destination (unless it is
 * already there), then XORs octets up to a 4-byte boundary of the destination and whole
 * 32-bit words from there. Used where the wasm kernel does not load.
 * @internal exported for tests
 */
export function maskWords(src: Uint8Array, dst: Uint8Array, dstOffset: number, key: number, phase: number): void {
  const n = src.length;
  if (src !== dst || dstOffset !== 0) {
    if (src.buffer !== dst.buffer || src.byteOffset !== dst.byteOffset + dstOffset) dst.set(src, dstOffset);
  }
  let k = rotate(key, phase);
  let i = 0;
  if (n > SMALL_MAX) {
    // Mask octets one by one until the destination is 4-byte aligned, then whole words.
    const start = dst.byteOffset + dstOffset;
    const head = (4 - (start & 3)) & 3;
    for (; i < head; i++) {
      dst[dstOffset + i] ^= k >>> 24;
      k = ((k << 8) | (k >>> 24)) >>> 0;
    }
    const words = (n - head) >>> 2;
    if (words > 0) {
      const view = new Uint32Array(dst.buffer, start + head, words);
      const w = nativeWord(k);
      for (let j = 0; j < words; j++) view[j] ^= w;
      i += words << 2;
    }
  }
  for (; i < n; i++) {
    dst[dstOffset + i] ^= k >>> 24;
    k = ((k << 8) | (k >>> 24)) >>> 0;
  }
}

/**
 * Masks through the wasm kernel's memory, {@link WASM_BLOCK} octets at a time: copy in,
 * XOR, copy out. Small blocks keep the source piece, the kernel's memory and the
 * destination piece in the L1 cache while each is touched (one 64 KiB block measured
 * ~30 % slower than 4 KiB blocks on a 1 MiB payload). Every block but the last is a
 * multiple of 4 octets long, so each starts at key phase 0 after the first.
 */
function maskWasm(w: WasmMasker, src: Uint8Array, dst: Uint8Array, dstOffset: number, key: number, phase: number): void {
  const k = rotate(key, phase);
  // The kernel wants key octet 0 in the low byte.
  const le = (((k & 0xff) << 24) | ((k & 0xff00) << 8) | ((k >>> 8) & 0xff00) | (k >>> 24)) | 0;
  const memory = w.memory;
  const mask = w.mask;
  const n = src.length;
  if (n <= WASM_BLOCK) {
    memory.set(src, 0);
    mask(0, n, le);
    dst.set(n === WASM_BLOCK ? memory : memory.subarray(0, n), dstOffset);
    return;
  }
  // Plain views of the source's memory: cheaper than `subarray` (no species lookup; on a
  // Node Buffer, `subarray` builds another Buffer).
  const buffer = src.buffer;
  const base = src.byteOffset;
  let at = 0;
  for (; at + WASM_BLOCK <= n; at += WASM_BLOCK) {
    memory.set(new Uint8Array(buffer, base + at, WASM_BLOCK), 0);
    mask(0, WASM_BLOCK, le);
    dst.set(memory, dstOffset + at);
  }
  if (at < n) {
    memory.set(new Uint8Array(buffer, base + at, n - at), 0);
    mask(0, n - at, le);
    dst.set(memory.subarray(0, n - at), dstOffset + at);
  }
}

/** A source of fresh, unpredictable mask keys (RFC 6455 §5.3, §10.3). Injected so tests can be deterministic. */
export interface MaskKeySource {
  /** The next key, its four octets in wire order as an unsigned 32-bit number. */
  next(): number;
}

/**
 * Mask keys from `crypto.getRandomValues`, drawn in batches so that masking a small
 * frame does not pay for a call into the system's random source.
 */
export class RandomMaskKeys implements MaskKeySource {
  readonly #pool: Uint32Array<ArrayBuffer>;
  #index: number;

  /** @param batch how many keys to draw per call to `crypto.getRandomValues` (at most 16384) */
  constructor(batch = 1024) {
    if (!Number.isInteger(batch) || batch < 1 || batch > 16384) throw new RangeError('batch must be an integer from 1 to 16384');
    this.#pool = new Uint32Array(batch);
    this.#index = batch;
  }

  next(): number {
    if (this.#index === this.#pool.length) {
      crypto.getRandomValues(this.#pool);
      this.#index = 0;
    }
    const key = this.#pool[this.#index];
    // Each key is handed out once; zero its slot so the pool never holds keys already used.
    this.#pool[this.#index++] = 0;
    return key;
  }
}

/** A process-wide default key source, shared so that batches are drawn rarely. */
export const defaultMaskKeys: MaskKeySource = new RandomMaskKeys();
