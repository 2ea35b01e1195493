/**
 * The in-memory WebSocket test server: a scriptable server addressed by URL whose
 * handshakes and frames go through the real codec both ways, for testing code that uses
 * `WebSocket` or `WebSocketStream` — in Node, Deno, Bun or a browser, with or without
 * fake timers.
 * @module
 */
import {
  HandshakeError,
  HttpHeadParser,
  buildRejection,
  encodeUtf8,
  type ByteDuplex,
  type CloseInfo,
  type Limits,
  type RequestHead,
  type SendData,
} from '@wsflow/codec';
import { ServerConnection, TopicHub, type Backplane, type PublishBackpressure, type PublishData, type PublishOptions, type PublishStats } from '@wsflow/engine';
import { noteActivity, settle } from './activity.ts';
import { installGlobals, type InstalledClasses } from './install.ts';
import { defaultNetwork, endpointKey, type IncomingConnectionInfo, type MemoryEndpoint, type MemoryNetwork } from './memory_network.ts';
import { ServerTransport } from './server_transport.ts';
import { TestConnection, type TestMessage } from './test_connection.ts';
import { TestHandshake } from './test_handshake.ts';
import { WebSocket, createWebSocketClass } from './websocket.ts';
import { WebSocketError } from './websocket_error.ts';
import { WebSocketStream, createWebSocketStreamClass } from './websocket_stream.ts';

/** Options of a {@link TestServer}. */
export interface TestServerOptions extends Limits {
  /** The network to listen on. Default: the one the package's `WebSocket` dials. */
  network?: MemoryNetwork;
  /**
   * How the server selects a subprotocol when it accepts: the ones it supports (the
   * client's first that is among them), or a function. Default: the client's first.
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
  /** Called with each new connection. */
  onconnection?: (connection: TestConnection) => void;
  /** Send every message received back to its sender. Default false. */
  echo?: boolean;
  /**
   * Joins this server's topics with other servers' (as `serve`'s option): give each its
   * own `new LocalBackplane().join()` member to test code that runs on several instances.
   * Closed by {@link TestServer.close} and {@link TestServer.dropAll}. Default: none.
   */
  backplane?: Backplane;
  /** What publishing does for a subscriber that does not read (as `serve`'s option). Default: skip past 16 MiB. */
  publishBackpressure?: PublishBackpressure;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

const ignore = (): void => {};

/** A cursor over an append-only list: `next()` returns the next item not yet returned. */
class Cursor<T> {
  readonly #items: T[];
  #position = 0;
  #waiters: Array<Waiter<T>> = [];
  #closed: (() => Error) | null = null;

  constructor(items: T[]) {
    this.#items = items;
  }

