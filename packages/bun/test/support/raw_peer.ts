// A raw TCP peer on Bun.connect (not the shim's transport), to send exactly the bytes a test
// wants — handshakes, fragmented or broken frames — and read the server's frames back.
import { FrameParser, makeFrame, Opcode, serializeFrame, type Frame, type FrameSink } from '@wsflow/codec';
import { Bun } from './bun_test_api.ts';
import type { BunSocket } from '../../src/bun_types.ts';
import { within } from './wait.ts';

export { Opcode };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A client frame, masked with a random key (unmasked with `mask: false`). */
export function clientFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0), options: { fin?: boolean; mask?: boolean } = {}): Uint8Array {
  const bytes = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const frame = makeFrame(opcode, bytes, options.fin ?? true);
  return serializeFrame(frame, options.mask === false ? undefined : crypto.getRandomValues(new Uint32Array(1))[0]);
}

/** A Close payload: code (big-endian) and UTF-8 reason. */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** A GET upgrade request head. `null` removes a default field. */
export function upgradeRequest(path: string, host: string, fields: Record<string, string | null> = {}): string {
  const defaults: Record<string, string | null> = {
    Host: host,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
  };
  const merged = { ...defaults, ...fields };
  const lines = Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== null).map(([name, value]) => `${name}: ${value}\r\n`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

interface PeerState {
  peer: RawPeer;
}

export class RawPeer {
  socket!: BunSocket<PeerState>;
  /** Every byte received, before frames are parsed out of it. */
  bytesReceived = 0;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #buffer = new Uint8Array(0);
  #framing = false;
  #frames: Frame[] = [];
  #parser: FrameParser;
  #wake: (() => void) | null = null;
  #queue: Uint8Array[] = [];
  #isClosed = false;
  #ended = false;

  private constructor() {
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const frames = this.#frames;
    const sink: FrameSink = {
      frameHeader() {},
      framePartial() {},
      frame(fin, rsv, opcode, payload) {
        frames.push({ fin, rsv1: (rsv & 0x40) !== 0, rsv2: (rsv & 0x20) !== 0, rsv3: (rsv & 0x10) !== 0, opcode, payload: payload.slice() });
      },
    };
    this.#parser = new FrameParser({ role: 'client', maxPayload: 1 << 30 }, sink);
  }

  static async open(port: number, options: { paused?: boolean } = {}): Promise<RawPeer> {
    const peer = new RawPeer();
    peer.socket = await Bun.connect<PeerState>({
      hostname: '127.0.0.1',
      port,
      allowHalfOpen: true,
      data: { peer },
      socket: {
        binaryType: 'uint8array',
        open: (socket) => {
          if (options.paused) socket.pause();
        },
        data: (_socket, chunk) => peer.#receive(chunk),
        drain: () => peer.#flush(),
        end: () => {
          peer.#ended = true;
          peer.#wake?.();
        },
        close: () => {
          peer.#isClosed = true;
          peer.#resolveClosed();
          peer.#wake?.();
        },
        error: () => {},
      },
    });
    return peer;
  }

  /** Bytes written but not yet taken by the socket (the server does not read). */
  get queuedBytes(): number {
    return this.#queue.reduce((n, chunk) => n + chunk.length, 0);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Whether the server sent FIN. */
  get ended(): boolean {
    return this.#ended;
  }

  write(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (this.#queue.length > 0) {
      this.#queue.push(bytes);
      return;
    }
    const written = this.socket.write(bytes);
    if (written >= 0 && written < bytes.length) this.#queue.push(bytes.subarray(written));
  }

  #flush(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      const written = this.socket.write(head);
      if (written < 0) return;
      if (written < head.length) {
        this.#queue[0] = head.subarray(written);
        return;
      }
      this.#queue.shift();
    }
  }

  #receive(chunk: Uint8Array): void {
    this.bytesReceived += chunk.length;
    if (!this.#framing) {
      const joined = new Uint8Array(this.#buffer.length + chunk.length);
      joined.set(this.#buffer);
      joined.set(chunk, this.#buffer.length);
      this.#buffer = joined;
    } else this.#parser.push(chunk);
    this.#wake?.();
  }

  async #waitFor<T>(take: () => T | undefined, ms: number, what: string): Promise<T> {
    return within(
      (async () => {
        for (;;) {
          const value = take();
          if (value !== undefined) return value;
          if (this.#isClosed) throw new Error(`the connection closed while waiting for ${what}`);
          await new Promise<void>((resolve) => (this.#wake = resolve));
        }
      })(),
      ms,
      what,
    );
  }

  /** The next HTTP head as text (through CRLF CRLF); the bytes after it are parsed as frames. */
  head(ms = 3000): Promise<string> {
    return this.#waitFor(
      () => {
        const text = decoder.decode(this.#buffer);
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return undefined;
        const headBytes = encoder.encode(text.slice(0, end + 4)).length;
        const rest = this.#buffer.subarray(headBytes);
        this.#buffer = rest.slice();
        if (text.startsWith('HTTP/1.1 101 ')) {
          // Frames follow a 101; after any other status the rest is its body.
          this.#framing = true;
          this.#buffer = new Uint8Array(0);
          if (rest.length > 0) this.#parser.push(rest.slice());
        }
        return text.slice(0, end + 4);
      },
      ms,
      'a response head',
    );
  }

  /** The bytes received after a non-101 head (its body), or everything before the head, as text. */
  text(): string {
    return decoder.decode(this.#buffer);
  }

  nextFrame(ms = 3000): Promise<Frame> {
    return this.#waitFor(() => this.#frames.shift(), ms, 'a frame');
  }

  /** Sends an upgrade request and waits for the 101. */
  async upgrade(port: number, path = '/', fields: Record<string, string | null> = {}): Promise<string> {
    this.write(upgradeRequest(path, `127.0.0.1:${port}`, fields));
    const head = await this.head();
    if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`expected 101, got ${head.split('\r\n')[0]}`);
    return head;
  }

  static async upgraded(port: number, path = '/', fields: Record<string, string | null> = {}): Promise<RawPeer> {
    const peer = await RawPeer.open(port);
    await peer.upgrade(port, path, fields);
    return peer;
  }

  close(): void {
    this.socket.terminate();
  }
}
