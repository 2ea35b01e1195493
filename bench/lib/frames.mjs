// Builds benchmark input: wire bytes of RFC 6455 frames, written here independently of
// both libraries under test so that neither one's encoder produces the other's input.
import { randomFillSync } from 'node:crypto';

/** Header size of a frame with `length` payload octets. */
export function headerSize(length, masked) {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

// Mask keys from a pool, refilled in batches (one randomFillSync per frame is slow to set up).
const keyPool = new Uint8Array(4096);
let keyAt = keyPool.length;
function nextKey() {
  if (keyAt === keyPool.length) {
    randomFillSync(keyPool);
    keyAt = 0;
  }
  keyAt += 4;
  return keyPool.slice(keyAt - 4, keyAt);
}

/**
 * Writes one frame (FIN set, no RSV) into `dst` at `off`, masking the payload with a
 * fresh random key when `masked`; returns the new offset.
 */
export function writeFrame(dst, off, opcode, payload, masked) {
  const n = payload.length;
  dst[off++] = 0x80 | opcode;
  const m = masked ? 0x80 : 0;
  if (n < 126) dst[off++] = m | n;
  else if (n < 0x10000) {
    dst[off++] = m | 126;
    dst[off++] = n >>> 8;
    dst[off++] = n & 0xff;
  } else {
    dst[off++] = m | 127;
    const hi = Math.floor(n / 2 ** 32);
    for (const v of [hi >>> 24, hi >>> 16, hi >>> 8, hi, n >>> 24, n >>> 16, n >>> 8, n]) dst[off++] = v & 0xff;
  }
  if (!masked) {
    dst.set(payload, off);
    return off + n;
  }
  const key = nextKey();
  // Avoid the all-zero key: ws skips unmasking for it, which would flatter ws.
  if ((key[0] | key[1] | key[2] | key[3]) === 0) key[0] = 1;
  dst.set(key, off);
  off += 4;
  for (let i = 0; i < n; i++) dst[off + i] = payload[i] ^ key[i & 3];
  return off + n;
}

/** `count` identical-payload frames back to back, as one Buffer. */
export function frameStream(count, opcode, payload, masked) {
  const size = headerSize(payload.length, masked) + payload.length;
  const out = Buffer.alloc(size * count);
  let off = 0;
  for (let i = 0; i < count; i++) off = writeFrame(out, off, opcode, payload, masked);
  return out;
}

/** Cuts `buf` into views of `size` octets (the last may be shorter), the way a socket hands data over. */
export function chunk(buf, size) {
  const out = [];
  for (let off = 0; off < buf.length; off += size) out.push(buf.subarray(off, Math.min(off + size, buf.length)));
  return out;
}

/**
 * Fresh, separately allocated copies of `chunks`, like new socket reads. Used because
 * ws unmasks in place (it would corrupt a reused chunk) and so that every
 * implementation reads memory in the same state.
 */
export function freshCopies(chunks) {
  const out = new Array(chunks.length);
  for (let i = 0; i < chunks.length; i++) {
    const c = Buffer.allocUnsafeSlow(chunks[i].length);
    c.set(chunks[i]);
    out[i] = c;
  }
  return out;
}

/** Deterministic-length payloads: random bytes for binary, ASCII for text. */
export function payloadFor(kind, size) {
  if (kind === 'text') {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789{}":, ';
    let s = '';
    for (let i = 0; i < size; i++) s += alphabet[(i * 7) % alphabet.length];
    return { text: s, bytes: Buffer.from(s) };
  }
  return { bytes: randomFillSync(Buffer.alloc(size)) };
}
