/**
 * One accepted connection of a {@link TestServer}: what the test sees of a client and
 * every way to act on it — messages, pings, raw or invalid frames, a close with a code,
 * an abrupt drop, and paused reading for backpressure.
 * @module
 */
import {
  encodeUtf8,
  frameHeaderSize,
  maskInto,
  serializeClosePayload,
  writeFrameHeader,
  type CloseInfo,
  type Message,
  type SendData,
} from '@wsflow/codec';
import type { ConnectionPublishOptions, PublishData, ServerConnection } from '@wsflow/engine';
import { noteActivity, track } from './activity.ts';
import { binaryString } from './binary_string.ts';
import type { MemorySocket } from './memory_socket.ts';
import { Cursor } from './cursor.ts';
import { showMessage, showMessages, timeoutOf, withTimeout, type WaitOptions } from './wait.ts';

/** A message as the server receives it: text as a string, binary as bytes. */
export type TestMessage = Message;

/** A frame to write by hand with {@link TestConnection.sendFrame}; nothing is checked. */
export interface RawFrame {
  /** The 4-bit opcode, reserved ones included (0x3–0x7, 0xB–0xF). */
  opcode: number;
  /** The payload: bytes, or a string sent as its UTF-8. Default empty. */
  payload?: Uint8Array | string;
  /** The FIN bit. Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Masks the payload with this key, which a server must never do (RFC 6455 §5.1). */
  maskKey?: number;
}

/** A text that a JSON-mode connection received and could not parse, kept in `messages` in its place. */
export class NotJson {
  /** The text received. */
  readonly text: string;
  /** Why it is not JSON (the parser's message), or that it was binary. */
  readonly problem: string;
  constructor(text: string, problem: string) {
    this.text = text;
    this.problem = problem;
  }
}

/** Internal wiring a {@link TestServer} passes in. */
export interface TestConnectionInit<M> {
  connection: ServerConnection;
  socket: MemorySocket;
  url: URL;
  request: Request;
  /** The request's header fields, all of them (a browser's `Request` drops forbidden ones). */
  headers: Headers;
  /** How failures name it, e.g. `TestServer ws://x/ connection #1`. */
  label: string;
  /** Parse text messages as JSON and serialize what is sent. */
  json: boolean;
  /** The default timeout of its waits (ms), or undefined for the test kit's. */
  timeout: number | undefined;
  /** Called with each message, after the connection recorded it. */
  onmessage: (message: M, connection: TestConnection<M>) => void;
}

type Callback = 'onmessage' | 'onclose' | 'onping' | 'onpong' | 'onerror';

/**
 * Runs `ours` before whatever the connection's user sets as `name`, so that the test kit
 * records what a `serve()` handler's connection receives while the handler sets its own
 * callbacks on it, unchanged.
 */
