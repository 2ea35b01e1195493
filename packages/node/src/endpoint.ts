/**
 * A WebSocket endpoint: the server handshake with fixed options, the set of open
 * connections, delivery to a handler or an async iterator, and a graceful shutdown.
 * `attach` and `serve` are built on it; use it directly from your own `upgrade` listener.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  HandshakeSlots,
  checkBufferedAmountLimit,
  checkMaxPendingHandshakes,
  serializeClosePayload,
  type CloseOptions,
  type HandshakeSlot,
  type PendingHandshakeSettings,
  type WebSocketConnection,
} from '@wsflow/codec';
import { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT } from './connection_settings.ts';
import { requestPath, upgradeSocket } from './server_upgrade.ts';
import { trackConnection, type PendingConnection } from './socket_connection.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

/** A connection an endpoint accepted, with the request that opened it. */
export interface AcceptedConnection {
  connection: WebSocketConnection;
  request: IncomingMessage;
}

/**
 * Handles each accepted connection. Set handlers or take `readable` synchronously (the
 * connection starts reading when this returns). A throw or a rejected promise closes the
 * connection with 1011 and is rethrown (so Node reports it, as for any listener).
 */
export type ConnectionHandler = (connection: WebSocketConnection, request: IncomingMessage) => void | Promise<void>;

/**
 * Options of a {@link WebSocketEndpoint}. `maxPendingHandshakes` counts, with `serve`, every
 * socket from its accept (so it covers the TLS handshake and the request head) and, with
 * `attach`, each upgrade request from its `upgrade` event (reading the head is the host
 * server's, bounded by its own `headersTimeout` and `maxConnections`); until the 101.
 */
export interface EndpointOptions extends UpgradeOptions, PendingHandshakeSettings {
  /** Called with each accepted connection. Without it, iterate the endpoint. */
  handler?: ConnectionHandler;
}

interface Queued {
  accepted: AcceptedConnection;
  start(): void;
}

/** A socket counted as a pending handshake (see {@link WebSocketEndpoint.admitPendingSocket}). */
interface PendingSocket {
  /** The socket the upgrade comes on, dropped if evicted. */
  socket: Duplex;
  /** The socket accepted (the raw TCP one under TLS): its close releases the slot. */
  raw: Duplex;
  slot: HandshakeSlot;
  /** Whether it was dropped to make room (its refusal is reported `EVICTED`). */
  evicted: boolean;
}

/** Where a socket keeps its {@link PendingSocket} while its handshake is under way. */
const kPending = Symbol('wsflow.pendingHandshake');

type Holder = Duplex & { [kPending]?: PendingSocket };

/** A pending socket closed: its slot is free (one listener shared by every socket). */
function releaseOnClose(this: Holder): void {
  this[kPending]?.slot.release();
}

