/**
 * The server engine: everything a WebSocket server does between a socket's accept and a
 * connection in the user's hands, written once for every runtime. Per socket: a
 * pending-handshake slot (oldest evicted past `maxPendingHandshakes`), one deadline over
 * reading the head, the hooks and the 101; the request's URL built one way; plain HTTP to
 * `fetch` (or 426); the upgrade decision (path, RFC 6455 checks, `allowedOrigins`,
 * `handleProtocols`, `authorize`); `onReject` with a stable code; the connection handed to
 * the hub. It owns shutdown (1001) and the error policy (user code that throws closes its
 * connection with 1011 and goes to `onError`).
 * @module
 */
import { HandshakeError, buildRejection, fieldValues, type ByteTransport, type CloseOptions, type ConnectionOptions, type HeaderFieldsInit, type RequestHead, type WebSocketConnection } from '@wsflow/codec';
import { HandshakeDeadline } from './handshake_deadline.ts';
import { HandshakeSlots } from './handshake_slots.ts';
import { UPGRADE_REQUIRED, decideUpgrade, isWebSocketUpgrade } from './upgrade_policy.ts';
import { connectionOptionsOf } from './shim_settings.ts';
import { parseCookies } from './cookies.ts';
import { refuseSocket } from './answer.ts';
import { ConnectionHub, type AcceptedConnection } from './connection_hub.ts';
import type { EngineSocket, RuntimeAdapter } from './engine_socket.ts';
import { errorReporter } from './error_policy.ts';
import { ConnectionLostError, HeadReader } from './head_reader.ts';
import { bindConnection } from './pending_connection.ts';
import { ServerConnection } from './server_connection.ts';
import { TopicHub, type PublishData, type PublishOptions, type PublishStats } from './topic_hub.ts';
import { answerPlainRequest } from './plain_http.ts';
import { requestOf, requestUrl } from './request_url.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_BODY_SIZE, type ErrorContext, type RejectionInfo, type ServerOptions } from './server_options.ts';

/** Where a server listens, as its requests' URLs need it. */
export interface ListenerInfo {
  /** Whether sockets are TLS (`wss:`). */
  secure: boolean;
  /** `host:port` of the listener, for requests without a `Host`. */
  authority: string;
}

const encoder = new TextEncoder();

/** A refusal to answer: 0 for a drop. */
export interface Refusal {
  status: number;
  code: string;
  error?: unknown;
  headers?: HeaderFieldsInit;
  body?: string;
}

/**
 * A hook's refusal that cannot be answered as given (a status outside 300–599, a header
 * with CR/LF or one the refusal writes itself) is answered 500 and reported as the hook's
 * failure, so that `onReject` tells what went on the wire.
 */
export function answerable<T extends Refusal>(refusal: T): Refusal {
  if (refusal.status === 0) return refusal;
  try {
    buildRejection(refusal.status, refusal.headers, refusal.body);
    return refusal;
  } catch (error) {
    return { status: 500, code: 'HOOK_FAILED', error };
  }
}

/**
 * One server's engine. A shim makes one per listener with checked options
 * (`checkServerOptions`) and its {@link RuntimeAdapter}, and calls {@link accept} with
 * every accepted socket.
 *
 * @example
 * ```ts
 * const engine = new ServerEngine(checkServerOptions('serve', options, ['port']), adapter, { secure: false, authority: '127.0.0.1:8080' });
 * listener.onSocket = (socket) => engine.accept(socket);
 * for await (const { connection } of engine) connection.onmessage = (data) => connection.send(data);
 * ```
 */
export class ServerEngine implements AsyncIterable<AcceptedConnection> {
  /** The options the server was made with (checked). */
  readonly options: Readonly<ServerOptions>;
  readonly #adapter: RuntimeAdapter;
  readonly #listener: ListenerInfo;
  readonly #timeout: number;
  readonly #slots: HandshakeSlots;
  readonly #shutdown = new AbortController();
  readonly #hub: ConnectionHub<Request, ServerConnection>;
  readonly #topics: TopicHub;
  readonly #make: (transport: ByteTransport, options: ConnectionOptions) => ServerConnection;
  readonly #report: (error: unknown, context: ErrorContext) => void;
  /** Peers' addresses, for reports about a connection's callbacks. */
  readonly #peers = new WeakMap<WebSocketConnection, string>();
  readonly #onCallbackError: (error: unknown, connection: WebSocketConnection) => void;
  /** One function for every connection (the codec shares settings that are equal). */
  readonly #onFinished: (connection: WebSocketConnection) => void;
  #closing: Promise<void> | null = null;

