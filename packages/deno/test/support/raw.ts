/**
 * A raw WebSocket peer for tests, written independently of the codec: frames are built and
 * read byte by byte here, so the shim is checked against bytes, not against itself.
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Opcodes (RFC 6455 §5.2). */
export const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** One frame as read off the wire. */
export interface RawFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Builds one frame; `mask` masks it with a fixed key (as a client must). */
export function frame(opcode: number, payload: Uint8Array | string, options: { fin?: boolean; mask?: boolean } = {}): Uint8Array {
  const data = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const { fin = true, mask = false } = options;
  const n = data.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + lengthBytes + (mask ? 4 : 0) + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(2, n);
  else if (lengthBytes === 8) view.setBigUint64(2, BigInt(n));
  let at = 2 + lengthBytes;
  if (mask) {
    const key = [0x12, 0x34, 0x56, 0x78];
    out.set(key, at);
    at += 4;
    for (let i = 0; i < n; i++) out[at + i] = data[i] ^ key[i & 3];
  } else out.set(data, at);
  return out;
}

/** A Close payload: the code, big-endian, then the UTF-8 reason. */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** Reads a Close payload back. */
export function parseClose(payload: Uint8Array): { code: number; reason: string } {
  return payload.length < 2 ? { code: 1005, reason: '' } : { code: (payload[0] << 8) | payload[1], reason: decoder.decode(payload.subarray(2)) };
}

/** Buffered reads off a conn: whole heads, whole frames, or the end. */
export class RawReader {
  readonly conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(conn: Deno.Conn, initial: Uint8Array = new Uint8Array(0)) {
    this.conn = conn;
    this.#buffer = initial;
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  /** The next HTTP head as text (through CRLF CRLF). */
  async head(): Promise<string> {
    for (let i = 0; i < 1000; i++) {
      const text = decoder.decode(this.#buffer);
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) {
        this.#buffer = this.#buffer.subarray(encoder.encode(text.slice(0, end + 4)).length);
        return text.slice(0, end + 4);
      }
      if (!(await this.#fill())) throw new Error('EOF before a complete head');
    }
    throw new Error('head too long');
  }

  /** Everything until the peer closes, as text. */
  async all(): Promise<string> {
    for (let i = 0; i < 100_000 && (await this.#fill()); i++);
    const text = decoder.decode(this.#buffer);
    this.#buffer = new Uint8Array(0);
    return text;
  }

  /** The next frame, or `null` at the end of the stream. */
  async frame(): Promise<RawFrame | null> {
    for (let i = 0; i < 1_000_000; i++) {
      const b = this.#buffer;
      if (b.length >= 2) {
        const masked = (b[1] & 0x80) !== 0;
        let length = b[1] & 0x7f;
        let at = 2;
        if (length === 126 && b.length >= 4) {
          length = (b[2] << 8) | b[3];
          at = 4;
        } else if (length === 127 && b.length >= 10) {
          length = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
          at = 10;
        } else if (length >= 126) length = -1;
        if (length >= 0 && b.length >= at + (masked ? 4 : 0) + length) {
          let payload: Uint8Array;
          if (masked) {
            const key = b.subarray(at, at + 4);
            payload = b.slice(at + 4, at + 4 + length);
            for (let j = 0; j < length; j++) payload[j] ^= key[j & 3];
            at += 4;
          } else payload = b.slice(at, at + length);
          this.#buffer = b.subarray(at + length);
          return { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, masked, payload };
        }
      }
      if (!(await this.#fill())) return null;
    }
    throw new Error('frame loop bound reached');
  }
}

/** Writes all bytes. */
export async function send(conn: Deno.Conn, bytes: Uint8Array | string): Promise<void> {
  const data = typeof bytes === 'string' ? encoder.encode(bytes) : bytes;
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** The upgrade request a client sends, with optional extra header lines. */
export function upgradeRequest(port: number, extra: string[] = [], path = '/'): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** Opens a raw client, sends an upgrade request and reads the response head. */
export async function rawClient(port: number, extra: string[] = [], path = '/'): Promise<{ conn: Deno.TcpConn; reader: RawReader; head: string }> {
  const conn = await Deno.connect({ hostname: '127.0.0.1', port });
  await send(conn, upgradeRequest(port, extra, path));
  const reader = new RawReader(conn);
  const head = await reader.head();
  return { conn, reader, head };
}

/** The accept value for the key {@link upgradeRequest} sends (RFC 6455 §1.3's example). */
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/**
 * A raw server: accepts one conn, reads the upgrade request, answers 101 for its key
 * (computed here with Web Crypto), and hands the conn to `script`.
 */
export function rawServer(script: (conn: Deno.Conn, reader: RawReader, request: string) => Promise<void>): { port: number; done: Promise<void>; close(): void } {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    listener.close();
    try {
      const reader = new RawReader(conn);
      const request = await reader.head();
      const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? '';
      const digest = await crypto.subtle.digest('SHA-1', encoder.encode(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`));
      const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
      await send(conn, `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      await script(conn, reader, request);
    } finally {
      try {
        conn.close();
      } catch {
        /* closed */
      }
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    done,
    close: () => {
      try {
        listener.close();
      } catch {
        /* closed */
      }
    },
  };
}

/** Waits until `condition()` holds, polling, at most `ms`. */
export async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Bytes `0, 1, 2, …` of length `n` (a pattern that shows misplaced octets). */
export function ramp(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

/** An ASCII string of exactly `n` characters (and UTF-8 octets). */
export function asciiOf(n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  while (s.length < n) s += alphabet;
  return s.slice(0, n);
}

/** A string mixing 1- to 4-octet UTF-8 characters, `count` code points long. */
export function unicodeOf(count: number): string {
  const alphabet = ['a', 'é', '€', '😀', 'ж', '字'];
  let s = '';
  for (let i = 0; i < count; i++) s += alphabet[i % alphabet.length];
  return s;
}
