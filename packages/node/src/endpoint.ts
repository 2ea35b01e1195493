/**
 * A WebSocket endpoint for `upgrade` events of a `node:http` server: the shared server
 * engine (policy, pending-handshake slots and deadline, error policy, the hub of open
 * connections, shutdown) taking requests node:http already read. `attach` is built on it;
 * use it directly from your own `upgrade` listener.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { checkServerOptions, type ServerEngine, type AcceptedConnection, type PublishData, type PublishOptions, type PublishStats, type ServerConnection, type ServerOptions, type ErrorContext, type PendingHandshakeSettings } from '@wsflow/engine';
import type { CloseOptions, WebSocketConnection } from '@wsflow/codec';
import { nodeAdapter } from './connection_settings.ts';
import { engineSocketOf, headOfRequest, listenerOf, requestPath, upgradeEngine } from './node_upgrade.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

/** A connection an endpoint accepted, with the request that opened it. */
export type NodeAcceptedConnection = AcceptedConnection<IncomingMessage, ServerConnection>;

/**
 * Handles each accepted connection. Set handlers or take `readable` synchronously (the
 * connection starts reading when this returns). A throw or a rejected promise closes the
 * connection with 1011 and goes to `onError`; the server carries on.
 */
export type NodeConnectionHandler = (connection: ServerConnection, request: IncomingMessage) => unknown;

/**
 * Options of a {@link WebSocketEndpoint}. `maxPendingHandshakes` counts each upgrade
 * request from its `upgrade` event (reading the head is the host server's, bounded by its
 * own `headersTimeout` and `maxConnections`) until the 101.
 */
export interface EndpointOptions extends UpgradeOptions, PendingHandshakeSettings, Pick<ServerOptions, 'backplane' | 'publishBackpressure'> {
  /** Called with each accepted connection. Without it, iterate the endpoint. */
  handler?: NodeConnectionHandler;
  /**
   * Told of every error thrown by user code: the handler, `onReject`, or a connection's
   * own callbacks (`onmessage`, `onclose`, …). The connection concerned is closed with 1011
   * first; every other connection carries on. Default: report on stderr with the peer's address.
   */
  onError?: (error: unknown, context: ErrorContext) => void;
}

/** The server options an endpoint has no use for: node:http reads and answers plain requests. */
const NOT_FOR_ENDPOINTS = ['fetch', 'maxBodySize', 'maxHeadSize'];

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
  /** The shared server engine this endpoint drives. */
  readonly engine: ServerEngine<IncomingMessage>;

  /**
   * @throws TypeError naming an unknown or invalid option; RangeError for an out-of-range one
   */
  constructor(options: EndpointOptions = {}, where = 'WebSocketEndpoint', extra: readonly string[] = [], without: readonly string[] = NOT_FOR_ENDPOINTS) {
    this.options = checkServerOptions(where, options, extra, nodeAdapter.deflateEngine, without);
    this.engine = upgradeEngine(this.options as ServerOptions<IncomingMessage>, 'a WebSocketEndpoint');
  }

  /**
   * Publishes `data` on `topic` to every subscriber of this endpoint (and through its
   * `backplane` to other instances'), as a server's `publish` does.
   * @returns the number of local subscribers the message was queued to
   */
  publish(topic: string, data: PublishData, options?: PublishOptions): number {
    return this.engine.publish(topic, data, options);
  }

  /** How many of this endpoint's connections are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.engine.subscriberCount(topic);
  }

  /** The publish counters. */
  get publishStats(): PublishStats {
    return this.engine.publishStats;
  }

  /** Handshakes under way now (see {@link EndpointOptions.maxPendingHandshakes}). */
  get pendingHandshakes(): number {
    return this.engine.pendingHandshakes;
  }

  /** The open connections (handshake done, not yet closed). */
  get connections(): ReadonlySet<ServerConnection> {
    return this.engine.connections;
  }

  /** Whether {@link close} was called. */
  get closing(): boolean {
    return this.engine.closing;
  }

  /** Whether a request is for this endpoint's `path` (always, without one). */
  matches(request: IncomingMessage): boolean {
    return this.options.path === undefined || requestPath(request) === this.options.path;
  }

  /**
   * Runs the handshake for a request from an `upgrade` event and delivers the connection.
   * @returns the connection, or `null` if the handshake was refused or the socket dropped
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Uint8Array): Promise<ServerConnection | null> {
    const engineSocket = engineSocketOf(socket);
    if (engineSocket === null) return Promise.resolve(null);
    return this.engine.upgrade(engineSocket, headOfRequest(request), head, request, listenerOf(socket));
  }

  /**
   * The accepted connections, as they come; ends when the endpoint closes. Several
   * iterators share one queue (each connection goes to one of them).
   */
  [Symbol.asyncIterator](): AsyncIterator<NodeAcceptedConnection> {
    return this.engine[Symbol.asyncIterator]();
  }

  /**
   * Shuts down gracefully: handshakes under way are dropped, new ones refused with 503,
   * every open connection is closed (default 1001 Going Away), and the iteration ends.
   * Resolves once every connection is closed (each within its `closeTimeout`).
   * @throws RangeError for a close code that may not be sent (before closing anything)
   */
  close(options: CloseOptions = {}): Promise<void> {
    return this.engine.close(options);
  }
}
