/**
 * The {@link ClientAdapter} over wsflow's `connect` (the same on every shim: it resolves
 * with a codec `WebSocketConnection`). Messages are read through the connection's
 * WebSocketStream-shaped `readable`, so pausing is real backpressure: an unread
 * `readable` pauses the socket. (The servers use `onmessage`, so both reading styles
 * are covered.)
 *
 * wsflow's public API sends whole messages only (no `fin` flag), hence no `sendFragments`.
 * @module
 */
import type { ClosedInfo } from './protocol.ts';
import { HandshakeRefused, type ClientAdapter, type OpenOptions, type Peer, type PeerEvents } from './driver_core.ts';

/** The part of a wsflow `WebSocketConnection` used here. */
export interface WsflowConnection {
  readonly protocol: string;
  readonly readable: ReadableStream<string | Uint8Array>;
  onpong: ((payload: Uint8Array) => void) | null;
  readonly closed: Promise<{ closeCode: number; reason: string; wasClean: boolean }>;
  send(data: string | Uint8Array): boolean;
  ping(payload?: Uint8Array | string): boolean;
  close(options?: { closeCode?: number; reason?: string }): void;
  abort(): void;
}

/** A shim's `connect`, with the shim's way of trusting a CA for wss. */
export interface WsflowConnect {
  connect(url: string, options: Record<string, unknown>): Promise<WsflowConnection>;
  /** The shim's option naming a trusted CA (PEM): `{ ca }` on every runtime. */
  trust(ca: string): Record<string, unknown>;
}

const decoder = new TextDecoder();

class WsflowPeer implements Peer {
  readonly closed: Promise<ClosedInfo>;
  readonly #conn: WsflowConnection;
  readonly #events: PeerEvents;
  #paused: boolean;
  #wake: (() => void) | null = null;

  constructor(conn: WsflowConnection, paused: boolean, events: PeerEvents) {
    this.#conn = conn;
    this.#events = events;
    this.#paused = paused;
    conn.onpong = (p) => events.pong(decoder.decode(p));
    this.closed = conn.closed.then(({ closeCode, reason, wasClean }) => ({ code: closeCode, reason, wasClean }));
    void this.#pump(conn.readable.getReader());
  }

  get protocol(): string {
    return this.#conn.protocol;
  }

  async #pump(reader: ReadableStreamDefaultReader<string | Uint8Array>): Promise<void> {
    try {
      for (;;) {
        while (this.#paused) await new Promise<void>((resolve) => (this.#wake = resolve));
        const { done, value } = await reader.read();
        if (done) return;
        this.#events.message(value);
      }
    } catch {
      // The stream errors when the connection closes uncleanly; `closed` tells how.
    }
  }

  send(data: string | Uint8Array): void {
    if (!this.#conn.send(data)) throw new Error('send: the connection is closing');
  }

  close(code?: number, reason?: string): void {
    this.#conn.close(code === undefined ? {} : { closeCode: code, reason: reason ?? '' });
  }

  abort(): void {
    this.#conn.abort();
  }

  ping(payload: string): void {
    if (!this.#conn.ping(payload)) throw new Error('ping: the connection is closing');
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wake?.();
    this.#wake = null;
  }
}

/** An adapter over one shim's `connect`. */
export function wsflowAdapter(shim: WsflowConnect): ClientAdapter {
  return {
    async open(url: string, options: OpenOptions): Promise<Peer> {
      let conn: WsflowConnection;
      try {
        conn = await shim.connect(url, {
          protocols: options.protocols,
          ...(options.origin === undefined ? {} : { origin: options.origin }),
          ...(options.ca === undefined ? {} : shim.trust(options.ca)),
          proxy: false,
        });
      } catch (error) {
        // A HandshakeError's `status` is the server's only for BAD_STATUS (else a default).
        const { code, status } = error as { code?: unknown; status?: unknown };
        throw new HandshakeRefused(String((error as Error)?.message ?? error), code === 'BAD_STATUS' && typeof status === 'number' ? status : undefined);
      }
      return new WsflowPeer(conn, options.paused, options.events);
    },
  };
}