/** The handshake is over (101 written, refused or dropped): free the slot and forget it. */
function releasePending(held: PendingSocket): void {
  held.slot.release();
  held.raw.off('close', releaseOnClose);
  (held.raw as Holder)[kPending] = undefined;
  (held.socket as Holder)[kPending] = undefined;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Accepts WebSocket connections from `upgrade` events with one set of options.
 *
 * Connections go to `options.handler`, or, without one, to whoever iterates the endpoint
 * (`for await (const { connection, request } of endpoint)`); a connection waiting in the
 * iteration queue does not read until it is taken.
 *
 * @example
 * ```ts
 * const chat = new WebSocketEndpoint({ path: '/chat', maxMessage: 64 * 1024 });
 * server.on('upgrade', (req, socket, head) => {
 *   if (chat.matches(req)) void chat.handleUpgrade(req, socket, head);
 * });
 * for await (const { connection } of chat) {
 *   connection.onmessage = (text) => { for (const c of chat.connections) c.send(text); };
 * }
 * ```
 */
export class WebSocketEndpoint implements AsyncIterable<AcceptedConnection> {
  /** The options this endpoint was made with. */
  readonly options: Readonly<EndpointOptions>;
  readonly #connections = new Set<WebSocketConnection>();
  readonly #queue: Queued[] = [];
  readonly #waiters: Array<(result: IteratorResult<AcceptedConnection>) => void> = [];
  readonly #shutdown = new AbortController();
  /** Sockets whose handshake is under way, oldest first, under `maxPendingHandshakes`. */
  readonly #pending: HandshakeSlots;
  #closing: Promise<void> | null = null;

  /**
   * @throws RangeError for an invalid `handshakeTimeout`, `maxPendingHandshakes`,
   *   `maxBufferedAmount` or `bufferedAmountPolicy`
   */
  constructor(options: EndpointOptions = {}) {
    checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
    checkBufferedAmountLimit(options);
    this.#pending = new HandshakeSlots(checkMaxPendingHandshakes(options.maxPendingHandshakes));
    this.options = { ...options };
  }

  /** Handshakes under way now (see {@link EndpointOptions.maxPendingHandshakes}). */
  get pendingHandshakes(): number {
    return this.#pending.size;
  }

  /**
   * Counts `socket` as a pending handshake from now until its 101 is written or it closes,
   * evicting the oldest pending one if the cap is reached. `serve` calls it as its server
   * accepts each socket; without it, an upgrade is counted from its `upgrade` event.
   * @internal for `serve`
   */
  admitPendingSocket(socket: Duplex): void {
    const holder = socket as Holder;
    if (holder[kPending] !== undefined) return;
    const held: PendingSocket = { socket, raw: socket, slot: undefined as unknown as HandshakeSlot, evicted: false };
    held.slot = this.#pending.admit(() => {
      held.evicted = true;
      held.socket.destroy();
    });
    holder[kPending] = held;
    socket.once('close', releaseOnClose);
  }

  /**
   * Moves a pending socket's slot to the socket its upgrade will come on: the TLS socket
   * over the raw TCP socket admitted on accept. Eviction then destroys the TLS socket.
   * @internal for `serve`
   */
  adoptPendingSocket(raw: Duplex, socket: Duplex): void {
    const held = (raw as Holder)[kPending];
    if (held === undefined || held.slot.released) return;
    held.socket = socket;
    (socket as Holder)[kPending] = held;
  }

  /** The open connections (handshake done, not yet closed). */
  get connections(): ReadonlySet<WebSocketConnection> {
    return this.#connections;
  }

  /** Whether {@link close} was called. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** Whether a request is for this endpoint's `path` (always, without one). */
  matches(request: IncomingMessage): boolean {
    return this.options.path === undefined || requestPath(request) === this.options.path;
  }

  /**
   * Runs the handshake for a request from an `upgrade` event and delivers the connection.
   * @returns the connection, or `null` if the handshake was refused or the socket dropped
   */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Uint8Array): Promise<WebSocketConnection | null> {
    // Counted from accept by `serve`; from now otherwise.
    if ((socket as Holder)[kPending] === undefined) this.admitPendingSocket(socket);
    const held = (socket as Holder)[kPending]!;
    const onReject = this.options.onReject;
    const options: UpgradeOptions =
      onReject === undefined ? this.options : { ...this.options, onReject: (info) => onReject(held.evicted && info.status === 0 ? { ...info, code: 'EVICTED' } : info) };
    let pending: PendingConnection | null;
    try {
      pending = await upgradeSocket(request, socket, head, options, { signal: this.#shutdown.signal });
    } finally {
      releasePending(held);
    }
    if (pending === null) return null;
    const { connection } = pending;
    if (this.#closing !== null) {
      // Accepted while shutting down: say so at once.
      pending.start();
      connection.close({ closeCode: CloseCode.GoingAway });
      return connection;
    }
    trackConnection(socket, connection, this.#connections);
    const handler = this.options.handler;
    if (handler !== undefined) this.#run(handler, pending, request);
    else this.#deliver({ accepted: { connection, request }, start: pending.start });
    return connection;
  }

  #run(handler: ConnectionHandler, pending: PendingConnection, request: IncomingMessage): void {
    const { connection } = pending;
    let result: void | Promise<void>;
    try {
      result = handler(connection, request);
    } catch (error) {
      pending.start();
      connection.close({ closeCode: CloseCode.InternalError });
      throw error;
    }
    pending.start();
    if (isPromiseLike(result)) {
      void result.then(undefined, (error: unknown) => {
        connection.close({ closeCode: CloseCode.InternalError });
        throw error;
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
    setImmediate(item.start);
  }

  /**
   * The accepted connections, as they come; ends when the endpoint closes. Several
   * iterators share one queue (each connection goes to one of them).
   */
  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection> {
    return {
      next: (): Promise<IteratorResult<AcceptedConnection>> => {
        const item = this.#queue.shift();
        if (item !== undefined) {
          setImmediate(item.start);
          return Promise.resolve({ value: item.accepted, done: false });
        }
        if (this.#closing !== null) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<AcceptedConnection>> => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /**
   * Shuts down gracefully: handshakes under way are dropped, new ones refused with 503,
   * every open connection is closed (default 1001 Going Away), and the iteration ends.
   * Resolves once every connection is closed (each within its `closeTimeout`).
   * @throws RangeError for a close code that may not be sent (before closing anything)
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const closeCode = options.closeCode ?? CloseCode.GoingAway;
    const reason = options.reason ?? '';
    serializeClosePayload(closeCode, reason); // throws before anything was closed
    const open = [...this.#connections];
    this.#shutdown.abort();
    for (const item of this.#queue.splice(0)) item.start();
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
    for (const connection of open) connection.close({ closeCode, reason });
    this.#closing = Promise.all(open.map((connection) => connection.closed)).then(() => undefined);
    return this.#closing;
  }
}
