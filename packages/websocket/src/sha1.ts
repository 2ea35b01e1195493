/**
 * A synchronous SHA-1 (FIPS 180-4 §6.1) for the in-memory server's accept key
 * (RFC 6455 §4.2.2 item 5.4): with it the server side of an in-memory handshake runs on
 * promise jobs only, so concurrent handshakes complete in the order they were decided, as
 * a test expects, rather than in whatever order Web Crypto's thread pool returns digests.
 * Only for the accept key, a public value: not for anything secret.
 * @module
 */

const rotate = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/**
 * The SHA-1 digest of `data`.
 * @example
 * ```ts
 * sha1(new TextEncoder().encode('abc')); // a9 99 3e 36 47 06 81 6a ba 3e 25 71 78 50 c2 6c 9c d0 d8 9d
 * ```
 */
export function sha1(data: Uint8Array): Uint8Array {
  // Padding (§5.1.1): a 1 bit, zeros, then the length in bits as 64 bits, to a multiple of 64 bytes.
  const length = data.length;
  const padded = new Uint8Array((((length + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length << 3) >>> 0);
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Int32Array(80);
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(block + t * 4);
    for (let t = 16; t < 80; t++) w[t] = rotate(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) [f, k] = [(b & c) | (~b & d), 0x5a827999];
      else if (t < 40) [f, k] = [b ^ c ^ d, 0x6ed9eba1];
      else if (t < 60) [f, k] = [(b & c) | (b & d) | (c & d), 0x8f1bbcdc];
      else [f, k] = [b ^ c ^ d, 0xca62c1d6];
      const temp = (rotate(a, 5) + f + e + k + w[t]) | 0;
      e = d;
      d = c;
      c = rotate(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => outView.setInt32(i * 4, h));
  return out;
}
