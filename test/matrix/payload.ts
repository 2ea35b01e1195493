/**
 * Payloads of the interop matrix, made from `(kind, size, seed)` the same way in every
 * runtime (test/matrix/drivers/python_driver.py has the Python twin), and checked by
 * CRC-32 (the zlib/IEEE polynomial) plus length, so that 16 MiB never crosses the JSON
 * driver protocol.
 *
 * - binary: a 4093-byte block (a prime, so frame or chunk boundaries never line up with
 *   it) from a 32-bit LCG seeded with `seed`, repeated and cut to `size`.
 * - text: exactly `size` UTF-8 bytes cycling through {@link TEXT_ALPHABET} (1- to 4-byte
 *   characters, so fragments and frame boundaries fall inside characters), rotated by
 *   `seed`, padded with `x` where the next character would not fit.
 *
 * Self-contained (no imports): it is also bundled into the browser driver.
 * @module
 */

/** The two kinds of data message. */
export type PayloadKind = 'text' | 'binary';

/** Length of the repeated binary block. */
export const BINARY_BLOCK = 4093;

/** Characters of 1, 2, 3 and 4 UTF-8 bytes: one cycle is 22 bytes. */
export const TEXT_ALPHABET = ['a', 'b', 'é', 'ж', '€', '中', '𝄞', '😀', 'z', ' '] as const;

/** The seeded block a binary payload repeats. */
export function binaryBlock(seed: number): Uint8Array {
  const block = new Uint8Array(BINARY_BLOCK);
  let state = (Math.imul(seed >>> 0, 2654435761) + 1) >>> 0;
  for (let i = 0; i < BINARY_BLOCK; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    block[i] = state >>> 24;
  }
  return block;
}

/** The binary payload of `size` bytes for `seed`. */
export function binaryPayload(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  if (size === 0) return out;
  const block = binaryBlock(seed);
  out.set(size < BINARY_BLOCK ? block.subarray(0, size) : block);
  // Double what is filled until full: log2(size / block) copies.
  for (let filled = Math.min(size, BINARY_BLOCK); filled < size; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, size - filled));
  }
  return out;
}

function utf8Length(char: string): number {
  const c = char.codePointAt(0)!;
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

/** The text payload of exactly `size` UTF-8 bytes for `seed`. */
export function textPayload(size: number, seed: number): string {
  const n = TEXT_ALPHABET.length;
  const cycle: string[] = [];
  for (let i = 0; i < n; i++) cycle.push(TEXT_ALPHABET[(seed + i) % n]);
  const cycleText = cycle.join('');
  const cycleBytes = cycle.reduce((sum, c) => sum + utf8Length(c), 0);
  const whole = Math.floor(size / cycleBytes);
  let used = whole * cycleBytes;
  let tail = '';
  for (const c of cycle) {
    const len = utf8Length(c);
    if (used + len > size) break;
    tail += c;
    used += len;
  }
  return cycleText.repeat(whole) + tail + 'x'.repeat(size - used);
}

/** The payload as sent: a string for text, bytes for binary. */
export function payload(kind: PayloadKind, size: number, seed: number): string | Uint8Array {
  return kind === 'text' ? textPayload(size, seed) : binaryPayload(size, seed);
}

let crcTable: Int32Array | null = null;

function table(): Int32Array {
  if (crcTable !== null) return crcTable;
  // Slicing-by-4 tables: 4 × 256 entries.
  const t = new Int32Array(1024);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    t[256 + i] = (t[i] >>> 8) ^ t[t[i] & 0xff];
    t[512 + i] = (t[256 + i] >>> 8) ^ t[t[256 + i] & 0xff];
    t[768 + i] = (t[512 + i] >>> 8) ^ t[t[512 + i] & 0xff];
  }
  crcTable = t;
  return t;
}

/**
 * CRC-32 (zlib's): `crc32(b)` of one buffer, or `crc32(next, crc32(previous))` to go on
 * over a stream (as Python's `zlib.crc32(data, value)`).
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = table();
  let c = ~previous;
  let i = 0;
  const n = bytes.length;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** What a received message is checked by: its kind, byte length and CRC-32. */
export interface Digest {
  kind: PayloadKind;
  size: number;
  crc: number;
}

const encoder = new TextEncoder();

/** The digest of a message as received (a text message is measured in UTF-8). */
export function digestOf(data: string | Uint8Array): Digest {
  if (typeof data === 'string') {
    const bytes = encoder.encode(data);
    return { kind: 'text', size: bytes.length, crc: crc32(bytes) };
  }
  return { kind: 'binary', size: data.length, crc: crc32(data) };
}

const expectedCache = new Map<string, Digest>();

/** The digest the payload `(kind, size, seed)` must arrive with (cached). */
export function expectedDigest(kind: PayloadKind, size: number, seed: number): Digest {
  const key = `${kind}:${size}:${seed}`;
  let digest = expectedCache.get(key);
  if (digest === undefined) {
    digest = digestOf(payload(kind, size, seed));
    if (digest.size !== size) throw new Error(`payload ${key} has ${digest.size} bytes`);
    expectedCache.set(key, digest);
  }
  return digest;
}

/**
 * Splits a payload into `count` fragments of about equal byte length. Text is split as
 * UTF-8 bytes, at byte offsets that may fall inside a character (peers that can send
 * raw text fragments do so); {@link splitText} keeps characters whole for those that cannot.
 */
export function splitBytes(bytes: Uint8Array, count: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  const step = Math.ceil(bytes.length / count);
  for (let at = 0; at < bytes.length || parts.length === 0; at += step) parts.push(bytes.subarray(at, Math.min(bytes.length, at + step)));
  return parts;
}

/** Splits text into `count` pieces of about equal length, never inside a character. */
export function splitText(text: string, count: number): string[] {
  const chars = Array.from(text);
  const step = Math.ceil(chars.length / count);
  const parts: string[] = [];
  for (let at = 0; at < chars.length || parts.length === 0; at += step) parts.push(chars.slice(at, at + step).join(''));
  return parts;
}
