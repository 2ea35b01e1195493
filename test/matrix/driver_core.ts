/**
 * The client side of the driver protocol (protocol.ts) for every JavaScript client: it
 * runs the commands against a {@link ClientAdapter}, which wraps one client API (wsflow's
 * `connect` on a runtime, the WHATWG `WebSocket` of Deno, Bun or Chromium, the `ws`
 * package). Received messages are digested on arrival and only the digests are queued.
 *
 * Imports nothing runtime-specific: it runs in Node, Deno, Bun and (bundled) in Chromium.
 * @module
 */
import { crc32, digestOf, payload, splitBytes, splitText, type Digest, type PayloadKind } from './payload.ts';
import type { ClientCommand, ClosedInfo } from './protocol.ts';

/** Options of {@link ClientAdapter.open}. */
export interface OpenOptions {
  protocols: string[];
  origin?: string;
  ca?: string;
  /** Read nothing until `resume()`. Only asked of adapters that can pause. */
  paused: boolean;
  /** Where the connection's messages and Pongs go, from the first one on. */
  events: PeerEvents;
}

/** Callbacks of one connection. */
export interface PeerEvents {
  message(data: string | Uint8Array): void;
  pong(payload: string): void;
}

/** One open connection of a client API, reduced to what the behaviours need. */
export interface Peer {
  readonly protocol: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Settles once closed; never rejects. */
  readonly closed: Promise<ClosedInfo>;
  abort(): void;
  /** Sends one message as several frames; parts of text may split characters when `rawText`. Absent: cannot. */
  sendFragments?(kind: PayloadKind, parts: Array<string | Uint8Array>): void;
  /** Sends a Ping. Absent: the API has none. */
  ping?(payload: string): void;
  /** Stops / restarts reading from the socket. Absent: the API cannot. */
  pause?(): void;
  resume?(): void;
}

/** A client API. */
export interface ClientAdapter {
  /** Opens a connection; rejects on a refused or failed handshake (with `status` when known). */
  open(url: string, options: OpenOptions): Promise<Peer>;
  /** Whether `sendFragments` may split text inside a character (raw UTF-8 byte fragments). */
  readonly rawTextFragments?: boolean;
}

/** A refused handshake, with the HTTP status when the API tells it. */
export class HandshakeRefused extends Error {
  /** The HTTP status, when the client API tells it. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

interface Connection {
  peer: Peer;
  queue: Digest[];
  waiters: Array<() => void>;
  pongs: string[];
  pongWaiters: Array<() => void>;
  closed: ClosedInfo | null;
  /** Stream mode (opened `paused`): binary messages are tallied with a running CRC instead of queued. */
  tally: { messages: number; bytes: number; crc: number; error: string | null } | null;
}

