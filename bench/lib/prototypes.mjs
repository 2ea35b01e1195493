// Reference and candidate masking loops, written for the comparison in the masking table
// and the profiling notes. Not used by wsflow itself.

/** The textbook loop: one octet at a time, key indexed by position. */
export function byteLoopMask(src, dst, off, keyBytes) {
  const n = src.length;
  for (let i = 0; i < n; i++) dst[off + i] = src[i] ^ keyBytes[i & 3];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A candidate for wsflow's `maskInto` when src and dst are different memory: one pass
 * that reads a source word and writes the masked word (`d[j] = s[j] ^ w`), instead of
 * copying first (`dst.set(src)`) and XOR-ing in place afterwards (two passes). Needs
 * src and dst to share their alignment modulo 4; otherwise this prototype falls back to
 * the octet loop (a real one would copy, then XOR words in place, as maskInto does now).
 * `key` uses wsflow's convention (octet 0 in the most significant byte), phase 0.
 */
export function fusedMask32(src, dst, off, key) {
  const n = src.length;
  const start = dst.byteOffset + off;
  let k = key >>> 0;
  let i = 0;
  if (n >= 16 && ((src.byteOffset ^ start) & 3) === 0) {
    const head = (4 - (start & 3)) & 3;
    for (; i < head; i++) {
      dst[off + i] = src[i] ^ (k >>> 24);
      k = ((k << 8) | (k >>> 24)) >>> 0;
    }
    const words = (n - head) >>> 2;
    const s = new Uint32Array(src.buffer, src.byteOffset + head, words);
    const d = new Uint32Array(dst.buffer, start + head, words);
    const w = LITTLE_ENDIAN
      ? (((k & 0xff) << 24) | ((k & 0xff00) << 8) | ((k >>> 8) & 0xff00) | (k >>> 24)) >>> 0
      : k;
    for (let j = 0; j < words; j++) d[j] = s[j] ^ w;
    i += words << 2;
  }
  for (; i < n; i++) {
    dst[off + i] = src[i] ^ (k >>> 24);
    k = ((k << 8) | (k >>> 24)) >>> 0;
  }
}

/**
 * Prototype of a client-role frame for a small payload (< 126 octets): one allocation,
 * header written inline, masked with an octet loop straight from the payload (no
 * `set` copy first, no Uint32Array view) — what FrameWriter could do below ~64 octets.
 */
export function protoMaskedSmallFrame(opcode, payload, key) {
  const n = payload.length;
  const out = new Uint8Array(6 + n);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | n;
  out[2] = key >>> 24;
  out[3] = (key >>> 16) & 0xff;
  out[4] = (key >>> 8) & 0xff;
  out[5] = key & 0xff;
  let k = key >>> 0;
  for (let i = 0; i < n; i++) {
    out[6 + i] = payload[i] ^ (k >>> 24);
    k = ((k << 8) | (k >>> 24)) >>> 0;
  }
  return out;
}

const textEncoder = new TextEncoder();
/** Larger than 64 octets, so V8 gives it an off-heap buffer once, at startup. */
const TEXT_SCRATCH = new Uint8Array(256);

/**
 * Prototype of a server-role text frame for a short string (< 42 UTF-16 units, so even
 * at 3 octets per unit the length fits the 7-bit field): encodeInto a reused scratch
 * buffer (no subarray, no fresh ArrayBuffer), then copy the octets into an exact-size
 * frame. Frames up to 64 octets stay V8 on-heap typed arrays, which are cheap.
 */
export function protoTextSmallFrame(text) {
  const n = textEncoder.encodeInto(text, TEXT_SCRATCH).written;
  const out = new Uint8Array(2 + n);
  out[0] = 0x81;
  out[1] = n;
  for (let i = 0; i < n; i++) out[2 + i] = TEXT_SCRATCH[i];
  return out;
}
