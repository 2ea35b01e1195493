/**
 * `serve`: a standalone WebSocket server on `Bun.listen` (TCP, or TLS with `tls`), with the
 * opening handshake read off the raw socket by the codec.
 * @module
 */
import {
  CloseCode,
  HandshakeSlots,
  checkBufferedAmountLimit,
  checkMaxPendingHandshakes,
  serializeClosePayload,
  type CloseOptions,
  type PendingHandshakeSettings,
  type WebSocketConnection,
} from '@wsflow/codec';
import { bunRuntime, type BunListener, type BunTlsOptions } from './bun_types.ts';
import { nextMacrotask } from './bun_timers.ts';
import { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT } from './connection_settings.ts';
import type { PendingConnection } from './pending_connection.ts';
import { upgradeSocket, type ServerUpgradeOptions, type UpgradedSocket } from './server_upgrade.ts';
import { BunSocketTransport, transportHandlers } from './socket_transport.ts';

/** A connection the server accepted, with the request that opened it. */
export interface AcceptedConnection {
  connection: WebSocketConnection;
  request: Request;
}

/**
 * Handles each accepted connection. Set handlers or take `readable` synchronously (the
 * connection starts reading when this returns). A throw or a rejected promise closes the
 * connection with 1011 and is rethrown (uncaught, as for any event listener).
 */
export type ConnectionHandler = (connection: WebSocketConnection, request: Request) => void | Promise<void>;

/** Options of {@link serve}. */
export interface ServeOptions extends ServerUpgradeOptions, PendingHandshakeSettings {
  /** The TCP port; default 0, a free port chosen by the OS (read it from `port`). */
  port?: number;
  /** The address to listen on. Default `127.0.0.1` (loopback only: pass `0.0.0.0` or `::` to expose). */
  host?: string;
  /** TLS settings (`key`, `cert`, …) to serve `wss://`. Default: none, plain `ws://`. */
  tls?: BunTlsOptions;
  /** Called with each accepted connection. Without it, iterate the server. */
  handler?: ConnectionHandler;
}

/** A listening WebSocket server. */
export interface WebSocketServer extends AsyncIterable<AcceptedConnection> {
  /** The underlying `Bun.listen` listener. */
  readonly listener: BunListener;
  /** The address listened on. */
  readonly hostname: string;
  /** The port listened on. */
  readonly port: number;
  /** The URL clients connect to, e.g. `ws://127.0.0.1:41234/`. */
  readonly url: string;
  /** The open connections (handshake done, not yet closed). */
  readonly connections: ReadonlySet<WebSocketConnection>;
  /** Sockets accepted whose handshake is under way (at most `maxPendingHandshakes`). */
  readonly pendingHandshakes: number;
  /**
   * Stops listening, drops handshakes under way, closes every connection gracefully
   * (default 1001 Going Away) and resolves once all are closed (each within its `closeTimeout`).
   * @throws RangeError for a close code that may not be sent (before closing anything)
   */
  close(options?: CloseOptions): Promise<void>;
}

interface Queued {
  accepted: AcceptedConnection;
  start(): void;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * Starts a WebSocket server on `Bun.listen` and resolves once it listens. Accepted connections go to `handler`, or to
 * whoever iterates the server. Plain HTTP requests go to the `fetch` fallback when given,
 * else get 426 Upgrade Required. The handshake timeout covers the TLS handshake, reading the
 * request head and the `authorize` hook.
 *
 * @throws RangeError for an invalid `handshakeTimeout`, `maxPendingHandshakes`,
 *   `maxBufferedAmount` or `bufferedAmountPolicy`; Bun's error when it cannot listen (rejects)
 * @example
 * ```ts
 * const server = await serve({
 *   port: 8080,
 *   handler: (conn) => {
 *     conn.onmessage = (data) => conn.send(data);
 *   },
 * });
 * console.log(`listening on ${server.url}`);
 * // or: for await (const { connection, request } of server) { … }
 * await server.close();
 * ```
 */
export async function serve(options: ServeOptions = {}): Promise<WebSocketServer> {
  checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  checkMaxPendingHandshakes(options.maxPendingHandshakes);
  checkBufferedAmountLimit(options);
  return new ListeningServer({ ...options });
}

class ListeningServer implements WebSocketServer {
  readonly listener: BunListener;
  readonly url: string;
  readonly #options: ServeOptions;
  readonly #connections = new Set<WebSocketConnection>();
  readonly #queue: Queued[] = [];
  readonly #waiters: Array<(result: IteratorResult<AcceptedConnection>) => void> = [];
  readonly #shutdown = new AbortController();
  /** Sockets from accept until their 101 (or refusal, or drop), oldest first, under `maxPendingHandshakes`. */
  readonly #pending: HandshakeSlots;
  readonly #secure: boolean;
  readonly #authority: string;
  #closing: Promise<void> | null = null;

