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
import { ServerHandshake, fieldValues, headersOf, type ByteTransport, type CloseOptions, type ConnectionOptions, type HandshakeRefusal, type RequestHead, type WebSocketConnection } from '@wsflow/codec';
import { HandshakeDeadline } from './handshake_deadline.ts';
import { HandshakeSlots } from './handshake_slots.ts';
import { UPGRADE_REQUIRED, decideUpgrade, dropped, isWebSocketUpgrade } from './upgrade_policy.ts';
import { connectionOptionsOf } from './shim_settings.ts';
import { parseCookies } from './cookies.ts';
import { refuseSocket } from './answer.ts';
import { ConnectionHub, type AcceptedConnection } from './connection_hub.ts';
import type { EngineSocket, RuntimeAdapter } from './engine_socket.ts';
import { errorReporter } from './error_policy.ts';
import { ConnectionLostError, HeadReader, HeldAfterHead, type HeadLeftovers } from './head_reader.ts';
import { bindConnection, type PendingConnection } from './pending_connection.ts';
import { ServerConnection } from './server_connection.ts';
import { TopicHub, type PublishData, type PublishOptions, type PublishStats } from './topic_hub.ts';
import { answerPlainRequest } from './plain_http.ts';
import { requestOf as defaultRequestOf, requestUrl } from './request_url.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_BODY_SIZE, type ErrorContext, type ServerOptions } from './server_options.ts';
import type { RejectionInfo } from './upgrade_policy.ts';

/** Where a server listens, as its requests' URLs need it. */
export interface ListenerInfo {
  /** Whether sockets are TLS (`wss:`). */
  secure: boolean;
  /** `host:port` of the listener, for requests without a `Host`. */
  authority: string;
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
export class ServerEngine<R = Request> implements AsyncIterable<AcceptedConnection<R, ServerConnection>> {
  /** The options the server was made with (checked). */
  readonly options: Readonly<ServerOptions<R>>;
  readonly #adapter: RuntimeAdapter;
  readonly #listener: ListenerInfo;
  readonly #timeout: number;
  readonly #slots: HandshakeSlots;
  readonly #shutdown = new AbortController();
  /** The deadlines of the handshakes under way: shutdown stops them all (one listener, not one each). */
  readonly #deadlines = new Set<HandshakeDeadline<string>>();
  readonly #hub: ConnectionHub<R, ServerConnection>;
  /** The runtime's request for a head read here (a WHATWG `Request` for `serve`). */
  readonly #requestOf: (head: RequestHead, secure: boolean, authority: string) => R;
  readonly #topics: TopicHub;
  readonly #make: (transport: ByteTransport, options: ConnectionOptions) => ServerConnection;
  readonly #report: (error: unknown, context: ErrorContext) => void;
  /** Each connection's socket, for the peer's address in reports about its callbacks (looked up only then). */
  readonly #peers = new WeakMap<WebSocketConnection, EngineSocket>();
  readonly #onCallbackError: (error: unknown, connection: WebSocketConnection) => void;
  /** One function for every connection (the codec shares settings that are equal). */
  readonly #onFinished: (connection: WebSocketConnection) => void;
  #closing: Promise<void> | null = null;

  /**
   * @param requestOf the request the hooks and handler get for a head {@link accept} read;
   *   default a WHATWG `Request` (give one when `R` is another type)
   */
  constructor(options: ServerOptions<R>, adapter: RuntimeAdapter, listener: ListenerInfo, requestOf?: (head: RequestHead, secure: boolean, authority: string) => R) {
    this.options = options;
    this.#requestOf = requestOf ?? ((head, secure, authority) => defaultRequestOf(head, secure, authority) as R);
    this.#adapter = adapter;
    this.#listener = listener;
    this.#timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.#slots = new HandshakeSlots(options.maxPendingHandshakes ?? 1024);
    this.#report = errorReporter(options);
    this.#hub = new ConnectionHub<R, ServerConnection>(options.handler, this.#report, adapter.later);
    // Published messages are written once per event-loop turn: on Node a microtask runs after
    // every socket read, and with one message per read that was one write per delivery.
    this.#topics = new TopicHub(options, adapter.flushPublished ?? adapter.later);
    const topics = this.#topics;
    this.#make = (transport, connectionOptions) => new ServerConnection(transport, connectionOptions, topics);
    this.#onCallbackError = (error, connection) => this.#report(error, { source: 'connection', remoteAddress: this.#peers.get(connection)?.remoteAddress, connection });
    this.#onFinished = (connection) => this.#hub.forget(connection);
    this.#shutdown.signal.addEventListener('abort', () => {
      for (const deadline of this.#deadlines) deadline.stop('SHUTTING_DOWN');
    }, { once: true });
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
    void this.#admitted(socket, (deadline) => this.#handle(socket, deadline));
  }

