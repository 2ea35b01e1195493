// Shared by the deflate-js tests: hex vectors, seeded random data, engine shorthands.
// Platform-neutral (the tests also run in Deno, Bun and Chromium).
import type { MessageDeflater, MessageInflater } from '@wsflow/codec';
import { jsDeflateEngine } from '../src/index.ts';

/** Bytes from hex text; spaces are ignored: `hex('f2 48')`. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex text of `bytes`, octets separated by spaces. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** mulberry32: seeded, so a failure replays the same bytes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(random: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
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

export interface Pair {
  deflater: MessageDeflater;
  inflater: MessageInflater;
}

/** A deflater and the inflater that reads it, as the two ends of one direction agree. */
export function pair(windowBits = 15, noContextTakeover = false, level = 6, memLevel = 8): Pair {
  return {
    deflater: jsDeflateEngine.createDeflater({ windowBits, noContextTakeover, level, memLevel }),
    inflater: jsDeflateEngine.createInflater({ windowBits, noContextTakeover }),
  };
}

export const inflater = (windowBits = 15, noContextTakeover = false): MessageInflater =>
  jsDeflateEngine.createInflater({ windowBits, noContextTakeover });

export const MiB = 1 << 20;
