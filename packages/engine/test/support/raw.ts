/**
 * Raw TCP for the behaviour suites, through `node:net`, which Node, Deno and Bun all have:
 * send bytes exactly as written and read the answer until the server ends the socket.
 * @module
 */
import { connect as netConnect, type Socket } from 'node:net';

/** Sends `request` and resolves with everything the server sent until it closed (at most `ms`). */
export function exchange(port: number, request: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const chunks: Uint8Array[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(new TextDecoder().decode(concat(chunks)));
    }, ms);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Uint8Array) => chunks.push(chunk));
    socket.on('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(new TextDecoder().decode(concat(chunks)));
    });
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The status code of a raw HTTP answer (0 when there was none). */
export function statusOf(answer: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
  return match === null ? 0 : Number(match[1]);
}

/** A WebSocket upgrade request head for `target`, with extra header lines. */
export function upgradeHead(target: string, host: string, extra: string[] = []): string {
  return [
    `GET ${target} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** Resolves once `check` holds, polling; rejects naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A raw TCP peer for the hardening suites: writes bytes exactly as given, reads a response
 * head, and tells when the server ends or closes the socket.
 */
export class RawPeer {
  readonly socket: Socket;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  /** Whether the server ended its side. */
  ended = false;
  /** Whether the socket has closed. */
  isClosed = false;
  #received: Uint8Array[] = [];
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('data', (chunk: Uint8Array) => {
      this.#received.push(chunk);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('end', () => {
      this.ended = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        for (const wake of this.#waiters.splice(0)) wake();
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:`port`. */
  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes bytes or text (as Latin-1, byte for byte). */
  write(data: string | Uint8Array): void {
    if (this.isClosed) return;
    this.socket.write(typeof data === 'string' ? Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff) : data);
  }

  /** The response head (up to the blank line), as text; rejects after `ms`. */
  async head(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = new TextDecoder().decode(concat(this.#received));
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) return text.slice(0, end + 4);
      if (this.isClosed) throw new Error(`the socket closed before a response head: ${JSON.stringify(text)}`);
      if (Date.now() > deadline) throw new Error('timed out waiting for a response head');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Closes the socket at once. */
  close(): void {
    this.socket.destroy();
  }
}