  constructor(options: ServeOptions) {
    this.#options = options;
    this.#pending = new HandshakeSlots(checkMaxPendingHandshakes(options.maxPendingHandshakes));
    this.#secure = options.tls !== undefined;
    this.listener = bunRuntime().listen<BunSocketTransport>({
      hostname: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      tls: options.tls,
      allowHalfOpen: true,
      socket: {
        ...transportHandlers,
        open: (socket) => {
          const transport = new BunSocketTransport(socket);
          this.#accept(transport).catch((error: unknown) => {
            // A bug, not a peer's doing: drop the socket and let it be seen.
            transport.destroy();
            rethrowLater(error);
          });
        },
      },
    });
    const host = this.listener.hostname.includes(':') ? `[${this.listener.hostname}]` : this.listener.hostname;
    this.#authority = `${host}:${this.listener.port}`;
    this.url = `${this.#secure ? 'wss' : 'ws'}://${this.#authority}${options.path ?? '/'}`;
  }

  get hostname(): string {
    return this.listener.hostname;
  }

  get port(): number {
    return this.listener.port;
  }

  get connections(): ReadonlySet<WebSocketConnection> {
    return this.#connections;
  }

  get pendingHandshakes(): number {
    return this.#pending.size;
  }

  async #accept(transport: BunSocketTransport): Promise<void> {
    // Counted until the handshake is decided; past the cap the oldest pending one is dropped.
    const evicted = new AbortController();
    const slot = this.#pending.admit(() => evicted.abort('EVICTED'));
    let upgraded: UpgradedSocket | null;
    try {
      upgraded = await upgradeSocket(transport, this.#options, {
        secure: this.#secure,
        authority: this.#authority,
        signal: this.#shutdown.signal,
        drop: evicted.signal,
      });
    } finally {
      slot.release();
    }
    if (upgraded === null) return;
    const { connection } = upgraded;
    if (this.#closing !== null) {
      // Accepted while shutting down: say so at once.
      upgraded.start();
      connection.close({ closeCode: CloseCode.GoingAway });
      return;
    }
    this.#connections.add(connection);
    void connection.closed.then(() => this.#connections.delete(connection));
    const handler = this.#options.handler;
    if (handler !== undefined) this.#run(handler, upgraded);
    else this.#deliver({ accepted: { connection, request: upgraded.request }, start: upgraded.start });
  }

  #run(handler: ConnectionHandler, upgraded: UpgradedSocket): void {
    const { connection } = upgraded;
    let result: void | Promise<void>;
    try {
      result = handler(connection, upgraded.request);
    } catch (error) {
      startSafely(upgraded);
      connection.close({ closeCode: CloseCode.InternalError });
      rethrowLater(error);
      return;
    }
    startSafely(upgraded);
    if (isPromiseLike(result)) {
      void result.then(undefined, (error: unknown) => {
        connection.close({ closeCode: CloseCode.InternalError });
        rethrowLater(error);
      });
    }
  }

  #deliver(item: Queued): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#queue.push(item);
      return;
    }
    waiter({ value: item.accepted, done: false });
    nextMacrotask(item.start);
  }

  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection> {
    return {
      next: (): Promise<IteratorResult<AcceptedConnection>> => {
        const item = this.#queue.shift();
        if (item !== undefined) {
          nextMacrotask(item.start);
          return Promise.resolve({ value: item.accepted, done: false });
        }
        if (this.#closing !== null) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<AcceptedConnection>> => Promise.resolve({ value: undefined, done: true }),
    };
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const closeCode = options.closeCode ?? CloseCode.GoingAway;
    const reason = options.reason ?? '';
    serializeClosePayload(closeCode, reason); // throws before anything was closed
    this.listener.stop(false);
    const open = [...this.#connections];
    this.#shutdown.abort();
    for (const item of this.#queue.splice(0)) item.start();
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
    for (const connection of open) connection.close({ closeCode, reason });
    this.#closing = Promise.all(open.map((connection) => connection.closed)).then(() => {
      // Sockets still lingering (refused, or answered by the fetch fallback) go too.
      this.listener.stop(true);
    });
    return this.#closing;
  }
}

/** Starts a pending connection; a throw from a message handler fed early frames is reported, not lost. */
function startSafely(pending: PendingConnection): void {
  try {
    pending.start();
  } catch (error) {
    rethrowLater(error);
  }
}