  /**
   * Runs one handshake under its deadline (covering everything up to the 101, stopped by
   * shutdown and by eviction from its slot), then gives the slot back. Never rejects: a
   * throw is a bug of ours, not the peer's doing, so the socket is dropped and it is shown.
   */
  async #admitted(socket: EngineSocket, run: (deadline: HandshakeDeadline<string>) => Promise<ServerConnection | null>): Promise<ServerConnection | null> {
    const deadline = HandshakeDeadline.forServer(this.#timeout, this.#adapter.timers);
    this.#deadlines.add(deadline);
    const slot = this.#slots.admit(() => deadline.stop('EVICTED'));
    try {
      return await run(deadline);
    } catch (error) {
      socket.destroy();
      console.error('wsflow: the server engine failed on a socket:', error);
      return null;
    } finally {
      slot.release();
      deadline.dispose();
      this.#deadlines.delete(deadline);
    }
  }

  /**
   * Takes a socket whose request head another server already read (Node's `upgrade`
   * event) through the rest of its handshake: the same policy, deadline, slots, hub,
   * error policy and shutdown as {@link accept}. `rest` is what followed the head.
   * With `handOver`, the connection goes to it (not reading yet: call `start()`) instead
   * of the handler or the iteration, still counted among {@link connections}.
   * Never rejects; resolves with the connection, or `null` when refused or dropped.
   */
  upgrade(
    socket: EngineSocket,
    head: RequestHead,
    rest: Uint8Array,
    request: R,
    listener: ListenerInfo = this.#listener,
    handOver?: (pending: PendingConnection<ServerConnection>, request: R) => void,
  ): Promise<ServerConnection | null> {
    if (this.#shutdown.signal.aborted) {
      this.#rejected({ status: 503, code: 'SHUTTING_DOWN', request });
      refuseSocket(socket, ServerHandshake.refuse(503, 'SHUTTING_DOWN'), this.#adapter.timers);
      return Promise.resolve(null);
    }
    return this.#admitted(socket, (deadline) => this.#upgradeRead(socket, deadline, head, rest, request, listener, handOver));
  }

  async #upgradeRead(
    socket: EngineSocket,
    deadline: HandshakeDeadline<string>,
    head: RequestHead,
    rest: Uint8Array,
    request: R,
    listener: ListenerInfo,
    handOver: ((pending: PendingConnection<ServerConnection>, request: R) => void) | undefined,
  ): Promise<ServerConnection | null> {
    const refuse = (refusal: HandshakeRefusal): null => {
      refuseSocket(socket, refusal, this.#adapter.timers);
      this.#rejected({ status: refusal.status, code: refusal.code, error: refusal.error, request });
      return null;
    };
    const held = new HeldAfterHead(socket, rest);
    let url: URL;
    try {
      url = requestUrl(head, listener.secure ? 'wss' : 'ws', listener.authority);
    } catch (error) {
      return refuse(ServerHandshake.refusalOf(error));
    }
    const handshake = new ServerHandshake({ sha1: this.#adapter.sha1 });
    return await this.#decide(socket, held, held.gone, handshake, head, url, () => request, deadline, refuse, handOver);
  }

  /**
   * The accepted connections, as they come, when there is no handler; ends at shutdown.
   */
  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection<R, ServerConnection>> {
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

  #rejected(info: RejectionInfo<R | undefined>): void {
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
  async #handle(socket: EngineSocket, deadline: HandshakeDeadline<string>): Promise<ServerConnection | null> {
    const options = this.options;
    const adapter = this.#adapter;
    const { secure, authority } = this.#listener;
    let head: RequestHead | undefined;
    let request: R | undefined;
    const requestFor = (h: RequestHead): R => (request ??= this.#requestOf(h, secure, authority));
    const safeRequest = (): R | undefined => {
      try {
        return head === undefined ? undefined : requestFor(head);
      } catch {
        return undefined;
      }
    };
    const refuse = (refusal: HandshakeRefusal): null => {
      refuseSocket(socket, refusal, adapter.timers);
      // The request is built for onReject only.
      if (options.onReject !== undefined) this.#rejected({ status: refusal.status, code: refusal.code, error: refusal.error, request: safeRequest() });
      return null;
    };
    // The codec decides on the bytes; this engine only moves them and applies the policy.
    const handshake = new ServerHandshake({ maxHeadSize: options.maxHeadSize, sha1: adapter.sha1 });
    const reader = new HeadReader(socket, (chunk) => handshake.receive(chunk));
    const read = await deadline.settle(reader.head);
    if ('stopped' in read) return refuse(dropped(read.stopped));
    if ('error' in read) {
      // A socket that closes having sent nothing (a port probe) is no refused upgrade.
      const error = read.error;
      if (error instanceof ConnectionLostError && error.bytesReceived === 0) {
        socket.destroy();
        return null;
      }
      return refuse(dropped('SOCKET_CLOSED', error));
    }
    const step = read.value;
    if (step.kind === 'refuse') return refuse(step);
    const requestHead = (head = step.head);

    let url: URL;
    try {
      url = requestUrl(requestHead, secure ? 'wss' : 'ws', authority);
    } catch (error) {
      return refuse(ServerHandshake.refusalOf(error));
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
      if ('stopped' in outcome) return refuse(dropped(outcome.stopped));
      if ('value' in outcome && outcome.value.error !== undefined) {
        const e = outcome.value.error;
        this.#rejected({ status: e.status, code: e.code, error: e, request: undefined });
      }
      return null;
    }
    if (!upgrade) {
      return refuse(ServerHandshake.refuse(UPGRADE_REQUIRED.status, 'UPGRADE_REQUIRED', { headers: UPGRADE_REQUIRED.headers, body: UPGRADE_REQUIRED.body }));
    }

    return await this.#decide(socket, reader, reader.gone, handshake, requestHead, url, () => requestFor(requestHead), deadline, refuse, undefined);
  }

  /** The upgrade decision on a head read, then the 101 and the connection handed over. */
  async #decide(
    socket: EngineSocket,
    leftovers: HeadLeftovers,
    gone: Promise<void>,
    handshake: ServerHandshake,
    head: RequestHead,
    url: URL,
    requestFor: () => R,
    deadline: HandshakeDeadline<string>,
    refuse: (refusal: HandshakeRefusal) => null,
    handOver: ((pending: PendingConnection<ServerConnection>, request: R) => void) | undefined,
  ): Promise<ServerConnection | null> {
    const options = this.options;
    const adapter = this.#adapter;
    const decision = await decideUpgrade(
      {
        head,
        target: head.target,
        request: requestFor,
        describe: () => ({
          url,
          headers: headersOf(head.rawHeaders),
          cookies: parseCookies(fieldValues(head.rawHeaders, 'cookie')),
          remoteAddress: socket.remoteAddress,
        }),
      },
      options,
      {
        timers: adapter.timers,
        // The head is read: without an authorize hook nothing left can stall, so the policy
        // decides at once; with one, the hook races this handshake's deadline.
        deadline,
        signal: this.#shutdown.signal,
        deflateEngine: adapter.deflateEngine,
        handshake,
        watch: (drop) => void gone.then(() => drop('SOCKET_CLOSED')),
        closed: () => socket.closed,
      },
    );
    if (decision.kind === 'refuse') return refuse(decision);
    const accepted = decision.decision;
    socket.write(accepted.response);
    const pending = bindConnection(socket, this.#connectionOptions(accepted.protocol, accepted.extensionHeader), leftovers, this.#make);
    this.#peers.set(pending.connection, socket);
    if (handOver === undefined) this.#hub.deliver(pending, decision.request, socket);
    else {
      this.#hub.adopt(pending.connection);
      handOver(pending, decision.request());
    }
    return pending.connection;
  }
}
