// Shared helpers for the codec's conformance suite: hex vectors, a recording handler,
// and feeding bytes whole, split at every boundary, and byte by byte.
import { Opcode, type Role } from '../src/constants.ts';
import type { ProtocolError } from '../src/errors.ts';
import { makeFrame } from '../src/frame.ts';
import { FrameParser } from '../src/frame_parser.ts';
import { serializeFrame } from '../src/frame_serializer.ts';
import { maskInto, type MaskKeySource } from '../src/mask.ts';
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
  return concatList(parts);
}

/** {@link concatBytes} for a list too long to spread into arguments. */
export function concatList(parts: readonly Uint8Array[]): Uint8Array {
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

/** A frame decoded from bytes a protocol wrote (payload unmasked). */
export interface WrittenFrame {
  fin: boolean;
  /** The RSV bits as they sit in the first octet (`0x70` mask). */
  rsv: number;
  opcode: number;
  payload: Uint8Array;
}

/**
 * Decodes bytes that a protocol in role `from` wrote, with a {@link FrameParser} of the
 * opposite role: frames a client wrote must be masked, frames a server wrote must not be,
 * so decoding also checks the masking rule. Throws if the bytes are not whole, valid frames.
 */
export function decodeWritten(from: Role, bytes: Uint8Array): WrittenFrame[] {
  const frames: WrittenFrame[] = [];
  const parser = new FrameParser(
    // RSV bits are reported, not judged: tests check what was written (RSV1 under permessage-deflate).
    { role: from === 'client' ? 'server' : 'client', maxPayload: Infinity, allowedRsv: 0x70 },
    {
      frameHeader() {},
      framePartial() {},
      frame: (fin, rsv, opcode, payload) => void frames.push({ fin, rsv, opcode, payload: payload.slice() }),
    },
  );
  parser.push(bytes);
  if (!parser.atFrameBoundary) throw new Error(`written bytes end inside a frame: ${toHex(bytes.subarray(0, 64))}...`);
  return frames;
}

/**
 * The frames a protocol in role `from` wrote, from a {@link recorder} run (its `writes`)
 * or a {@link feed}/{@link feedAllWays} result (its `written` hex). In the client role
 * the writes are masked; this unmasks them, so tests can read e.g. the close code sent.
 */
export function framesWritten(from: Role, run: { writes: Uint8Array[] } | { written: string }): WrittenFrame[] {
  const bytes = 'writes' in run ? concatBytes(...run.writes) : hex(run.written);
  return decodeWritten(from, bytes);
}

/**
 * The Close frame a protocol in role `from` wrote, as `{ code, reason }` (code 1005 for an
 * empty payload), or null if it wrote none. Throws if it wrote more than one, or a frame after it.
 */
export function closeWritten(from: Role, run: { writes: Uint8Array[] } | { written: string }): { code: number; reason: string } | null {
  const frames = framesWritten(from, run);
  const at = frames.findIndex((f) => f.opcode === Opcode.Close);
  if (at === -1) return null;
  if (at !== frames.length - 1) throw new Error(`frames written after the Close: ${frames.slice(at + 1).map((f) => f.opcode).join(',')}`);
  const { payload } = frames[at];
  if (payload.length === 0) return { code: 1005, reason: '' };
  return { code: (payload[0] << 8) | payload[1], reason: new TextDecoder().decode(payload.subarray(2)) };
}

/** The key {@link peerBytes} and {@link wire} mask frames to a server with. */
export const PEER_KEY = 0x1a2b3c4d;

/**
 * Bytes a peer would send to `to`, from the hex of the *unmasked* frames (which may be
 * invalid or truncated, unlike {@link wire}): to a client they are sent as written; to a
 * server each frame gets the mask bit and the key `1a 2b 3c 4d`, and its payload is masked.
 * A header cut short only gets the mask bit; a payload cut short is masked as far as it goes.
 */
export function peerBytes(to: Role, unmasked: string | Uint8Array): Uint8Array {
  const src = typeof unmasked === 'string' ? hex(unmasked) : unmasked;
  if (to === 'client') return src;
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < src.length) {
    if (src.length - p < 2) {
      out.push(src.subarray(p));
      break;
    }
    const len7 = src[p + 1] & 0x7f;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headEnd = p + 2 + ext;
    const head = src.slice(p, Math.min(headEnd, src.length));
    head[1] |= 0x80;
    if (headEnd > src.length) {
      out.push(head);
      break;
    }
    let length = len7;
    if (ext === 2) length = (src[p + 2] << 8) | src[p + 3];
    else if (ext === 8) {
      length = 0;
      for (let i = 0; i < 8; i++) length = length * 256 + src[p + 2 + i];
    }
    const payload = src.subarray(headEnd, Math.min(headEnd + length, src.length));
    const masked = new Uint8Array(payload.length);
    maskInto(payload, masked, 0, PEER_KEY, 0);
    out.push(head, new Uint8Array([PEER_KEY >>> 24, (PEER_KEY >>> 16) & 0xff, (PEER_KEY >>> 8) & 0xff, PEER_KEY & 0xff]), masked);
    p = headEnd + payload.length;
  }
  return concatList(out);
}

/** A {@link FrameParser} that records what it reports: headers, partial payload pieces and frames. */
export function collectingParser(
  role: Role,
  options: { maxPayload?: number; allowedRsv?: number; mutableInput?: boolean; partials?: boolean } = {},
): {
  parser: FrameParser;
  headers: Array<{ fin: boolean; rsv: number; opcode: number; length: number }>;
  /** Payload octets reported through `framePartial` so far. */
  partial: number[];
  frames: WrittenFrame[];
} {
  const headers: Array<{ fin: boolean; rsv: number; opcode: number; length: number }> = [];
  const partial: number[] = [];
  const frames: WrittenFrame[] = [];
  const parser = new FrameParser(
    { role, maxPayload: options.maxPayload ?? Infinity, allowedRsv: options.allowedRsv, mutableInput: options.mutableInput },
    {
      // Asks for split payloads piece by piece (as the protocol does for text) unless `partials: false`.
      frameHeader: (fin, rsv, opcode, length) => {
        headers.push({ fin, rsv, opcode, length });
        return options.partials ?? true;
      },
      framePartial: (piece) => void partial.push(piece.length),
      frame: (fin, rsv, opcode, payload) => void frames.push({ fin, rsv, opcode, payload: payload.slice() }),
    },
  );
  return { parser, headers, partial, frames };
}

/** A small seeded PRNG (mulberry32): deterministic random tests without `Math.random`. */
export function rng(seed: number): { next(): number; int(n: number): number; bytes(n: number): Uint8Array } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
  };
}

/** Cuts `bytes` into chunks at `cuts` (ascending offsets). */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of cuts) {
    out.push(bytes.subarray(at, c));
    at = c;
  }
  out.push(bytes.subarray(at));
  return out;
}

/** A run's result in one value for assertions: its events, the Close it wrote (decoded, or null), its state. */
export function outcome(
  role: Role,
  r: { events: Event[]; written: string; state: string },
): { events: Event[]; close: { code: number; reason: string } | null; state: string } {
  return { events: r.events, close: closeWritten(role, r), state: r.state };
}

export const ROLES: readonly Role[] = ['client', 'server'];
