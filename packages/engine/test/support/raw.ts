/**
 * Raw TCP for the behaviour suites, through `node:net`, which Node, Deno and Bun all have:
 * send bytes exactly as written and read the answer until the server ends the socket.
 * @module
 */
import { connect as netConnect, type Socket } from 'node:net';
import { FrameParser, Opcode, makeFrame, serializeFrame, type Frame } from '@wsflow/codec';

export { Opcode };

/** A client frame, masked with a random key. */
export function clientFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return serializeFrame(makeFrame(opcode, bytes, true), crypto.getRandomValues(new Uint32Array(1))[0]);
}

/** A Close payload: the code (big-endian), then the UTF-8 reason. */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

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
  /** Once the head was taken: the server's frames, parsed from what follows it. */
  #frames: Frame[] | null = null;
  #parser: FrameParser | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('data', (chunk: Uint8Array) => {
      if (this.#parser !== null) this.#parser.push(chunk);
      else this.#received.push(chunk);
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
      if (end >= 0) {
        // After a 101 the server speaks frames: parse them from here on.
        if (text.startsWith('HTTP/1.1 101 ')) this.#startFrames(concat(this.#received).subarray(new TextEncoder().encode(text.slice(0, end + 4)).length));
        return text.slice(0, end + 4);
      }
      if (this.isClosed) throw new Error(`the socket closed before a response head: ${JSON.stringify(text)}`);
      if (Date.now() > deadline) throw new Error('timed out waiting for a response head');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Opens `port`, sends an upgrade request and checks the 101. */
  static async upgraded(port: number): Promise<RawPeer> {
    const peer = await RawPeer.open(port);
    peer.write(upgradeHead('/', `127.0.0.1:${port}`));
    const head = await peer.head();
    if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`no 101: ${head}`);
    return peer;
  }

  /** The next frame from the server (after {@link head}); rejects after `ms` or when the socket closes first. */
  async nextFrame(ms = 5000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const frame = this.#frames?.shift();
      if (frame !== undefined) return frame;
      if (this.isClosed) throw new Error('the socket closed before another frame');
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  #startFrames(rest: Uint8Array): void {
    const frames: Frame[] = (this.#frames = []);
    this.#parser = new FrameParser(
      { role: 'client', maxPayload: 1 << 30 },
      {
        frameHeader() {},
        framePartial() {},
        frame: (fin, rsv, opcode, payload) => void frames.push({ ...makeFrame(opcode, payload.slice(), fin), rsv1: (rsv & 0x40) !== 0 }),
      },
    );
    this.#received = [];
    if (rest.length > 0) this.#parser.push(rest);
  }

  /** Closes the socket at once. */
  close(): void {
    this.socket.destroy();
  }

  /** Resets the connection (TCP RST) where the runtime can, else closes it at once. */
  reset(): void {
    const socket = this.socket as Socket & { resetAndDestroy?: () => void };
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  }
}
