/**
 * The in-memory WebSocket test server: a server addressed by URL that runs the one server
 * engine of `@wsflow/engine` over an in-memory socket adapter, so a handler written for
 * `serve()` runs in it unchanged, under the same options and policies; scriptable
 * besides (handshakes held, raw frames, paused reading), with timed waits, a JSON mode and
 * a global clean-up — in Node, Deno, Bun or a browser, with or without fake timers.
 * @module
 */
import { HttpHeadParser, type ByteDuplex, type CloseInfo, type RequestHead, type SendData } from '@wsflow/codec';
import {
  type ServerConnection,
  ServerEngine,
  checkServerOptions,
  isWebSocketUpgrade,
  requestOf,
  type AuthorizeRequest,
  type AuthorizeResult,
  type PublishData,
  type PublishOptions,
  type PublishStats,
  type RejectionInfo,
  type RuntimeAdapter,
  type ServerOptions,
  type UpgradeRejection,
} from '@wsflow/engine';
import { noteActivity, settle, track } from './activity.ts';
import { Cursor } from './cursor.ts';
import { installGlobals, type InstalledClasses } from './install.ts';
import { defaultNetwork, endpointKey, type IncomingConnectionInfo, type MemoryEndpoint, type MemoryNetwork } from './memory_network.ts';
import { MemorySocket } from './memory_socket.ts';
import { TestConnection, type TestMessage } from './test_connection.ts';
import { TestHandshake, type HandshakeAnswer } from './test_handshake.ts';
import { checkWaitTimeout, realTimers, showMessages, timeoutOf, type WaitOptions } from './wait.ts';
import { WebSocket, createWebSocketClass } from './websocket.ts';
import { WebSocketError } from './websocket_error.ts';
import { WebSocketStream, createWebSocketStreamClass } from './websocket_stream.ts';
import { useWebSocketScheme } from './websocket_url.ts';

/**
 * Options of a {@link TestServer}: every option of `serve()` (the same names and meanings,
 * checked by the engine — an unknown one is a TypeError), and the test server's own.
 */
export interface TestServerOptions<M = TestMessage> extends ServerOptions {
  /** The network to listen on. Default: the one the package's `WebSocket` dials. */
  network?: MemoryNetwork;
  /**
   * A shorthand for `handleProtocols`: the subprotocols supported (the client's first that
   * is among them is selected), or a function of the offer and the {@link TestHandshake}.
   * Give one of `protocols` and `handleProtocols`. Default: none selected, as `serve()`.
   */
  protocols?: readonly string[] | ((offered: readonly string[], handshake: TestHandshake) => string | null | undefined);
  /**
   * Accept handshakes by itself (after `onhandshake`, if given, returns or its promise
   * resolves, unless it answered). With false, each waits for `accept()`, `reject()` or
   * `drop()`; get them from `nextHandshake()`. Default true.
   */
  autoAccept?: boolean;
  /** Called with each handshake before it is answered; return a promise to delay it. */
  onhandshake?: (handshake: TestHandshake) => void | Promise<void>;
  /** Called with each new connection (before `handler`). */
  onconnection?: (connection: TestConnection<M>) => void;
  /** Send every message received back to its sender. Default false. */
  echo?: boolean;
  /** JSON mode: text messages are parsed as JSON when received, and `send` serializes. Default false. */
  json?: boolean;
  /** Default timeout (ms) of this server's waits. Default: {@link configureTestKit}'s (2000). */
  timeout?: number;
}

/** The option names a TestServer takes besides those of `serve()`. */
export const TEST_SERVER_OPTION_NAMES: readonly string[] = ['network', 'protocols', 'autoAccept', 'onhandshake', 'onconnection', 'echo', 'json', 'timeout'];

const ignore = (): void => {};

const classesByNetwork = new WeakMap<MemoryNetwork, InstalledClasses>();

/** The `WebSocket` and `WebSocketStream` classes that dial `network`. */
export function classesFor(network: MemoryNetwork): InstalledClasses {
  if (network === defaultNetwork) return { WebSocket, WebSocketStream, WebSocketError };
  let classes = classesByNetwork.get(network);
  if (classes === undefined) {
    classes = {
      WebSocket: createWebSocketClass({ dialer: network.dialer }),
      WebSocketStream: createWebSocketStreamClass({ dialer: network.dialer }),
      WebSocketError,
    };
    classesByNetwork.set(network, classes);
  }
  return classes;
}

