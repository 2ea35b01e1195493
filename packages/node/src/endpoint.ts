/**
 * A WebSocket endpoint: the server handshake with fixed options, the set of open
 * connections, delivery to a handler or an async iterator, and a graceful shutdown.
 * `attach` and `serve` are built on it; use it directly from your own `upgrade` listener.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ConnectionHub, checkServerOptions, errorReporter, type ErrorContext } from '@wsflow/engine';
import type { CloseOptions, WebSocketConnection } from '@wsflow/codec';
import { HandshakeSlots, checkMaxPendingHandshakes, type HandshakeSlot, type PendingHandshakeSettings } from '@wsflow/engine';
import { requestPath, upgradeSocket } from './server_upgrade.ts';
import type { PendingConnection } from './socket_connection.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

/** A connection an endpoint accepted, with the request that opened it. */
export interface NodeAcceptedConnection {
  connection: WebSocketConnection;
  request: IncomingMessage;
}

/**
 * Handles each accepted connection. Set handlers or take `readable` synchronously (the
 * connection starts reading when this returns). A throw or a rejected promise closes the
 * connection with 1011 and goes to `onError`; the server carries on.
 */
export type NodeConnectionHandler = (connection: WebSocketConnection, request: IncomingMessage) => void | Promise<void>;

/**
 * Options of a {@link WebSocketEndpoint}. `maxPendingHandshakes` counts, with `serve`, every
 * socket from its accept (so it covers the TLS handshake and the request head) and, with
 * `attach`, each upgrade request from its `upgrade` event (reading the head is the host
 * server's, bounded by its own `headersTimeout` and `maxConnections`); until the 101.
 */
export interface EndpointOptions extends UpgradeOptions, PendingHandshakeSettings {
  /** Called with each accepted connection. Without it, iterate the endpoint. */
  handler?: NodeConnectionHandler;
  /**
   * Told of every error thrown by user code: the handler, `onReject`, or a connection's
   * own callbacks (`onmessage`, `onclose`, …). The connection concerned is closed with 1011
   * first; every other connection carries on. Default: report on stderr with the peer's address.
   */
  onError?: (error: unknown, context: ErrorContext) => void;
}

/** The names of {@link EndpointOptions}, for the unknown-option check. */
export const ENDPOINT_OPTION_NAMES: readonly string[] = [];

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
export class WebSocketEndpoint implements AsyncIterable<NodeAcceptedConnection> {
  /** The options this endpoint was made with. */
  readonly options: Readonly<EndpointOptions>;
  readonly #hub: ConnectionHub<IncomingMessage>;
  /** Peers' addresses, for reports about a connection's callbacks. */
  readonly #peers = new WeakMap<WebSocketConnection, string>();
  readonly #onCallbackError = (error: unknown, connection: WebSocketConnection): void =>
    this.report(error, { source: 'connection', remoteAddress: this.#peers.get(connection), connection });
  /** Where user code's errors go (`onError`). */
  readonly report: (error: unknown, context: ErrorContext) => void;
  readonly #shutdown = new AbortController();
  /** Sockets whose handshake is under way, oldest first, under `maxPendingHandshakes`. */
  readonly #pending: HandshakeSlots;
  #closing: Promise<void> | null = null;

  /**
   * @throws RangeError for an invalid `handshakeTimeout`, `maxPendingHandshakes`,
   *   `maxBufferedAmount` or `bufferedAmountPolicy`
   */
  constructor(options: EndpointOptions = {}, where = 'WebSocketEndpoint', extra: readonly string[] = [], without: readonly string[] = ['fetch', 'maxBodySize', 'backplane', 'publishBackpressure']) {
    this.options = checkServerOptions(where, options, extra, undefined, without);
    this.#pending = new HandshakeSlots(checkMaxPendingHandshakes(options.maxPendingHandshakes));
    this.report = errorReporter(options);
    this.#hub = new ConnectionHub<IncomingMessage>(options.handler, this.report, setImmediate);
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

  /** The open connections (handshake done, not yet closed). */
  get connections(): ReadonlySet<WebSocketConnection> {
    return this.#hub.connections;
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
      pending = await upgradeSocket(request, socket, head, options, { signal: this.#shutdown.signal, report: this.report, onCallbackError: this.#onCallbackError });
    } finally {
      releasePending(held);
    }
    if (pending === null) return null;
    const remoteAddress = (socket as { remoteAddress?: string }).remoteAddress;
    if (remoteAddress !== undefined) this.#peers.set(pending.connection, remoteAddress);
    this.#hub.deliver(pending, request, remoteAddress);
    return pending.connection;
  }

  /**
   * The accepted connections, as they come; ends when the endpoint closes. Several
   * iterators share one queue (each connection goes to one of them).
   */
  [Symbol.asyncIterator](): AsyncIterator<NodeAcceptedConnection> {
    return this.#hub[Symbol.asyncIterator]();
  }

  /**
   * Shuts down gracefully: handshakes under way are dropped, new ones refused with 503,
   * every open connection is closed (default 1001 Going Away), and the iteration ends.
   * Resolves once every connection is closed (each within its `closeTimeout`).
   * @throws RangeError for a close code that may not be sent (before closing anything)
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = this.#hub.closeAll(options, () => this.#shutdown.abort());
    return this.#closing;
  }
}
