// Shared helpers for the codec's conformance suite: hex vectors, a recording handler,
// and feeding bytes whole, split at every boundary, and byte by byte.
import { Opcode, type Role } from '../src/constants.ts';
import type { ProtocolError } from '../src/errors.ts';
import { makeFrame } from '../src/frame.ts';
import { serializeFrame } from '../src/frame_serializer.ts';
import type { MaskKeySource } from '../src/mask.ts';
import { WebSocketProtocol, type ProtocolOptions } from '../src/protocol.ts';

/** Parses "81 05 48 65" (spaces and newlines ignored) into bytes. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Formats bytes as space-separated lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A deterministic key source: always the same key (tests only). */
export function fixedKeys(key = 0x37fa213d): MaskKeySource {
  return { next: () => key };
}

/**
 * Bytes a peer in the *other* role would send for these frames: frames to a server
 * are masked (with a fixed key), frames to a client are not.
 */
export function wire(to: Role, ...frames: Array<[opcode: number, payload: Uint8Array | string, fin?: boolean, rsv?: number]>): Uint8Array {
  return concatBytes(
    ...frames.map(([opcode, payload, fin = true, rsv = 0]) => {
      const frame = makeFrame(opcode, typeof payload === 'string' ? utf8(payload) : payload, fin);
      frame.rsv1 = (rsv & 0x40) !== 0;
      frame.rsv2 = (rsv & 0x20) !== 0;
      frame.rsv3 = (rsv & 0x10) !== 0;
      return serializeFrame(frame, to === 'server' ? 0x1a2b3c4d : undefined);
    }),
  );
}

export type Event =
  | { type: 'text'; data: string }
  | { type: 'binary'; data: string }
  | { type: 'ping'; data: string }
  | { type: 'pong'; data: string }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; code: string; closeCode: number };

export interface Run {
  events: Event[];
  /** Everything the protocol wrote, as hex. */
  written: string;
  protocol: WebSocketProtocol;
}

/** Creates a protocol that records its events and writes. */
export function recorder(options: ProtocolOptions): Run & { writes: Uint8Array[] } {
  const events: Event[] = [];
  const writes: Uint8Array[] = [];
  const run = {
    events,
    writes,
    get written() {
      return toHex(concatBytes(...writes));
    },
    protocol: undefined as unknown as WebSocketProtocol,
  };
  run.protocol = new WebSocketProtocol(
    { maskKeys: fixedKeys(), ...options },
    {
      write: (b) => writes.push(b.slice()),
      onText: (data) => events.push({ type: 'text', data }),
      onBinary: (data) => events.push({ type: 'binary', data: toHex(data) }),
      onPing: (data) => events.push({ type: 'ping', data: toHex(data) }),
      onPong: (data) => events.push({ type: 'pong', data: toHex(data) }),
      onClose: (code, reason) => events.push({ type: 'close', code, reason }),
      onError: (e: ProtocolError) => events.push({ type: 'error', code: e.code, closeCode: e.closeCode }),
    },
  );
  return run;
}

/** Feeds `bytes` in the given chunks and returns what happened. */
export function feed(options: ProtocolOptions, chunks: Uint8Array[]): { events: Event[]; written: string; state: string } {
  const run = recorder(options);
  for (const c of chunks) run.protocol.receiveData(c);
  return { events: run.events, written: run.written, state: run.protocol.state };
}

/**
 * Every way to cut `bytes` once, plus byte by byte, plus whole. Past 512 bytes (where
 * every cut would make the suite quadratic) the cuts are every boundary in the first and
 * last 64 bytes, which hold the headers, and 64 spread over the middle.
 */
export function splits(bytes: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[bytes]];
  const n = bytes.length;
  const cuts: number[] = [];
  if (n <= 512) for (let i = 1; i < n; i++) cuts.push(i);
  else {
    for (let i = 1; i <= 64; i++) cuts.push(i, n - i);
    for (let k = 1; k < 64; k++) cuts.push(Math.floor((n * k) / 64));
  }
  for (const i of cuts) ways.push([bytes.subarray(0, i), bytes.subarray(i)]);
  if (bytes.length > 1) ways.push(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  return ways;
}

/**
 * Feeds `bytes` whole, split at every boundary, and byte by byte; asserts every way
 * gives the same result, and returns it.
 */
export function feedAllWays(options: ProtocolOptions, bytes: Uint8Array): { events: Event[]; written: string; state: string } {
  const whole = feed(options, [bytes]);
  const want = JSON.stringify(whole);
  for (const chunks of splits(bytes)) {
    const got = JSON.stringify(feed(options, chunks));
    if (got !== want) {
      throw new Error(`chunking [${chunks.map((c) => c.length).join(',')}] gave ${got}, whole gave ${want}`);
    }
  }
  return whole;
}

/** The hex of a Close frame a protocol in `from` role writes, with the fixed test key. */
export function closeFrameHex(from: Role, code?: number, reason = ''): string {
  const payload = code === undefined ? new Uint8Array(0) : concatBytes(new Uint8Array([code >> 8, code & 0xff]), utf8(reason));
  return toHex(serializeFrame(makeFrame(Opcode.Close, payload), from === 'client' ? 0x37fa213d : undefined));
}