/**
 * The runtime adapter of the in-memory sockets: the host's real timers (fake timers do not
 * stall handshakes). No `sha1`: the codec's own is synchronous, so handshakes are answered
 * in the order they were decided.
 */
const memoryAdapter: RuntimeAdapter = {
  timers: realTimers,
  mutableInput: false,
  later: (callback) => void realTimers.setTimeout(callback, 0),
  // A promise job: `flush()` settles with those (and fake timers cannot stall it).
  flushPublished: (callback) => void Promise.resolve().then(callback),
};

/** What the test server knows of one handshake, between its head and its connection. */
interface HandshakeContext {
  socket: MemorySocket;
  handshake: TestHandshake;
  /** The head read, and the bytes that followed it in the same chunk. */
  head: RequestHead;
  rest: Uint8Array;
  /** The test's choice of subprotocol (`accept({ protocol })`), if it made one. */
  protocol?: string | null;
  /** The test's refusal (`reject()`), carried out by the engine as an `authorize` refusal. */
  rejection?: UpgradeRejection;
  opened: (connection: TestConnection) => void;
  refused: (error: Error) => void;
  connection: Promise<TestConnection>;
}

/** Every TestServer not yet stopped, for {@link resetTestServers}. */
const liveServers = new Set<{ dropAll(): void }>();

/**
 * Drops every TestServer still listening (and every connection of it, without a closing
 * handshake) and restores the globals they installed. Call it after each test — the
 * `@wsflow/testing/vitest` entry does — so that no server leaks into the next.
 * @example
 * ```ts
 * afterEach(resetTestServers);
 * ```
 */
export function resetTestServers(): Promise<void> {
  for (const server of [...liveServers]) server.dropAll();
  return settle();
}

/**
 * An in-memory WebSocket server listening on a URL, running the server engine of
 * `@wsflow/engine` (the one behind `serve()` on every runtime) over in-memory sockets.
 *
 * A `WebSocket` (or `WebSocketStream`) of this package — or `globalThis.WebSocket` after
 * {@link install} — connects to it through a duplex pair: the codec's client handshake,
 * the engine's upgrade policy, and real frames both ways, masked by the client. Handshakes
 * and frames run on microtasks and the host's real timers, so tests work under
 * `vi.useFakeTimers()`; `flush()` waits until everything in flight has arrived and every
 * event has fired. Every wait times out with a message naming what it waited for.
 *
 * @example
 * ```ts
 * // the handler of production code, unchanged:
 * const handler: ConnectionHandler = (conn) => { conn.onmessage = (m) => conn.send(`echo: ${m}`); };
 * const server = new TestServer('ws://example.test/chat', { handler, allowedOrigins: ['https://app.test'] });
 * const ws = new WebSocket('ws://example.test/chat');
 * const client = await server.nextConnection();
 * ws.onopen = () => ws.send('hello');
 * expect(await client.nextMessage()).toBe('hello');
 * server.stop();
 * ```
 */
export class TestServer<M = TestMessage> implements MemoryEndpoint {
  /** The URL it listens on (`http:`/`https:` mapped to `ws:`/`wss:`; a query is ignored when matching). */
  readonly url: URL;
  /** The network it listens on. */
  readonly network: MemoryNetwork;
  /** Every connection accepted, in order, open or not. */
  readonly connections: TestConnection<M>[] = [];
  /** Every handshake received, in order. */
  readonly handshakes: TestHandshake[] = [];
  /** Every message received from any connection, in order. */
  readonly messages: M[] = [];
  /** Called with each handshake before it is answered (see {@link TestServerOptions.onhandshake}). */
  onhandshake: ((handshake: TestHandshake) => void | Promise<void>) | null;
  /** Called with each new connection. */
  onconnection: ((connection: TestConnection<M>) => void) | null;
  /** The engine behind it, as `serve()` would make it. */
  readonly engine: ServerEngine;