function tap(conn: ServerConnection, name: Callback, ours: (value: never) => void): void {
  let theirs: ((value: never) => void) | null = (conn[name] as ((value: never) => void) | null) ?? null;
  const combined = function (this: unknown, value: never): void {
    ours(value);
    theirs?.call(conn, value);
  };
  let proto: object | null = Object.getPrototypeOf(conn) as object | null;
  let setter: ((value: unknown) => void) | undefined;
  while (proto !== null && setter === undefined) {
    setter = Object.getOwnPropertyDescriptor(proto, name)?.set;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (setter !== undefined) {
    // An accessor of the class (onmessage): it subscribes once, to `combined`.
    const protoSetter = setter;
    Object.defineProperty(conn, name, {
      configurable: true,
      enumerable: true,
      get: () => theirs,
      set: (handler: unknown) => void (theirs = typeof handler === 'function' ? (handler as (value: never) => void) : null),
    });
    protoSetter.call(conn, combined);
    return;
  }
  Object.defineProperty(conn, name, {
    configurable: true,
    enumerable: true,
    get: () => combined,
    set: (handler: unknown) => void (theirs = typeof handler === 'function' ? (handler as (value: never) => void) : null),
  });
}

/**
 * A client connection as the test server sees it: the same `ServerConnection` a
 * `serve()` handler gets ({@link raw}), with what a test needs around it.
 *
 * @example
 * ```ts
 * const client = await server.nextConnection();
 * expect(await client.nextMessage()).toBe('hello');
 * client.send('welcome');
 * client.sendFrame({ opcode: 0x3 }); // a reserved opcode: the client fails with 1006
 * client.close(4000, 'bye');
 * expect(await client.closed).toEqual({ closeCode: 4000, reason: 'bye', wasClean: true });
 * ```
 */
export class TestConnection<M = TestMessage> {
  /** The URL the client requested (`ws:`/`wss:`), query included. */
  readonly url: URL;
  /** The upgrade request, as a `serve()` handler gets it (a WHATWG `Request`). */
  readonly request: Request;
  /** The subprotocol selected, `''` for none. */
  readonly protocol: string;
  /** The extensions accepted, `''` for none. */
  readonly extensions: string;
  /** Every message received, in order (in JSON mode, parsed; a text that is not JSON as a {@link NotJson}). */
  readonly messages: Array<M | NotJson> = [];
  /** The payload of every Ping received (each was answered with a Pong). */
  readonly pings: Uint8Array[] = [];
  /** The payload of every Pong received. */
  readonly pongs: Uint8Array[] = [];
  /** Protocol errors of the client, and transport errors. */
  readonly errors: Error[] = [];
  /** Called with each message received; set it to answer (`(m, c) => c.send(m)` echoes). */
  onmessage: ((message: M, connection: TestConnection<M>) => void) | null = null;
  /** How failures name it. */
  readonly label: string;
  /** Whether messages are JSON (parsed when received, serialized when sent). */
  readonly json: boolean;

  readonly #connection: ServerConnection;
  readonly #socket: MemorySocket;
  readonly #timeout: number | undefined;
  readonly #cursor = new Cursor<M | NotJson>(this.messages);
  #closeInfo: CloseInfo | null = null;
  /** Operations waiting behind a Blob being read, in order; null when none is. */
  #later: Array<(() => void) | Blob> | null = null;
  /** A close() waits in {@link #later}. */
  #closeQueued = false;

  /** @internal Created by {@link TestServer}. */
  constructor(init: TestConnectionInit<M>) {
    this.#connection = init.connection;
    this.#socket = init.socket;
    this.#timeout = init.timeout;
    this.label = init.label;
    this.json = init.json;
    this.url = init.url;
    this.request = init.request;
    this.headers = init.headers;
    this.protocol = init.connection.protocol;
    this.extensions = init.connection.extensions;
    const conn = init.connection;
    tap(conn, 'onmessage', (received: Message) => {
      noteActivity();
      const message = this.#decode(received);
      this.messages.push(message);
      this.#cursor.added();
      if (message instanceof NotJson) return;
      init.onmessage(message, this);
      this.onmessage?.(message, this);
    });
    tap(conn, 'onping', (payload: Uint8Array) => void this.pings.push(payload.slice()));
    tap(conn, 'onpong', (payload: Uint8Array) => void this.pongs.push(payload.slice()));
    tap(conn, 'onerror', (error: Error) => void this.errors.push(error));
    tap(conn, 'onclose', (info: CloseInfo) => {
      noteActivity();
      this.#closeInfo = info;
      this.#cursor.close(() => this.#closedError(info));
    });
  }

  /** The connection itself, as a `serve()` handler holds it. */
  get raw(): ServerConnection {
    return this.#connection;
  }

  /** The request's header fields, as sent (`headers.get('authorization')`). */
  readonly headers: Headers;

  /** `'open'`, `'closing'` (a Close was sent or received) or `'closed'`. */
  get state(): 'open' | 'closing' | 'closed' {
    return this.#connection.state;
  }

  /**
   * Resolves with how the connection ended: the client's close code, 1005, or 1006.
   * Rejects if it is still open after the default timeout (see {@link waitForClose}).
   */
  get closed(): Promise<CloseInfo> {
    const closed = this.waitForClose();
    closed.catch(() => {}); // a getter read and not awaited must not fail the run
    return closed;
  }

  /**
   * Resolves with how the connection ended.
   * @throws WaitTimeoutError (rejects) naming the connection if it is not closed within the timeout
   */
  waitForClose(options: WaitOptions = {}): Promise<CloseInfo> {
    const ms = timeoutOf(options, this.#timeout);
    return withTimeout(this.#connection.closed, ms, (t) => `${this.label}: not closed within ${t} ms (state: ${this.state}; received so far: ${showMessages(this.messages)})`);
  }

  /**
   * The default timeout (ms) of its waits: its server's `timeout` option, else the test
   * kit's (see `configureTestKit`) at the time of asking.
   * @example
   * ```ts
   * const client = await new TestServer(url, { timeout: 500 }).nextConnection();
   * client.timeout; // 500
   * ```
   */
  get timeout(): number {
    return timeoutOf({}, this.#timeout);
  }

  /** How the connection ended, once it has. */
  get closeInfo(): CloseInfo | null {
    return this.#closeInfo;
  }

  /** Bytes written to the client and not yet read by it. */
  get bufferedAmount(): number {
    return this.#connection.bufferedAmount;
  }

  /**
   * The next message this connection receives: one already received and not yet taken by
   * `nextMessage`, or the next to arrive.
   * @throws (rejects) if the connection closes first, if none comes within the timeout
   *   (a WaitTimeoutError naming what came so far), or in JSON mode for a text that is not JSON
   */
  nextMessage(options: WaitOptions = {}): Promise<M> {
    const taken = this.#cursor.next(timeoutOf(options, this.#timeout), (t) => `${this.label}: no message within ${t} ms (received so far: ${showMessages(this.messages)})`);
    return taken.then((message) => {
      if (message instanceof NotJson) throw new TypeError(`${this.label}: ${message.problem}: ${showMessage(message.text)}`);
      return message;
    });
  }

  #closedError(info: CloseInfo): Error {
    return new Error(`${this.label}: the connection closed (${info.closeCode}) before another message arrived (received so far: ${showMessages(this.messages)})`);
  }

  #decode(received: Message): M | NotJson {
    if (!this.json) return received as M;
    if (typeof received !== 'string') return new NotJson(`<${received.length} bytes>`, 'received a binary message in JSON mode, not JSON text');
    try {
      return JSON.parse(received) as M;
    } catch (error) {
      return new NotJson(received, `received a text that is not JSON (${(error as Error).message})`);
    }
  }

  /**
   * Sends a message: a string as text, anything binary (a Blob too) as binary; in JSON
   * mode, any value as its JSON text. A Blob is read first; what is sent, written or
   * closed after it waits its turn.
   * @throws Error once the connection is closing or closed
   */
  send(value: M | SendData): void {
    const data: SendData = this.json ? JSON.stringify(value) : (value as SendData);
    if (this.#connection.state !== 'open' || this.#closeQueued) {
      throw new Error(`cannot send: the connection is ${this.#closeQueued ? 'closing' : this.#connection.state}`);
    }
    noteActivity();
    if (typeof Blob === 'function' && data instanceof Blob) this.#inOrder(data);
    else if (typeof data === 'string') this.#inOrder(() => this.#connection.send(data));
    else {
      // Copied now: the caller may reuse its buffer while a Blob ahead is read.
      const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() : new Uint8Array((data as ArrayBuffer).slice(0));
      this.#inOrder(() => this.#connection.send(bytes));
    }
  }

  /**
   * Subscribes to `topic`: what is published on it (by {@link TestServer.publish} or a
   * connection's {@link publish}) is sent to this client. The engine's own topics: the same
   * as `conn.subscribe` in a `serve()` handler.
   * @returns whether it changed anything (false when subscribed already, or closed)
   * @throws TypeError for a topic that is not a string
   * @example
   * ```ts
   * const server = new TestServer('ws://chat.test/', {
   *   onconnection: (conn) => {
   *     conn.subscribe('room');
   *     conn.onmessage = (message, from) => from.publish('room', message);
   *   },
   * });
   * ```
   */
  subscribe(topic: string): boolean {
    return this.#connection.subscribe(topic);
  }

  /** Unsubscribes from `topic`. @returns whether it changed anything @throws TypeError for a topic that is not a string */
  unsubscribe(topic: string): boolean {
    return this.#connection.unsubscribe(topic);
  }

  /** Whether this connection is subscribed to `topic`. @throws TypeError for a topic that is not a string */
  isSubscribed(topic: string): boolean {
    return this.#connection.isSubscribed(topic);
  }

  /** The topics this connection is subscribed to (a live, read-only view; empty once closed). */
  get topics(): ReadonlySet<string> {
    return this.#connection.topics;
  }

  /** Published messages this connection missed for not reading (see the `publishBackpressure` option). */
  get droppedMessages(): number {
    return this.#connection.droppedMessages;
  }

  /**
   * Publishes `data` on `topic` to every subscriber but this connection (unless
   * `includeSelf`), as a `serve` connection's `publish` does.
   * @returns the number of this server's subscribers the message was queued to
   * @throws TypeError for a topic that is not a string, data that is neither a string, an
   *   `ArrayBuffer` nor an `ArrayBufferView`, or an unknown option
   * @example
   * ```ts
   * conn.publish('room', 'hello, everyone else');
   * ```
   */
  publish(topic: string, data: PublishData, options?: ConnectionPublishOptions): number {
    noteActivity();
    return this.#connection.publish(topic, data, options);
  }

  /** Sends a Ping (the client answers with a Pong, recorded in {@link pongs}). */
  ping(payload: Uint8Array | string = new Uint8Array(0)): void {
    noteActivity();
    const bytes = typeof payload === 'string' ? encodeUtf8(payload) : payload.slice();
    if (bytes.length > 125) throw new RangeError('a Ping payload is at most 125 bytes; send a longer one with sendFrame()');
    this.#inOrder(() => this.#connection.ping(bytes));
  }

  /** Sends an unsolicited Pong (RFC 6455 §5.5.3). */
  pong(payload: Uint8Array | string = new Uint8Array(0)): void {
    this.sendFrame({ opcode: 0xa, payload });
  }

  /**
   * Writes one frame exactly as described, valid or not: a reserved opcode, a fragmented
   * or oversized control frame, RSV bits, a masked server frame, invalid UTF-8.
   */
  sendFrame(frame: RawFrame): void {
    const payload = typeof frame.payload === 'string' ? encodeUtf8(frame.payload) : (frame.payload ?? new Uint8Array(0));
    const masked = frame.maskKey !== undefined;
    const maskKey = (frame.maskKey ?? 0) >>> 0;
    const rsv = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0);
    const out = new Uint8Array(frameHeaderSize(payload.length, masked) + payload.length);
    const at = writeFrameHeader(out, 0, frame.fin ?? true, rsv, frame.opcode & 0x0f, payload.length, masked, maskKey);
    if (masked) maskInto(payload, out, at, maskKey, 0);
    else out.set(payload, at);
    this.sendRaw(out);
  }

  /**
   * Writes bytes as they are, in order with the connection's own frames. A string is taken
   * as bytes, one per character (U+0000–U+00FF): `'\x81\x02hi'` is a text frame "hi".
   */
  sendRaw(bytes: Uint8Array | string): void {
    const copy = typeof bytes === 'string' ? binaryString(bytes) : bytes.slice();
    this.#inOrder(() => this.#socket.write(copy));
  }

  /**
   * Starts the closing handshake; without a code the Close frame has no payload (the client
   * then reports 1005). Resolves when the connection is closed.
   * @throws RangeError for a code that may not be sent (1005, 1006, 1015, < 1000, …) or a
   *   reason over 123 UTF-8 bytes; send those with {@link sendFrame}. TypeError for a reason
   *   that is neither a string nor a `Uint8Array` of UTF-8 (bytes are sent as they are)
   */
  close(code?: number, reason: string | Uint8Array = ''): Promise<CloseInfo> {
    noteActivity();
    const options = code === undefined && reason.length === 0 ? {} : { closeCode: code ?? 1000, reason };
    // Checked now, even when the Close waits behind a Blob being read.
    serializeClosePayload(options.closeCode, options.reason);
    if (this.#later !== null) this.#closeQueued = true;
    this.#inOrder(() => this.#connection.close(options));
    return this.#connection.closed;
  }

  /**
   * Ends the server's side of the transport without a Close frame (a FIN), after what was
   * sent before, as a server process that exits would: the client sees 1006.
   */
  end(): void {
    noteActivity();
    this.#inOrder(() => this.#socket.end());
  }

  /** Drops the connection without a closing handshake: the client sees 1006. */
  drop(): void {
    noteActivity();
    this.#later = null;
    this.#connection.abort();
  }

  /** Runs `operation` now, or after the Blobs being read (a Blob is read, then sent). */
  #inOrder(operation: (() => void) | Blob): void {
    if (this.#later !== null) {
      this.#later.push(operation);
      return;
    }
    if (typeof operation === 'function') {
      operation();
      return;
    }
    this.#later = [operation];
    void track(this.#drainInOrder(this.#later));
  }

  async #drainInOrder(queue: Array<(() => void) | Blob>): Promise<void> {
    while (this.#later === queue && queue.length > 0) {
      const next = queue[0]!;
      if (typeof next === 'function') next();
      else {
        const bytes = new Uint8Array(await next.arrayBuffer());
        if (this.#later !== queue) return;
        if (this.#connection.state === 'open') this.#connection.send(bytes);
      }
      queue.shift();
    }
    if (this.#later === queue) this.#later = null;
    this.#closeQueued = false;
  }

  /**
   * Stops reading from the client: its writes back up and its `bufferedAmount` grows. A
   * chunk the server was already waiting for when this is called is still taken (and held
   * until {@link resumeReading}), as a socket read in progress completes.
   */
  pauseReading(): void {
    this.#socket.pauseReading();
  }

  /** Reads from the client again. */
  resumeReading(): void {
    noteActivity();
    this.#socket.resumeReading();
  }
}
