/**
 * Valid client streams for the socket fuzzer, as structures that mutations can bend before
 * they become bytes: an opening handshake (RFC 6455 §4.1) as a list of header lines, and a
 * frame stream (§5.2) of masked text, binary, fragmented and control frames, usually
 * ending with a Close. A valid stream also says what a conforming echo server answers.
 * @module
 */
import { constants, deflateRawSync } from 'node:zlib';
import type { Prng } from './prng.ts';

/** Frame opcodes (RFC 6455 §5.2). */
export const Op = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

/** A frame as the fuzzer builds it; the `declared*` and `masked` fields let a mutation lie. */
export interface FuzzFrame {
  fin: boolean;
  /** RSV1-3 as 3 bits. */
  rsv: number;
  opcode: number;
  payload: Uint8Array;
  maskKey: Uint8Array;
  /** MASK bit set (client frames must be masked, RFC 6455 §5.1). Default true. */
  masked: boolean;
  /** The length written in the header when it differs from the payload's (a lie). */
  declaredLength?: bigint;
  /** Force the length encoding: 7-bit, 16-bit or 64-bit. Default: the shortest. */
  lengthForm?: 7 | 16 | 64;
}

/** An opening handshake request as lines (without CRLF), the request line first. */
export interface FuzzHandshake {
  lines: string[];
  key: string;
  /** Whether it offers permessage-deflate (always with `server_no_context_takeover`, so each answer inflates alone). */
  deflate: boolean;
}

/** RSV1: the message is compressed (RFC 7692 §6), in the 3-bit `rsv` field. */
export const RSV1 = 0b100;

/**
 * Offers of permessage-deflate (RFC 7692 §7). Each asks `server_no_context_takeover`, so
 * that the fuzzer can inflate every compressed answer on its own.
 */
export const DEFLATE_OFFERS = [
  'permessage-deflate; server_no_context_takeover',
  'permessage-deflate; server_no_context_takeover; client_max_window_bits',
  'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
];

/**
 * A message payload compressed as RFC 7692 §7.2.1 says: raw DEFLATE ending in a sync
 * flush, whose final empty block (`00 00 ff ff`) is then removed.
 */