  readonly #options: TestServerOptions<M>;
  readonly #timeout: number | undefined;
  readonly #connectionCursor: Cursor<TestConnection<M>>;
  readonly #handshakeCursor: Cursor<TestHandshake>;
  readonly #messageCursor: Cursor<M>;
  /**
   * The context of each handshake, by the `Request` of its {@link TestHandshake}: the engine
   * takes a parsed head with that very object (`engine.upgrade`), and hands it to every hook
   * and to the handler.
   */
  readonly #byRequest = new WeakMap<Request, HandshakeContext>();
  #listening = true;
  #uninstall: (() => void) | null = null;
  readonly #firstCursor: Cursor<TestConnection<M>>;
  #firstConnection: Promise<TestConnection<M>> | null = null;

  /**
   * Listens on `url`.
   * @throws {TypeError} for a URL that is not ws:, wss:, http: or https:, an unknown
   *   option, or both `protocols` and `handleProtocols`
   * @throws {RangeError} for an option out of range (as `serve()`)
   * @throws Error if a server already listens there
   */
  constructor(url: string | URL, options: TestServerOptions<M> = {}) {
    const parsed = new URL(url);
    useWebSocketScheme(parsed);
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new TypeError(`A TestServer listens on a ws: or wss: URL, not ${parsed.protocol}`);
    const checked = checkServerOptions('TestServer', options, TEST_SERVER_OPTION_NAMES);
    if (options.protocols !== undefined && options.handleProtocols !== undefined) {
      throw new TypeError('TestServer: give "handleProtocols" or its shorthand "protocols", not both');
    }
    if (options.protocols !== undefined && typeof options.protocols !== 'function' && !Array.isArray(options.protocols)) {
      throw new TypeError('TestServer: option "protocols" must be a list of subprotocols or a function');
    }
    this.#timeout = options.timeout === undefined ? undefined : checkWaitTimeout(options.timeout);
    this.url = parsed;
    this.network = options.network ?? defaultNetwork;
    this.#options = checked;
    this.onhandshake = options.onhandshake ?? null;
    this.onconnection = options.onconnection ?? null;
    this.#connectionCursor = new Cursor(this.connections);
    this.#firstCursor = new Cursor(this.connections);
    this.#handshakeCursor = new Cursor(this.handshakes);
    this.#messageCursor = new Cursor(this.messages);
    const engineOptions: ServerOptions = { ...checked };
    for (const name of TEST_SERVER_OPTION_NAMES) delete (engineOptions as Record<string, unknown>)[name];
    engineOptions.handler = (conn, request) => this.#handle(conn, request);
    engineOptions.handleProtocols = (offered, request) => this.#selectProtocol(offered, request);
    engineOptions.authorize = (request) => this.#authorize(request);
    engineOptions.onReject = (info) => this.#rejected(info);
    this.engine = new ServerEngine(engineOptions, memoryAdapter, { secure: parsed.protocol === 'wss:', authority: parsed.host });
    this.network.listen(parsed, this);
    liveServers.add(this);
  }

  /** The `WebSocket` class that dials this server's network (the package's own on the default network). */
  get WebSocket(): typeof WebSocket {
    return classesFor(this.network).WebSocket;
  }

  /** The `WebSocketStream` class that dials this server's network. */
  get WebSocketStream(): typeof WebSocketStream {
    return classesFor(this.network).WebSocketStream;
  }

  /** The connections that are not closed yet. */
  get openConnections(): TestConnection<M>[] {
    return this.connections.filter((c) => c.state !== 'closed');
  }

  /** Whether it still accepts connections (until {@link stop} or {@link close}). */
  get listening(): boolean {
    return this.#listening;
  }

  /** Whether messages are JSON (the `json` option). */
  get json(): boolean {
    return this.#options.json === true;
  }

