/** Test messages: deterministic, varied, and shaped like what WebSocket applications send. */

const enc = new TextEncoder();

/** xorshift32: the same octets on every runtime and every run. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** `length` octets of noise: incompressible, so the compressor must emit stored or literal-heavy blocks. */
export function noise(length: number, seed: number): Uint8Array {
  const rnd = prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

/** A JSON update of about `size` octets: recurring keys, enum-like values, varying numbers. */
export function jsonMessage(seq: number, size: number, seed = seq): Uint8Array {
  const rnd = prng(seed * 2654435761);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  let s = `{"type":"update","seq":${seq},"items":[`;
  while (s.length < size) {
    s += `${JSON.stringify({ id: Math.floor(rnd() * 1e6), user: `${pick(words)}_${Math.floor(rnd() * 100)}`, status: pick(['open', 'filled', 'cancelled']), price: Math.round(rnd() * 1e5) / 100 })},`;
  }
  return enc.encode(s.slice(0, size));
}

/**
 * A conversation of `count` messages mixing what compresses well and what does not: JSON
 * of many sizes, an empty message, repeats of earlier messages (context takeover pays),
 * noise, a long run of one octet, and now and then a message longer than any window.
 */
export function conversation(count: number, seed = 1): Uint8Array[] {
  const rnd = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 10;
    if (kind === 3) out.push(new Uint8Array(0));
    else if (kind === 5 && i > 0) out.push(out[Math.floor(rnd() * out.length)]);
    else if (kind === 7) out.push(noise(1 + Math.floor(rnd() * 3000), seed + i));
    else if (kind === 9) out.push(new Uint8Array(1 + Math.floor(rnd() * 5000)).fill(0x61 + (i % 26)));
    else if (i % 37 === 11) out.push(jsonMessage(i, 40_000 + Math.floor(rnd() * 30_000)));
    else out.push(jsonMessage(i, 1 + Math.floor(rnd() * 2500)));
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => enc.encode(s);

/** `f2 48 cd` → octets. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Octets → `f2 48 cd`. */
export function toHex(u: Uint8Array): string {
  return Array.from(u, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Whether two octet strings are equal (a plain loop: cheaper than deep equality on long ones). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