export function compress(payload: Uint8Array): Uint8Array {
  const out = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** A message a conforming echo server sends back. */
export interface EchoedMessage {
  opcode: number;
  payload: Uint8Array;
}

/** A valid stream and what a conforming echo server answers to it. */
export interface ValidStream {
  handshake: FuzzHandshake;
  frames: FuzzFrame[];
  /** The data messages, in order, as they must come back. */
  echoes: EchoedMessage[];
  /** The Close code the stream ends with (1005 for a Close without a code), or null when it does not close. */
  closeCode: number | null;
  /** Pongs the server must answer with (one per Ping, same payload). */
  pongs: Uint8Array[];
}

const encoder = new TextEncoder();

/** Characters of 1 to 4 UTF-8 octets, so that fragments cut code points. */
const ALPHABET = ['a', 'Z', '0', ' ', '~', '\u00e9', '\u00df', '\u20ac', '\u4e2d', '\u{1f600}', '\u{10348}', '\n', '\t'];

/** A random string of about `n` characters. */
export function randomText(r: Prng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += r.chance(0.7) ? String.fromCharCode(0x20 + r.int(95)) : r.pick(ALPHABET);
  return s;
}

/** A payload size: mostly small, sometimes in the 16-bit and rarely in the 64-bit length range. */
function sizeOf(r: Prng): number {
  const roll = r.int(100);
  if (roll < 70) return r.int(126);
  if (roll < 97) return 126 + r.int(4000);
  return 65536 + r.int(4000);
}

function frame(r: Prng, opcode: number, payload: Uint8Array, fin = true): FuzzFrame {
  return { fin, rsv: 0, opcode, payload, maskKey: r.bytes(4), masked: true };
}

/** Cuts `bytes` into `parts` non-empty-or-empty pieces at random points (fragments may be empty). */
function cut(r: Prng, bytes: Uint8Array, parts: number): Uint8Array[] {
  const points = [0];
  for (let i = 1; i < parts; i++) points.push(r.int(bytes.length + 1));
  points.push(bytes.length);
  points.sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  for (let i = 0; i < parts; i++) out.push(bytes.subarray(points[i], points[i + 1]));
  return out;
}

/** A valid close code a client may send (RFC 6455 §7.4.1, §7.4.2). */
function validCloseCode(r: Prng): number {
  return r.pick([1000, 1000, 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]);
}

/** The payload of a Close frame. */
export function closeFramePayload(code: number, reason: string): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** A valid opening handshake, its optional headers and header order varied. */
export function validHandshake(r: Prng, authority: string): FuzzHandshake {
  const key = btoa(String.fromCharCode(...r.bytes(16)));
  const name = (n: string): string => (r.chance(0.2) ? (r.chance(0.5) ? n.toLowerCase() : n.toUpperCase()) : n);
  const headers = [
    `${name('Host')}: ${authority}`,
    `${name('Upgrade')}: ${r.pick(['websocket', 'WebSocket', 'websocket'])}`,
    `${name('Connection')}: ${r.pick(['Upgrade', 'upgrade', 'keep-alive, Upgrade'])}`,
    `${name('Sec-WebSocket-Key')}: ${key}`,
    `${name('Sec-WebSocket-Version')}: 13`,
  ];
  if (r.chance(0.3)) headers.push(`Origin: http://${authority}`);
  if (r.chance(0.3)) headers.push(`User-Agent: wsflow-fuzz/${r.int(100)}`);
  if (r.chance(0.2)) headers.push(`Sec-WebSocket-Protocol: ${r.pick(['chat', 'chat, superchat', 'v1.proto'])}`);
  const deflate = r.chance(0.3);
  if (deflate) headers.push(`${name('Sec-WebSocket-Extensions')}: ${r.pick(DEFLATE_OFFERS)}`);
  else if (r.chance(0.1)) headers.push('Sec-WebSocket-Extensions: x-unknown-extension');
  if (r.chance(0.1)) headers.push(`Cookie: session=${r.int(1e9)}`);
  const path = r.pick(['/', '/', '/echo', '/chat?room=1', '/a/b/c', '/?q=%20']);
  return { lines: [`GET ${path} HTTP/1.1`, ...r.shuffle(headers)], key, deflate };
}

/**
 * A valid frame stream: 0 to 5 messages, some fragmented with control frames between, some
 * compressed when the handshake offers permessage-deflate, usually a Close.
 */
export function validStream(r: Prng, authority: string): ValidStream {
  const handshake = validHandshake(r, authority);
  const frames: FuzzFrame[] = [];
  const echoes: EchoedMessage[] = [];
  const pongs: Uint8Array[] = [];
  const ping = (): void => {
    const payload = r.bytes(r.int(126));
    pongs.push(payload);
    frames.push(frame(r, Op.Ping, payload));
  };
  for (let m = r.int(6); m > 0; m--) {
    const text = r.chance(0.5);
    const payload = text ? encoder.encode(randomText(r, sizeOf(r))) : r.bytes(sizeOf(r));
    const opcode = text ? Op.Text : Op.Binary;
    echoes.push({ opcode, payload });
    // Compressed (RSV1 on the first frame only, RFC 7692 §6.1) when offered, most of the time.
    const compressed = handshake.deflate && r.chance(0.6);
    const wire = compressed ? compress(payload) : payload;
    const parts = r.chance(0.3) ? r.range(2, 5) : 1;
    cut(r, wire, parts).forEach((piece, i) => {
      const f = frame(r, i === 0 ? opcode : Op.Continuation, piece, i === parts - 1);
      if (compressed && i === 0) f.rsv = RSV1;
      frames.push(f);
      if (i < parts - 1 && r.chance(0.3)) ping();
    });
    if (r.chance(0.15)) ping();
    // An unsolicited Pong is allowed (RFC 6455 §5.5.3) and needs no answer.
    if (r.chance(0.05)) frames.push(frame(r, Op.Pong, r.bytes(r.int(10))));
  }
  let closeCode: number | null = null;
  if (r.chance(0.85)) {
    if (r.chance(0.1)) {
      closeCode = 1005;
      frames.push(frame(r, Op.Close, new Uint8Array(0)));
    } else {
      closeCode = validCloseCode(r);
      frames.push(frame(r, Op.Close, closeFramePayload(closeCode, randomText(r, r.int(20)).slice(0, 20))));
    }
  }
  return { handshake, frames, echoes, closeCode, pongs };
}

/** The header octets of a frame as declared (RFC 6455 §5.2), lies included. */
function headerOf(f: FuzzFrame): Uint8Array {
  const length = f.declaredLength ?? BigInt(f.payload.length);
  const form = f.lengthForm ?? (length < 126n ? 7 : length < 65536n ? 16 : 64);
  const out = new Uint8Array(2 + (form === 7 ? 0 : form === 16 ? 2 : 8) + (f.masked ? 4 : 0));
  out[0] = (f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f);
  const mask = f.masked ? 0x80 : 0;
  if (form === 7) out[1] = mask | Number(length & 0x7fn);
  else if (form === 16) {
    out[1] = mask | 126;
    out[2] = Number((length >> 8n) & 0xffn);
    out[3] = Number(length & 0xffn);
  } else {
    out[1] = mask | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt.asUintN(64, length));
  }
  if (f.masked) out.set(f.maskKey, out.length - 4);
  return out;
}

/** A frame's octets: header, then the payload, masked when the MASK bit is set. */
export function serializeFrame(f: FuzzFrame): Uint8Array {
  const header = headerOf(f);
  const out = new Uint8Array(header.length + f.payload.length);
  out.set(header);
  for (let i = 0; i < f.payload.length; i++) out[header.length + i] = f.masked ? f.payload[i] ^ f.maskKey[i & 3] : f.payload[i];
  return out;
}

/** Joins byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The handshake's octets: its lines with CRLF, then the empty line. */
export function serializeHandshake(h: FuzzHandshake): Uint8Array {
  return encoder.encode(`${h.lines.join('\r\n')}\r\n\r\n`);
}