  /**
   * The default timeout (ms) of its waits and of its connections': the `timeout` option,
   * else the test kit's (see {@link configureTestKit}) at the time of asking.
   * @example
   * ```ts
   * new TestServer('ws://example.test/', { timeout: 500 }).timeout; // 500
   * ```
   */
  get timeout(): number {
    return timeoutOf({}, this.#timeout);
  }

  /** How failures name it: `TestServer ws://example.test/`. */
  get label(): string {
    return `TestServer ${this.url.href}`;
  }

  /** The first connection (as jest-websocket-mock's `server.connected`), within the default timeout. */
  get connected(): Promise<TestConnection<M>> {
    this.#firstConnection ??= this.#firstCursor.next(timeoutOf({}, this.#timeout), (t) => `${this.label}: no client connected within ${t} ms (handshakes so far: ${this.handshakes.length})`);
    this.#firstConnection.catch(ignore);
    return this.#firstConnection;
  }

  /**
   * The next connection not yet returned by `nextConnection()`: an accepted one, or the next to be.
   * @throws WaitTimeoutError (rejects) if none comes within the timeout
   */
  nextConnection(options: WaitOptions = {}): Promise<TestConnection<M>> {
    return this.#connectionCursor.next(timeoutOf(options, this.#timeout), (t) => `${this.label}: no connection within ${t} ms (connections so far: ${this.connections.length}, handshakes: ${this.handshakes.length})`);
  }

  /**
   * The next handshake not yet returned by `nextHandshake()` (for `autoAccept: false`).
   * @throws WaitTimeoutError (rejects) if none comes within the timeout
   */
  nextHandshake(options: WaitOptions = {}): Promise<TestHandshake> {
    return this.#handshakeCursor.next(timeoutOf(options, this.#timeout), (t) => `${this.label}: no handshake within ${t} ms (handshakes so far: ${this.handshakes.length})`);
  }

  /**
   * The next message, from any connection, not yet returned by `nextMessage()`.
   * @throws WaitTimeoutError (rejects) if none comes within the timeout, naming those received so far
   */
  nextMessage(options: WaitOptions = {}): Promise<M> {
    return this.#messageCursor.next(timeoutOf(options, this.#timeout), (t) => `${this.label}: no message within ${t} ms (received so far: ${showMessages(this.messages)})`);
  }

  /**
   * Sends a message to every open connection (in JSON mode, any value as its JSON).
   * @returns how many connections it was sent to
   */
  send(data: M | SendData): number {
    let count = 0;
    for (const connection of this.connections) {
      if (connection.state !== 'open') continue;
      connection.send(data);
      count++;
    }
    return count;
  }

  /**
   * Publishes `data` on `topic`, framed once, to every connection subscribed to it (see
   * {@link TestConnection.subscribe}), and through the `backplane` to other servers': the
   * engine's own `publish`, as a `serve` server's.
   * @returns the number of this server's subscribers the message was queued to
   * @throws TypeError for a topic that is not a string, data that is neither a string, an
   *   `ArrayBuffer` nor an `ArrayBufferView`, or an unknown option
   * @example
   * ```ts
   * const server = new TestServer('ws://example.test/', { handler: (conn) => void conn.subscribe('news') });
   * const ws = new WebSocket('ws://example.test/');
   * await server.connected;
   * server.publish('news', 'extra!'); // 1
   * ```
   */
  publish(topic: string, data: PublishData, options?: PublishOptions): number {
    noteActivity();
    return this.engine.publish(topic, data, options);
  }

  /**
   * How many of this server's connections are subscribed to `topic`.
   * @throws TypeError for a topic that is not a string
   * @example
   * ```ts
   * expect(server.subscriberCount('room')).toBe(2);
   * ```
   */
  subscriberCount(topic: string): number {
    return this.engine.subscriberCount(topic);
  }

  /**
   * The publish counters, as a `serve` server's `publishStats`.
   * @example
   * ```ts
   * expect(server.publishStats.skipped).toBe(0);
   * ```
   */
  get publishStats(): PublishStats {
    return this.engine.publishStats;
  }

  /**
   * Resolves once nothing is in flight on the in-memory networks: handshakes answered,
   * frames delivered, events fired. Needs no timers, so it works under fake timers.
   */
  flush(): Promise<void> {
    return settle();
  }

  /**
   * Stops listening, then closes every open connection with `code` (default 1001, going
   * away) and `reason`, and drops pending handshakes. Resolves when all are closed.
   */
  async close(code = 1001, reason = ''): Promise<CloseInfo[]> {
    const open = this.openConnections;
    const closing = this.engine.close({ closeCode: code, reason }); // throws first for a bad code
    closing.catch(ignore);
    this.stop();
    for (const handshake of this.handshakes) handshake.drop();
    return Promise.all(open.map((connection) => connection.raw.closed));
  }

  /** Stops listening and drops every connection without a closing handshake (clients see 1006). */
  dropAll(): void {
    this.stop();
    for (const handshake of this.handshakes) handshake.drop();
    for (const connection of this.connections) connection.drop();
    this.engine.close().catch(ignore);
  }

  /** Stops listening: new connections are refused; open ones stay. Uninstalls the globals it installed. */
  stop(): void {
    if (!this.#listening) return;
    this.#listening = false;
    liveServers.delete(this);
    this.network.unlisten(this.url, this);
    const stopped = () => new Error(`${this.label} was stopped`);
    this.#connectionCursor.close(stopped);
    this.#firstCursor.close(stopped);
    this.#handshakeCursor.close(stopped);
    this.uninstall();
  }

  /**
   * Sets `globalThis.WebSocket`, `WebSocketStream` and `WebSocketError` (and `CloseEvent`
   * where the runtime lacks it) to the classes that dial this server's network, so code
   * under test that uses the globals reaches it. Undone by {@link uninstall}, {@link stop}
   * or {@link resetTestServers}.
   */
  install(): this {
    if (this.#uninstall === null) this.#uninstall = installGlobals(classesFor(this.network));
    return this;
  }

  /** Restores the globals {@link install} replaced. */
  uninstall(): void {
    const uninstall = this.#uninstall;
    this.#uninstall = null;
    uninstall?.();
  }

  // ---- MemoryEndpoint ---------------------------------------------------------------

  /** {@link MemoryEndpoint}: takes the server end of a new in-memory connection (the network calls it). */
  acceptConnection(duplex: ByteDuplex, info: IncomingConnectionInfo): { drop(reason: unknown): void } {
    const socket = new MemorySocket(duplex.readable.getReader(), duplex.writable.getWriter());
    // The head is read here, so that a test can hold the handshake as long as it likes
    // before the engine (and its handshake deadline) sees it; then the engine takes it as
    // read (`#enter`), or replays it when it is no upgrade the test can look at.
    const chunks: Uint8Array[] = [];
    const parser = new HttpHeadParser('request', { maxHeadSize: this.#options.maxHeadSize });
    let done = false;
    let handshake: TestHandshake | undefined;
    socket.receiver = {
      receive: (chunk) => {
        chunks.push(chunk);
        if (done) return;
        let result;
        try {
          result = parser.push(chunk);
        } catch {
          // Not a head the test can look at: the engine refuses it, as serve() would.
          done = true;
          this.#toEngine(socket, chunks);
          return;
        }
        if (result === null) return;
        done = true;
        socket.hold();
        handshake = this.#arrived(socket, chunks, result.head, result.rest, info);
      },
      receiveEnd: () => {
        if (!done) socket.destroy(); // the client went away
      },
      transportClosed: () => {},
      drain: () => {},
    };
    return {
      drop: () => {
        // The client gave up while connecting: a handshake still held is dropped.
        handshake?.drop();
        socket.destroy();
      },
    };
  }

  /** Replays what was read ahead for the engine to read the head itself, as `serve()` does. */
  #toEngine(socket: MemorySocket, chunks: Uint8Array[]): void {
    socket.unread(chunks.splice(0));
    this.engine.accept(socket);
  }

  /**
   * Hands an answered handshake to the engine: an upgrade with the head already read and
   * the handshake's own `Request`; a plain request (for `fetch`, or a 426) by its bytes.
   */
  #enter(context: HandshakeContext, chunks: Uint8Array[]): void {
    const { fetch, path } = this.#options;
    const request = context.handshake.request;
    const forFetch = fetch !== undefined && path !== undefined && new URL(request.url).pathname !== path;
    if (!isWebSocketUpgrade(context.head) || forFetch) this.#toEngine(context.socket, chunks);
    else void this.engine.upgrade(context.socket, context.head, context.rest, request);
  }

  /** The context of a request the engine's hook sees. */
  #contextOf(request: Request | undefined): HandshakeContext | undefined {
    return request === undefined ? undefined : this.#byRequest.get(request);
  }

  #arrived(socket: MemorySocket, chunks: Uint8Array[], head: RequestHead, rest: Uint8Array, info: IncomingConnectionInfo): TestHandshake | undefined {
    let request: Request;
    try {
      request = requestOf(head, this.url.protocol === 'wss:', this.url.host);
    } catch {
      this.#toEngine(socket, chunks);
      return undefined;
    }
    let context: HandshakeContext | undefined;
    const handshake = new TestHandshake({
      url: info.url,
      head,
      request,
      answer: (answer) => this.#answer(socket, chunks, context, answer, info),
    });
    let opened!: (connection: TestConnection) => void;
    let refused!: (error: Error) => void;
    const connection = new Promise<TestConnection>((resolve, reject) => {
      opened = resolve;
      refused = reject;
    });
    connection.catch(ignore);
    context = { socket, handshake, head, rest, opened, refused, connection };
    this.#byRequest.set(request, context);
    void socket.gone.then(() => refused(new Error(`${this.label}: the handshake ended without a connection`)));
    this.handshakes.push(handshake);
    this.#handshakeCursor.added();
    let delay: void | Promise<void> = undefined;
    try {
      delay = this.onhandshake?.(handshake);
    } catch (error) {
      void Promise.reject(error);
    }
    if (this.#options.autoAccept === false) return handshake;
    void (async () => {
      if (delay !== undefined) {
        try {
          await delay;
        } catch (error) {
          void Promise.reject(error);
        }
      }
      if (handshake.state === 'pending') handshake.accept().catch(ignore);
    })();
    return handshake;
  }

  #answer(socket: MemorySocket, chunks: Uint8Array[], context: HandshakeContext | undefined, answer: HandshakeAnswer, info: IncomingConnectionInfo): Promise<TestConnection> | void {
    if (context === undefined) return;
    switch (answer.kind) {
      case 'drop':
        socket.destroy();
        return;
      case 'raw':
        socket.write(answer.bytes);
        socket.endThenDrop();
        void track(info.clientHandshake);
        return;
      case 'reject':
        context.rejection = answer.rejection;
        break;
      case 'accept':
        if (answer.protocol !== undefined) context.protocol = answer.protocol;
        break;
    }
    if (socket.closed) {
      context.refused(new Error(`${this.label}: the client went away before the handshake was answered`));
    } else {
      // The engine decides now (Web Crypto included): flush() waits for its answer, then
      // for the client's check of it.
      void track(socket.answered.then(() => track(info.clientHandshake)));
      this.#enter(context, chunks);
    }
    return context.connection;
  }

  #selectProtocol(offered: string[], request: Request): string | null | undefined {
    const context = this.#contextOf(request);
    if (context?.protocol !== undefined) return context.protocol;
    const { handleProtocols, protocols } = this.#options;
    if (handleProtocols !== undefined) return handleProtocols(offered, request);
    if (protocols === undefined) return null;
    if (typeof protocols === 'function') {
      if (context === undefined) return null;
      return protocols(offered, context.handshake);
    }
    return offered.find((p) => protocols.includes(p)) ?? null;
  }