function withTimeout<T>(what: string | (() => string), ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs driver commands against one adapter. */
export class DriverCore {
  readonly #adapter: ClientAdapter;
  readonly #connections = new Map<number, Connection>();
  #next = 1;

  constructor(adapter: ClientAdapter) {
    this.#adapter = adapter;
  }

  #conn(n: number): Connection {
    const c = this.#connections.get(n);
    if (c === undefined) throw new Error(`no connection ${n}`);
    return c;
  }

  /** Runs one command; resolves with the answer's fields, rejects with the failure. */
  async handle(command: ClientCommand): Promise<Record<string, unknown>> {
    switch (command.op) {
      case 'connect': {
        const paused = command.paused === true;
        const c: Connection = { peer: null!, queue: [], waiters: [], pongs: [], pongWaiters: [], closed: null, tally: paused ? { messages: 0, bytes: 0, crc: 0, error: null } : null };
        const wake = (list: Array<() => void>): void => {
          for (const w of list.splice(0)) w();
        };
        const events: PeerEvents = {
          message: (data) => {
            const tally = c.tally;
            if (tally === null) c.queue.push(digestOf(data));
            else if (typeof data === 'string') tally.error ??= `stream mode: message ${tally.messages + 1} is text`;
            else {
              tally.messages++;
              tally.bytes += data.length;
              tally.crc = crc32(data, tally.crc);
            }
            wake(c.waiters);
          },
          pong: (p) => {
            c.pongs.push(p);
            wake(c.pongWaiters);
          },
        };
        const opening = this.#adapter.open(command.url, { protocols: command.protocols ?? [], origin: command.origin, ca: command.ca, paused, events });
        const peer = await withTimeout('the opening handshake', command.timeoutMs ?? 10_000, opening);
        c.peer = peer;
        const n = this.#next++;
        this.#connections.set(n, c);
        void peer.closed.then((info) => {
          c.closed = info;
          wake(c.waiters);
          wake(c.pongWaiters);
        });
        return { conn: n, protocol: peer.protocol };
      }
      case 'send': {
        const { peer } = this.#conn(command.conn);
        const data = payload(command.kind, command.size, command.seed);
        if (command.fragments === undefined) {
          peer.send(data);
          return {};
        }
        if (peer.sendFragments === undefined) throw new Error('unsupported: this client cannot send a fragmented message');
        const parts =
          typeof data !== 'string'
            ? splitBytes(data, command.fragments)
            : this.#adapter.rawTextFragments === true
              ? splitBytes(new TextEncoder().encode(data), command.fragments)
              : splitText(data, command.fragments);
        peer.sendFragments(command.kind, parts);
        return {};
      }
      case 'recv': {
        const c = this.#conn(command.conn);
        const next = await withTimeout('a message', command.timeoutMs, this.#nextMessage(c));
        return { ...next };
      }
      case 'drain': {
        const c = this.#conn(command.conn);
        if (c.tally === null) throw new Error('drain: the connection was not opened paused (stream mode)');
        const tally = c.tally;
        await withTimeout(() => `${command.bytes} bytes (got ${tally.bytes} so far)`, command.timeoutMs, this.#until(c, () => tally.bytes >= command.bytes || tally.error !== null));
        if (tally.error !== null) throw new Error(tally.error);
        return { messages: tally.messages, bytes: tally.bytes, crc: tally.crc };
      }
      case 'ping': {
        const c = this.#conn(command.conn);
        if (c.peer.ping === undefined) throw new Error('unsupported: this client cannot send a Ping');
        c.peer.ping(command.payload);
        const got = await withTimeout('a Pong', command.timeoutMs, this.#nextPong(c));
        return { payload: got };
      }
      case 'close': {
        this.#conn(command.conn).peer.close(command.code, command.reason);
        return {};
      }
      case 'closed': {
        const c = this.#conn(command.conn);
        const info = await withTimeout('the connection to close', command.timeoutMs, c.peer.closed);
        this.#connections.delete(command.conn);
        return { ...info };
      }
      case 'pause': {
        const { peer } = this.#conn(command.conn);
        if (peer.pause === undefined) throw new Error('unsupported: this client cannot stop reading');
        peer.pause();
        return {};
      }
      case 'resume': {
        const { peer } = this.#conn(command.conn);
        if (peer.resume === undefined) throw new Error('unsupported: this client cannot stop reading');
        peer.resume();
        return {};
      }
      case 'abort': {
        const c = this.#connections.get(command.conn);
        this.#connections.delete(command.conn);
        c?.peer.abort();
        return {};
      }
      case 'exit': {
        for (const c of this.#connections.values()) c.peer.abort();
        this.#connections.clear();
        return {};
      }
    }
  }

  async #nextMessage(c: Connection): Promise<Digest> {
    for (;;) {
      const d = c.queue.shift();
      if (d !== undefined) return d;
      if (c.closed !== null) throw new Error(`the connection closed (${c.closed.code} ${JSON.stringify(c.closed.reason)}) before a message came`);
      await new Promise<void>((resolve) => c.waiters.push(resolve));
    }
  }

  async #until(c: Connection, done: () => boolean): Promise<void> {
    while (!done()) {
      if (c.closed !== null) throw new Error(`the connection closed (${c.closed.code} ${JSON.stringify(c.closed.reason)}) first`);
      await new Promise<void>((resolve) => c.waiters.push(resolve));
    }
  }

  async #nextPong(c: Connection): Promise<string> {
    for (;;) {
      const p = c.pongs.shift();
      if (p !== undefined) return p;
      if (c.closed !== null) throw new Error('the connection closed before a Pong came');
      await new Promise<void>((resolve) => c.pongWaiters.push(resolve));
    }
  }
}

