// Test payloads of exact byte sizes, and a fast byte comparison for large ones.
const encoder = new TextEncoder();

/** Binary payload of `size` bytes with a position-dependent pattern (a shifted copy would not match). */
export function binaryOf(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A text of exactly `size` UTF-8 bytes, mixing two-byte characters with ASCII. */
export function textOf(size: number): string {
  const pairs = Math.floor(size / 4);
  const text = 'é'.repeat(pairs) + 'x'.repeat(size - 2 * pairs);
  if (encoder.encode(text).length !== size) throw new Error('textOf: wrong size');
  return text;
}

/** Whether two byte arrays hold the same bytes (with no per-byte assertion overhead). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const MiB = 1024 * 1024;
