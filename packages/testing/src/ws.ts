/**
 * A drop-in for the client of the `ws` package, connecting over the in-memory network to
 * a {@link TestServer}: code under test that does `import WebSocket from 'ws'` reaches the
 * test server once the module is mocked —
 * `vi.mock('ws', () => import('@wsflow/testing/ws'))` (Vitest) or
 * `jest.mock('ws', () => require('@wsflow/testing/ws'))` (Jest, ESM builds). Frames go
 * through the codec both ways, as with the WHATWG `WebSocket` of `@wsflow/websocket`.
 *
 * What it covers of `ws`'s client: the constructor (`address`, `protocols`, options
 * `headers` and `origin`), `readyState` and its constants, `url`, `protocol`,
 * `extensions`, `binaryType` (`nodebuffer`, `arraybuffer`, `fragments`), `bufferedAmount`,
 * `send` (with its callback), `ping`, `close`, `terminate`, the
 * events `open`, `message` (data, isBinary), `close` (code, reason as a Buffer), `error`,
 * `ping`, `pong` through `on`/`once`/`off` (an `EventEmitter`), and `addEventListener`
 * and `onopen`/`onmessage`/`onclose`/`onerror`. Not covered (they throw a TypeError):
 * `WebSocketServer` (use a `TestServer`), `createWebSocketStream`, `pong()`,
 * `pause()`/`resume()`; never emitted: `upgrade`, `unexpected-response`.
 * @module
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { CloseInfo, WebSocketConnection } from '@wsflow/codec';
import { dialedParts, defaultNetwork, useWebSocketScheme, type MemoryNetwork } from '@wsflow/websocket';

/** The options of `ws`'s client this drop-in honours (others are accepted and ignored, as `ws` ignores unknown ones). */
export interface ClientOptions {
  /** Extra request header fields. */
  headers?: Record<string, string>;
  /** The `Origin` to send. */
  origin?: string;
  /** Accepted for compatibility; the in-memory network has no handshake timer. */
  handshakeTimeout?: number;
  [option: string]: unknown;
}

type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';
type Listener = (...args: never[]) => void;

const READY = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

let network: MemoryNetwork = defaultNetwork;

/**
 * Makes the drop-in dial another in-memory network (default: the one `TestServer`s
 * listen on by default).
 * @example
 * ```ts
 * useNetwork(server.network);
 * ```
 */
export function useNetwork(next: MemoryNetwork): void {
  network = next;
}

function toBuffer(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Buffer.concat(data.map(toBuffer));
  return Buffer.from(String(data));
}

/**
 * The `ws` package's client `WebSocket`, in memory.
 * @example
 * ```ts
 * vi.mock('ws', () => import('@wsflow/testing/ws'));
 * // in the code under test, unchanged:
 * import WebSocket from 'ws';
 * const ws = new WebSocket('ws://api.test/feed');
 * ws.on('message', (data, isBinary) => console.log(isBinary ? data : data.toString()));
 * ```
 */
export class WebSocket extends EventEmitter {
  static readonly CONNECTING = READY.CONNECTING;
  static readonly OPEN = READY.OPEN;
  static readonly CLOSING = READY.CLOSING;
  static readonly CLOSED = READY.CLOSED;
  readonly CONNECTING = READY.CONNECTING;
  readonly OPEN = READY.OPEN;
  readonly CLOSING = READY.CLOSING;
  readonly CLOSED = READY.CLOSED;

  /** The URL connected to. */
  readonly url: string;
  /** How binary messages are given: `nodebuffer` (default), `arraybuffer` or `fragments`. */
  binaryType: BinaryType = 'nodebuffer';
  #readyState: number = READY.CONNECTING;
  #connection: WebSocketConnection | null = null;
  #aborter = new AbortController();
  #closeAfterOpen: { code?: number; reason?: string } | null = null;
  #handlers = new Map<string, Listener>();