  constructor(options: ServerOptions, adapter: RuntimeAdapter, listener: ListenerInfo) {
    this.options = options;
    this.#adapter = adapter;
    this.#listener = listener;
    this.#timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.#slots = new HandshakeSlots(options.maxPendingHandshakes ?? 1024);
    this.#report = errorReporter(options);
    this.#hub = new ConnectionHub<Request, ServerConnection>(options.handler, this.#report, adapter.later, true);
    this.#topics = new TopicHub(options);
    const topics = this.#topics;
    this.#make = (transport, connectionOptions) => new ServerConnection(transport, connectionOptions, topics);
    this.#onCallbackError = (error, connection) => this.#report(error, { source: 'connection', remoteAddress: this.#peers.get(connection), connection });
    this.#onFinished = (connection) => this.#hub.forget(connection);
  }

  /** The open connections. */
  get connections(): ReadonlySet<ServerConnection> {
    return this.#hub.connections;
  }

  /**
   * Publishes `data` on `topic` to every local subscriber, and through the backplane to
   * the other instances'.
   * @returns the number of local subscribers the message was queued to
   * @throws TypeError for a topic that is no string or data that is no string/ArrayBuffer/ArrayBufferView
   */
  publish(topic: string, data: PublishData, options?: PublishOptions): number {
    return this.#topics.publish(topic, data, options);
  }

  /** How many local connections are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.subscriberCount(topic);
  }

  /** The publish counters. */
  get publishStats(): PublishStats {
    return this.#topics.stats;
  }

  /** Sockets accepted whose handshake is under way (at most `maxPendingHandshakes`). */
  get pendingHandshakes(): number {
    return this.#slots.size;
  }

  /** Whether {@link close} was called. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** The URL clients connect to, for a listener's `host:port`. */
  urlFor(authority: string): string {
    return `${this.#listener.secure ? 'wss' : 'ws'}://${authority}${this.options.path ?? '/'}`;
  }

