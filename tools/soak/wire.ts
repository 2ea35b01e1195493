/**
 * The WebSocket wire as a raw-socket test client writes and reads it, independent of the
 * codec under test: the upgrade request and the 101 check (RFC 6455 §4.1, §4.2.2), masked
 * client frames (§5.2, §5.3), a parser of the server's unmasked frames, and CRC-32 for
 * checksummed payloads. Node only (`node:crypto`); used by the soak load generator, the
 * socket fuzzer and the hardening tests.
 * @module
 */
import { createHash } from 'node:crypto';

/** RFC 6455 §1.3: the GUID appended to the key. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

/** `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2 item 5.4). */
export function acceptOf(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** A 16-octet nonce, base64 (RFC 6455 §4.1 item 7), from the given bytes. */
export function keyOf(nonce: Uint8Array): string {
  return Buffer.from(nonce.buffer, nonce.byteOffset, 16).toString('base64');
}

/** A minimal valid opening handshake request (RFC 6455 §4.1). */
export function upgradeRequest(authority: string, path: string, key: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/** A parsed HTTP response head. */
export interface ResponseHead {
  status: number;
  /** Lower-cased field names; repeated fields joined with `, `. */
  headers: Map<string, string>;
  /** Octets of the head, the blank line included. */
  length: number;
}

/**
 * Parses an HTTP/1.1 response head from the start of `bytes`.
 * @returns null while the blank line has not arrived
 * @throws Error for a status line that is not HTTP/1.x
 */
export function parseResponseHead(bytes: Uint8Array): ResponseHead | null {
  const end = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('\r\n\r\n');
  if (end === -1) return null;
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
  if (match === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0].slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status: Number(match[1]), headers, length: end + 4 };
}

/** Options of {@link maskedFrame}. */
export interface FrameOptions {
  fin?: boolean;
  /** RSV1-3 as the 3 bits `0b123`. */
  rsv?: number;
  /** The 4-octet masking key (RFC 6455 §5.3). */
  maskKey: Uint8Array;
}

/**
 * A client frame: header with the shortest length encoding (RFC 6455 §5.2), MASK set and
 * the payload masked with `maskKey` (§5.3).
 */
export function maskedFrame(opcode: number, payload: Uint8Array, options: FrameOptions): Uint8Array {
  const { fin = true, rsv = 0, maskKey } = options;
  const n = payload.length;
  const lengthOctets = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + lengthOctets + 4 + n);
  out[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  if (lengthOctets === 0) out[1] = 0x80 | n;
  else if (lengthOctets === 2) {
    out[1] = 0x80 | 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  const at = 2 + lengthOctets;
  out.set(maskKey.subarray(0, 4), at);
  for (let i = 0; i < n; i++) out[at + 4 + i] = payload[i] ^ maskKey[i & 3];
  return out;
}

/** A frame the server sent. */
export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Uint8Array;
}

/** The payload of a Close frame: code and reason (RFC 6455 §5.5.1). */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = Buffer.from(reason, 'utf8');
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** The code of a Close frame's payload: 1005 when it has none (RFC 6455 §7.1.5). */
export function closeCodeOf(payload: Uint8Array): number {
  return payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
}

/**
 * Parses the frames a server sends, fed in chunks of any size. Server frames must not be
 * masked (RFC 6455 §5.1); a masked one, or a payload over `maxPayload`, throws.
 */
export class ServerFrameReader {
  #pending: Uint8Array = new Uint8Array(0);
  readonly #maxPayload: number;

  constructor(maxPayload = 64 * 1024 * 1024) {
    this.#maxPayload = maxPayload;
  }

  /** Bytes received but not yet a whole frame. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Feeds bytes; returns the frames they complete. */
  push(chunk: Uint8Array): ServerFrame[] {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: ServerFrame[] = [];
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      const b0 = buf[at];
      const b1 = buf[at + 1];
      if ((b1 & 0x80) !== 0) throw new Error('the server sent a masked frame');
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - at < 4) break;
        length = (buf[at + 2] << 8) | buf[at + 3];
        header = 4;
      } else if (length === 127) {
        if (buf.length - at < 10) break;
        const big = new DataView(buf.buffer, buf.byteOffset + at + 2, 8).getBigUint64(0);
        if (big > BigInt(this.#maxPayload)) throw new Error(`the server sent a ${big}-octet frame`);
        length = Number(big);
        header = 10;
      }
      if (length > this.#maxPayload) throw new Error(`the server sent a ${length}-octet frame`);
      if (buf.length - at < header + length) break;
      frames.push({
        fin: (b0 & 0x80) !== 0,
        rsv: (b0 >> 4) & 7,
        opcode: b0 & 0x0f,
        payload: buf.slice(at + header, at + header + length),
      });
      at += header + length;
    }
    this.#pending = at === buf.length ? new Uint8Array(0) : buf.slice(at);
    return frames;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib computes it) of `bytes[from, to)`. */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Reads a process's resident set size from `/proc/<pid>/status` (Linux), in bytes; null if it is gone. */
export async function rssOf(pid: number): Promise<number | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** Bytes as MiB with one decimal, for reports. */
export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