  constructor(address: string | URL, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    let offered: string[] = [];
    let settings: ClientOptions = {};
    if (typeof protocols === 'string') offered = [protocols];
    else if (Array.isArray(protocols)) offered = protocols;
    else if (typeof protocols === 'object' && protocols !== null) settings = protocols;
    if (options !== undefined) settings = options;
    const url = new URL(address);
    useWebSocketScheme(url);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new SyntaxError(`The URL's protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"`);
    this.url = url.href;
    const dialing = network.dialer({
      url,
      protocols: offered,
      signal: this.#aborter.signal,
      origin: settings.origin,
      init: settings.headers === undefined ? undefined : { headers: settings.headers },
    });
    dialing.then(
      (result) => this.#opened(dialedParts(result)),
      (error: unknown) => this.#failed(error),
    );
  }

  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  get readyState(): number {
    return this.#readyState;
  }

  /** The subprotocol the server selected, `''` for none. */
  get protocol(): string {
    return this.#connection?.protocol ?? '';
  }

  /** The extensions accepted, `''` for none. */
  get extensions(): string {
    return this.#connection?.extensions ?? '';
  }

  /** Bytes queued and not yet sent. */
  get bufferedAmount(): number {
    return this.#connection?.bufferedAmount ?? 0;
  }