  next(): Promise<T> {
    if (this.#position < this.#items.length) return Promise.resolve(this.#items[this.#position++]);
    if (this.#closed !== null) return Promise.reject(this.#closed());
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** An item was appended to the list. */
  added(): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(this.#items[this.#position++]);
  }

  /** No more items will come: waiting and later calls reject. */
  close(error: () => Error): void {
    this.#closed = error;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error());
  }
}

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
 * An in-memory WebSocket server listening on a URL.
 *
 * A `WebSocket` (or `WebSocketStream`) of this package — or `globalThis.WebSocket` after
 * {@link install} — connects to it through a duplex pair: the codec's client handshake,
 * the codec's server-side validation, and real frames both ways, masked by the client.
 * Delivery runs on microtasks only, so tests work under `vi.useFakeTimers()`; `flush()`
 * waits until everything in flight has arrived and every event has fired.
 *
 * @example
 * ```ts
 * const server = new TestServer('ws://example.test/chat');
 * const ws = new WebSocket('ws://example.test/chat');
 * const client = await server.nextConnection();
 * ws.onopen = () => ws.send('hello');
 * expect(await client.nextMessage()).toBe('hello');
 * client.send('welcome');
 * await server.flush();
 * client.close(4000, 'bye');
 * await server.flush();
 * expect(ws.readyState).toBe(WebSocket.CLOSED);
 * server.stop();
 * ```
 */
export class TestServer implements MemoryEndpoint {
  /** The URL it listens on (`http:`/`https:` mapped to `ws:`/`wss:`; a query is ignored when matching). */
  readonly url: URL;
  /** The network it listens on. */
  readonly network: MemoryNetwork;
  /** Every connection accepted, in order, open or not. */
  readonly connections: TestConnection[] = [];
  /** Every handshake received, in order. */
  readonly handshakes: TestHandshake[] = [];
  /** Every message received from any connection, in order. */
  readonly messages: TestMessage[] = [];
  /** Called with each handshake before it is answered (see {@link TestServerOptions.onhandshake}). */
  onhandshake: ((handshake: TestHandshake) => void | Promise<void>) | null;
  /** Called with each new connection. */
  onconnection: ((connection: TestConnection) => void) | null;

  readonly #options: TestServerOptions;
  readonly #topics: TopicHub;
  readonly #connectionCursor: Cursor<TestConnection>;
  readonly #handshakeCursor: Cursor<TestHandshake>;
  readonly #messageCursor: Cursor<TestMessage>;
  #listening = true;
  #uninstall: (() => void) | null = null;
  readonly #firstCursor: Cursor<TestConnection>;
  #firstConnection: Promise<TestConnection> | null = null;

  /**
   * Listens on `url`.
   * @throws {TypeError} for a URL that is not ws:, wss:, http: or https:
   * @throws Error if a server already listens there
   */
  constructor(url: string | URL, options: TestServerOptions = {}) {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
    else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new TypeError(`A TestServer listens on a ws: or wss: URL, not ${parsed.protocol}`);
    this.url = parsed;
    this.network = options.network ?? defaultNetwork;
    this.#options = options;
    this.#topics = new TopicHub(options);
    this.onhandshake = options.onhandshake ?? null;
    this.onconnection = options.onconnection ?? null;
    this.#connectionCursor = new Cursor(this.connections);
    this.#firstCursor = new Cursor(this.connections);
    this.#handshakeCursor = new Cursor(this.handshakes);
    this.#messageCursor = new Cursor(this.messages);
    this.network.listen(parsed, this);
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
  get openConnections(): TestConnection[] {
    return this.connections.filter((c) => c.state !== 'closed');
  }

  /** Whether it still accepts connections (until {@link stop} or {@link close}). */
  get listening(): boolean {
    return this.#listening;
  }

  /** The first connection (as jest-websocket-mock's `server.connected`). */
  get connected(): Promise<TestConnection> {
    this.#firstConnection ??= this.#firstCursor.next();
    return this.#firstConnection;
  }

  /** The next connection not yet returned by `nextConnection()`: an accepted one, or the next to be. */
  nextConnection(): Promise<TestConnection> {
    return this.#connectionCursor.next();
  }

  /** The next handshake not yet returned by `nextHandshake()` (for `autoAccept: false`). */
  nextHandshake(): Promise<TestHandshake> {
    return this.#handshakeCursor.next();
  }

  /** The next message, from any connection, not yet returned by `nextMessage()`. */
  nextMessage(): Promise<TestMessage> {
    return this.#messageCursor.next();
  }

  /**
   * Sends a message to every open connection.
   * @returns how many connections it was sent to
   */
  send(data: SendData): number {
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
   * {@link TestConnection.subscribe}), and through the `backplane` to other servers', as
   * a `serve` server's `publish` does.
   * @returns the number of this server's subscribers the message was queued to
   * @throws TypeError for a topic that is not a string, data that is neither a string, an
   *   `ArrayBuffer` nor an `ArrayBufferView`, or an unknown option
   * @example
   * ```ts
   * const server = new TestServer('ws://example.test/', { onconnection: (c) => void c.subscribe('news') });
   * const ws = new WebSocket('ws://example.test/');
   * await server.connected;
   * server.publish('news', 'extra!'); // 1
   * ```
   */
  publish(topic: string, data: PublishData, options?: PublishOptions): number {
    noteActivity();
    return this.#topics.publish(topic, data, options);
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
    return this.#topics.subscriberCount(topic);
  }

  /**
   * The publish counters, as a `serve` server's `publishStats`.
   * @example
   * ```ts
   * expect(server.publishStats.skipped).toBe(0);
   * ```
   */
  get publishStats(): PublishStats {
    return this.#topics.stats;
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
    this.stop();
    void this.#topics.close();
    for (const handshake of this.handshakes) handshake.drop();
    return Promise.all(this.openConnections.map((connection) => connection.close(code, reason)));
  }

  /** Stops listening and drops every connection without a closing handshake (clients see 1006). */
  dropAll(): void {
    this.stop();
    void this.#topics.close();
    for (const handshake of this.handshakes) handshake.drop();
    for (const connection of this.connections) connection.drop();
  }

  /** Stops listening: new connections are refused; open ones stay. Uninstalls the globals it installed. */
  stop(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.network.unlisten(this.url, this);
    const stopped = () => new Error(`the TestServer at ${endpointKey(this.url)} was stopped`);
    this.#connectionCursor.close(stopped);
    this.#firstCursor.close(stopped);
    this.#handshakeCursor.close(stopped);
    this.uninstall();
  }

  /**
   * Sets `globalThis.WebSocket`, `WebSocketStream` and `WebSocketError` (and `CloseEvent`
   * where the runtime lacks it) to the classes that dial this server's network, so code
   * under test that uses the globals reaches it. Undone by {@link uninstall} or {@link stop}.
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

  /** @internal Takes the server end of a new in-memory connection. */
  acceptConnection(duplex: ByteDuplex, info: IncomingConnectionInfo): { drop(reason: unknown): void } {
    const reader = duplex.readable.getReader();
    const writer = duplex.writable.getWriter();
    let handshake: TestHandshake | null = null;
    let connection: TestConnection | null = null;
    void this.#serve(reader, writer, info, (h) => (handshake = h), (c) => (connection = c));
    return {
      drop: (reason: unknown) => {
        if (connection !== null) (connection as TestConnection).drop();
        else if (handshake !== null) (handshake as TestHandshake).drop();
        else {
          writer.abort(reason).catch(ignore);
          reader.cancel(reason).catch(ignore);
        }
      },
    };
  }

  async #serve(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    info: IncomingConnectionInfo,
    onHandshake: (handshake: TestHandshake) => void,
    onConnection: (connection: TestConnection) => void,
  ): Promise<void> {
    // Read the request head (RFC 6455 §4.2.1) with the codec's parser.
    const parser = new HttpHeadParser('request');
    let head: RequestHead;
    let rest: Uint8Array;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        noteActivity();
        if (done) return; // the client went away
        const result = parser.push(value);
        if (result !== null) {
          head = result.head;
          rest = result.rest.slice();
          break;
        }
      }
    } catch (error) {
      if (error instanceof HandshakeError) {
        writer.write(encodeUtf8(buildRejection(error.status, error.headers))).catch(ignore);
        writer.close().catch(ignore);
      } else writer.abort(error).catch(ignore);
      reader.cancel().catch(ignore);
      return;
    }
    const handshake = new TestHandshake({
      url: info.url,
      request: head,
      clientHandshake: info.clientHandshake,
      reader,
      writer,
      selectProtocol: (offered, h) => this.#selectProtocol(offered, h),
      open: (h, protocol, extensions) => {
        const connection = this.#open(h, reader, writer, rest, protocol, extensions);
        onConnection(connection);
        return connection;
      },
    });
    onHandshake(handshake);
    this.handshakes.push(handshake);
    this.#handshakeCursor.added();
    let delay: void | Promise<void> = undefined;
    try {
      delay = this.onhandshake?.(handshake);
    } catch (error) {
      void Promise.reject(error);
    }
    if (this.#options.autoAccept === false) return;
    if (delay !== undefined) {
      try {
        await delay;
      } catch (error) {
        void Promise.reject(error);
      }
    }
    if (handshake.state === 'pending') handshake.accept().catch(ignore);
  }

  #selectProtocol(offered: string[], handshake: TestHandshake): string | null {
    const choice = this.#options.protocols;
    if (offered.length === 0) return null;
    if (choice === undefined) return offered[0] ?? null;
    if (typeof choice === 'function') return choice(offered, handshake) ?? null;
    return offered.find((p) => choice.includes(p)) ?? null;
  }

  #open(
    handshake: TestHandshake,
    reader: ReadableStreamDefaultReader<Uint8Array>,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    rest: Uint8Array,
    protocol: string,
    extensions: string,
  ): TestConnection {
    const options = this.#options;
    const transport = new ServerTransport(reader, writer);
    const conn = new ServerConnection(
      transport,
      {
        role: 'server',
        protocol,
        extensions,
        maxPayload: options.maxPayload,
        maxMessage: options.maxMessage,
        maxFragments: options.maxFragments,
      },
      this.#topics,
    );
    transport.attach(conn);
    const connection = new TestConnection({
      connection: conn,
      transport,
      url: handshake.url,
      request: handshake.request,
      onmessage: (message, from) => {
        this.messages.push(message);
        this.#messageCursor.added();
        if (options.echo === true && from.state === 'open') from.send(message);
      },
    });
    transport.start(rest);
    this.connections.push(connection);
    this.#connectionCursor.added();
    this.#firstCursor.added();
    noteActivity();
    try {
      this.onconnection?.(connection);
    } catch (error) {
      void Promise.reject(error);
    }
    return connection;
  }
}