  /** Takes an accepted socket through its handshake. Never throws; failures are reported. */
  accept(socket: EngineSocket): void {
    if (this.#shutdown.signal.aborted) {
      socket.destroy();
      return;
    }
    this.#handle(socket).catch((error: unknown) => {
      // A bug of ours, not the peer's doing: drop the socket and let it be seen.
      socket.destroy();
      console.error('wsflow: the server engine failed on a socket:', error);
    });
  }

  /**
   * The accepted connections, as they come, when there is no handler; ends at shutdown.
   */
  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection<Request, ServerConnection>> {
    return this.#hub[Symbol.asyncIterator]();
  }

  /**
   * Shuts down gracefully: handshakes under way are dropped, new ones refused, every open
   * connection is closed (default 1001 Going Away) and the iteration ends. Resolves once
   * every connection is closed (each within its `closeTimeout`).
   * @throws RangeError for a close code that may not be sent (before closing anything)
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const closed = this.#hub.closeAll(options, () => this.#shutdown.abort('SHUTTING_DOWN'));
    // The backplane stops relaying at once; local topics close with their connections.
    this.#closing = Promise.all([closed, this.#topics.close()]).then(() => undefined);
    return this.#closing;
  }

  #rejected(info: RejectionInfo): void {
    const onReject = this.options.onReject;
    if (onReject === undefined) return;
    try {
      onReject(info);
    } catch (error) {
      this.#report(error, { source: 'onReject', remoteAddress: undefined });
    }
  }

  /** The connection options of one accepted upgrade. */
  #connectionOptions(protocol: string, extensions: string): ConnectionOptions {
    const adapter = this.#adapter;
    const options = connectionOptionsOf(this.options, {
      role: 'server',
      protocol,
      extensions,
      timers: adapter.timers,
      mutableInput: adapter.mutableInput,
      deflateEngine: adapter.deflateEngine,
    });
    if (adapter.allocate !== undefined) options.allocate = adapter.allocate;
    options.onCallbackError = this.#onCallbackError;
    options.onFinished = this.#onFinished;
    return options;
  }

  /** One socket from accept to a connection, an answer or a drop. */
  async #handle(socket: EngineSocket): Promise<WebSocketConnection | null> {
    const options = this.options;
    const adapter = this.#adapter;
    const { secure, authority } = this.#listener;
    // Everything up to the 101 races one deadline, shutdown and eviction.
    const deadline = HandshakeDeadline.forServer(this.#timeout, adapter.timers, this.#shutdown.signal);
    const slot = this.#slots.admit(() => deadline.stop('EVICTED'));
    let head: RequestHead | undefined;
    let request: Request | undefined;
    const requestFor = (h: RequestHead): Request => (request ??= requestOf(h, secure, authority));
    const safeRequest = (): Request | undefined => {
      try {
        return head === undefined ? undefined : requestFor(head);
      } catch {
        return undefined;
      }
    };
    const refuse = (given: Refusal): null => {
      const { status, code, error, headers, body } = answerable(given);
      if (status > 0) refuseSocket(socket, status, headers, body, adapter.timers);
      else socket.destroy();
      this.#rejected({ status, code, error, request: safeRequest() });
      return null;
    };
    try {
      const reader = new HeadReader(socket, 'request', { maxHeadSize: options.maxHeadSize });
      const read = await deadline.settle(reader.head);
      if ('stopped' in read) return refuse({ status: 0, code: read.stopped });
      if ('error' in read) {
        const error = read.error;
        if (error instanceof HandshakeError) return refuse({ status: error.status, code: error.code, error, headers: error.headers, body: error.message });
        // A socket that closes having sent nothing (a port probe) is no refused upgrade.
        if (error instanceof ConnectionLostError && error.bytesReceived === 0) {
          socket.destroy();
          return null;
        }
        return refuse({ status: 0, code: 'SOCKET_CLOSED', error });
      }
      const requestHead = (head = read.value.head);

      let url: URL;
      try {
        url = requestUrl(requestHead, secure ? 'wss' : 'ws', authority);
      } catch (error) {
        const e = error as HandshakeError;
        return refuse({ status: e.status, code: e.code, error: e, body: e.message });
      }
      const upgrade = isWebSocketUpgrade(requestHead);
      const pathMatches = options.path === undefined || url.pathname === options.path;
      const fetch = options.fetch;
      if (fetch !== undefined && (!upgrade || !pathMatches)) {
        const served = answerPlainRequest(socket, reader, requestHead, {
          fetch,
          maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
          secure,
          authority,
          timers: adapter.timers,
          report: this.#report,
        });
        const outcome = await deadline.settle(served);
        if ('stopped' in outcome) return refuse({ status: 0, code: outcome.stopped });
        if ('value' in outcome && outcome.value.error !== undefined) {
          const e = outcome.value.error;
          this.#rejected({ status: e.status, code: e.code, error: e, request: undefined });
        }
        return null;
      }
      if (!upgrade) {
        return refuse({ status: UPGRADE_REQUIRED.status, code: 'UPGRADE_REQUIRED', headers: UPGRADE_REQUIRED.headers, body: UPGRADE_REQUIRED.body });
      }

      const decision = await decideUpgrade(
        {
          head: requestHead,
          target: requestHead.target,
          request: () => requestFor(requestHead),
          describe: () => ({
            url,
            headers: requestFor(requestHead).headers,
            cookies: parseCookies(fieldValues(requestHead.rawHeaders, 'cookie')),
            remoteAddress: socket.remoteAddress,
          }),
        },
        options,
        {
          timers: adapter.timers,
          // The head is read: without an authorize hook nothing left can stall, so the policy
          // decides at once (no deadline of its own, no race); with one, the hook races this
          // handshake's deadline.
          deadline: options.authorize === undefined ? undefined : deadline.signal,
          signal: this.#shutdown.signal,
          deflateEngine: adapter.deflateEngine,
          sha1: adapter.sha1,
          watch: (drop) => void reader.gone.then(() => drop('SOCKET_CLOSED')),
          closed: () => socket.closed,
        },
      );
      if (!decision.accepted) return refuse(decision);
      socket.write(encoder.encode(decision.response));
      const pending = bindConnection(socket, this.#connectionOptions(decision.negotiated.protocol, decision.extensions), reader, this.#make);
      const remoteAddress = socket.remoteAddress;
      if (remoteAddress !== undefined) this.#peers.set(pending.connection, remoteAddress);
      this.#hub.deliver(pending, decision.request, remoteAddress);
      return pending.connection;
    } finally {
      slot.release();
      deadline.dispose();
    }
  }
}