  /**
   * Sends a message: a string as text, anything binary as binary (`options.binary` overrides).
   * @throws Error while connecting, as `ws` does
   */
  send(data: unknown, options?: { binary?: boolean } | ((error?: Error) => void), callback?: (error?: Error) => void): void {
    const done = typeof options === 'function' ? options : callback;
    const binary = typeof options === 'object' && options !== null && options.binary !== undefined ? options.binary : typeof data !== 'string';
    if (this.#readyState === READY.CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    const connection = this.#connection;
    if (this.#readyState !== READY.OPEN || connection === null) {
      const error = new Error(`WebSocket is not open: readyState ${this.#readyState} (${this.#readyState === READY.CLOSING ? 'CLOSING' : 'CLOSED'})`);
      if (done !== undefined) queueMicrotask(() => done(error));
      return;
    }
    if (binary) connection.send(new Uint8Array(toBuffer(data)));
    else connection.send(typeof data === 'string' ? data : toBuffer(data).toString());
    if (done !== undefined) queueMicrotask(() => done());
  }

  /** Sends a Ping (the server answers with a Pong, emitted as `pong`). */
  ping(data?: unknown, _mask?: boolean, callback?: (error?: Error) => void): void {
    if (this.#readyState === READY.CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    this.#connection?.ping(data === undefined ? new Uint8Array(0) : new Uint8Array(toBuffer(data)));
    if (callback !== undefined) queueMicrotask(() => callback());
  }

  /** Not emulated (the codec's connection sends Pongs only in answer to Pings). */
  pong(): never {
    throw new TypeError('@wsflow/testing/ws: pong() is not emulated (Pings are answered by themselves)');
  }

  /** Starts the closing handshake (while connecting: fails the connection, as `ws` does). */
  close(code?: number, reason?: string | Buffer): void {
    if (this.#readyState === READY.CLOSED || this.#readyState === READY.CLOSING) return;
    if (this.#readyState === READY.CONNECTING) {
      this.#aborter.abort(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    this.#readyState = READY.CLOSING;
    const text = reason === undefined ? '' : typeof reason === 'string' ? reason : reason.toString();
    this.#connection!.close(code === undefined ? {} : { closeCode: code, reason: text });
  }

  /** Drops the connection at once, without a closing handshake (the close event reports 1006). */
  terminate(): void {
    if (this.#readyState === READY.CLOSED) return;
    if (this.#readyState === READY.CONNECTING) {
      this.#aborter.abort(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    this.#readyState = READY.CLOSING;
    this.#connection!.abort();
  }

  /** Not emulated: pause the server's reading instead (`connection.pauseReading()`). */
  pause(): never {
    throw new TypeError('@wsflow/testing/ws: pause() is not emulated; use the TestConnection\'s pauseReading() for backpressure');
  }

  /** Not emulated. */
  resume(): never {
    throw new TypeError('@wsflow/testing/ws: resume() is not emulated');
  }

  /** The DOM-style listener API of `ws` (events carry `data`, `code`, `reason`, `error`). */
  addEventListener(type: string, listener: (event: never) => void, options?: { once?: boolean }): void {
    const wrapped = (...args: unknown[]): void => (listener as (event: unknown) => void)(this.#eventOf(type, args));
    (wrapped as { listener?: unknown }).listener = listener;
    if (options?.once === true) this.once(type, wrapped);
    else this.on(type, wrapped);
  }

  removeEventListener(type: string, listener: (event: never) => void): void {
    for (const candidate of this.listeners(type)) {
      if ((candidate as { listener?: unknown }).listener === listener) {
        this.off(type, candidate as (...args: unknown[]) => void);
        return;
      }
    }
  }

  get onopen(): Listener | null {
    return this.#handlers.get('open') ?? null;
  }
  set onopen(handler: Listener | null) {
    this.#setHandler('open', handler);
  }
  get onmessage(): Listener | null {
    return this.#handlers.get('message') ?? null;
  }
  set onmessage(handler: Listener | null) {
    this.#setHandler('message', handler);
  }
  get onclose(): Listener | null {
    return this.#handlers.get('close') ?? null;
  }
  set onclose(handler: Listener | null) {
    this.#setHandler('close', handler);
  }
  get onerror(): Listener | null {
    return this.#handlers.get('error') ?? null;
  }
  set onerror(handler: Listener | null) {
    this.#setHandler('error', handler);
  }

  #setHandler(type: string, handler: Listener | null): void {
    const previous = this.#handlers.get(type);
    if (previous !== undefined) this.removeEventListener(type, previous as (event: never) => void);
    this.#handlers.delete(type);
    if (typeof handler === 'function') {
      this.#handlers.set(type, handler);
      this.addEventListener(type, handler as (event: never) => void);
    }
  }

  #eventOf(type: string, args: unknown[]): Record<string, unknown> {
    const base = { type, target: this };
    if (type === 'message') return { ...base, data: args[0] };
    if (type === 'close') return { ...base, code: args[0], reason: String(args[1] ?? ''), wasClean: args[0] !== 1006 };
    if (type === 'error') return { ...base, error: args[0], message: (args[0] as Error | undefined)?.message ?? '' };
    return base;
  }

  #message(data: string | Uint8Array): void {
    if (typeof data === 'string') {
      this.emit('message', Buffer.from(data), false);
      return;
    }
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.binaryType === 'arraybuffer') this.emit('message', data.slice().buffer, true);
    else if (this.binaryType === 'fragments') this.emit('message', [bytes], true);
    else this.emit('message', bytes, true);
  }

  #opened(dialed: { connection: WebSocketConnection; start(): void }): void {
    const connection = dialed.connection;
    if (this.#aborter.signal.aborted) {
      connection.abort();
      return;
    }
    this.#connection = connection;
    connection.onmessage = (data) => this.#message(data);
    connection.onping = (payload) => void this.emit('ping', Buffer.from(payload));
    connection.onpong = (payload) => void this.emit('pong', Buffer.from(payload));
    connection.onerror = (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    };
    connection.onclosing = () => {
      if (this.#readyState === READY.OPEN) this.#readyState = READY.CLOSING;
    };
    connection.onclose = (info: CloseInfo) => {
      this.#readyState = READY.CLOSED;
      this.emit('close', info.closeCode, Buffer.from(info.reason));
    };
    this.#readyState = READY.OPEN;
    this.emit('open');
    dialed.start();
  }

  #failed(error: unknown): void {
    this.#readyState = READY.CLOSED;
    // As `ws`: an error, then a close with 1006.
    if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
    this.emit('close', 1006, Buffer.alloc(0));
  }
}

/** `ws`'s server is not emulated: run the handler in a `TestServer` instead. */
export class WebSocketServer {
  constructor() {
    throw new TypeError('@wsflow/testing/ws: WebSocketServer is not emulated; run your handler in a TestServer (new TestServer(url, { handler }))');
  }
}

/** Not emulated. */
export function createWebSocketStream(): never {
  throw new TypeError('@wsflow/testing/ws: createWebSocketStream is not emulated');
}

export default WebSocket;