  async #authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const context = this.#contextOf(request.request);
    if (context?.rejection !== undefined) return context.rejection;
    return this.#options.authorize?.(request);
  }

  #rejected(info: RejectionInfo): void {
    const context = this.#contextOf(info.request);
    context?.refused(new Error(`${this.label}: the engine refused the handshake with ${info.status === 0 ? 'a drop' : info.status} (${info.code})`));
    this.#options.onReject?.(info);
  }

  /** The engine's handler: records the connection, then runs the user's `handler` on it unchanged. */
  #handle(conn: ServerConnection, request: Request): unknown {
    const context = this.#contextOf(request);
    const options = this.#options;
    const connection = new TestConnection<M>({
      connection: conn,
      socket: context?.socket ?? new MemorySocket(new ReadableStream<Uint8Array>().getReader(), new WritableStream<Uint8Array>().getWriter()),
      url: context?.handshake.url ?? new URL(request.url.replace(/^http/, 'ws')),
      request,
      headers: context?.handshake.headers ?? request.headers,
      label: `${this.label} connection #${this.connections.length + 1}`,
      json: options.json === true,
      timeout: this.#timeout,
      onmessage: (message, from) => {
        this.messages.push(message);
        this.#messageCursor.added();
        if (options.echo === true && from.state === 'open') from.send(message);
      },
    });
    this.connections.push(connection);
    this.#connectionCursor.added();
    this.#firstCursor.added();
    noteActivity();
    context?.opened(connection as unknown as TestConnection);
    try {
      this.onconnection?.(connection);
    } catch (error) {
      void Promise.reject(error);
    }
    return options.handler?.(conn, request);
  }
}
