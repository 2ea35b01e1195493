// Raw-socket peers for what a well-behaved library will not do: bytes in the same packet as
// the handshake, ignoring Pings, stalling a handshake, answering with a wrong head.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { acceptKey, generateKey, makeFrame, Opcode, serializeFrame } from '@wsflow/codec';

export { Opcode };

/** A masked frame, as a client sends it. */
export function clientFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return serializeFrame(makeFrame(opcode, bytes), 0x1234abcd);
}

/** An unmasked frame, as a server sends it. */
export function serverFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return serializeFrame(makeFrame(opcode, bytes));
}

export function closePayload(code: number, reason = ''): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** The request head of a valid upgrade, with overrides (a null value drops the field). */
export function upgradeRequest(path: string, host: string, fields: Record<string, string | null> = {}): string {
  const base: Record<string, string | null> = {
    Host: host,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': generateKey(),
    'Sec-WebSocket-Version': '13',
    ...fields,
  };
  const lines = Object.entries(base)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `GET ${path} HTTP/1.1\r\n${lines}\r\n`;
}

/** Collects everything a socket receives; resolves heads and waits for closing. */
export class RawClient {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  #listeners: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const listener of this.#listeners.splice(0)) listener();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Waits until `predicate(received)` holds. */
  async until(predicate: (received: Buffer) => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`raw client: condition not met within ${ms} ms; got ${JSON.stringify(this.received.toString('latin1').slice(0, 300))}`);
      await Promise.race([
        new Promise<void>((resolve) => this.#listeners.push(resolve)),
        this.closed,
        new Promise((resolve) => setTimeout(resolve, 50)),
      ]);
    }
  }

  /** The response head, once complete. */
  async head(): Promise<string> {
    await this.until((b) => b.includes('\r\n\r\n'));
    return this.received.subarray(0, this.received.indexOf('\r\n\r\n') + 4).toString('latin1');
  }

  /** Bytes after the response head. */
  afterHead(): Buffer {
    return this.received.subarray(this.received.indexOf('\r\n\r\n') + 4);
  }
}

/**
 * A raw TCP server; `onRequest` gets each socket with its request head once complete (and
 * the bytes after it), to answer however the test wants.
 */
export async function rawServer(onRequest: (socket: Socket, head: string, key: string | undefined) => void): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = buffered.subarray(0, end + 4).toString('latin1');
      const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head)?.[1];
      onRequest(socket, head, key);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A valid 101 answer to a key. */
export async function switchingProtocols(key: string, extra = ''): Promise<string> {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${await acceptKey(key)}\r\n${extra}\r\n`;
}
