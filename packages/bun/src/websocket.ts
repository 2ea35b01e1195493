/**
 * A minimal WHATWG `WebSocket` (HTML Living Standard, "The WebSocket interface") over
 * {@link openClient}. The full facade lives in `@wsflow/websocket`; this one is small but
 * keeps the standard's states, events, exceptions and their order.
 * @module
 */
import { checkProtocols, encodeUtf8, parseWebSocketUrl, type CloseInfo, type Message, type WebSocketConnection } from '@wsflow/codec';
import { openClient, type ConnectOptions } from './connect.ts';

/** `WebSocket#binaryType` values. */
export type BinaryType = 'blob' | 'arraybuffer';

/** Bun-only settings for the third form of the constructor's second argument. */
export interface WebSocketOptions extends Omit<ConnectOptions, 'signal'> {}

/** An event handler attribute's value. */
type Handler = ((this: WebSocket, event: Event) => unknown) | null;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The bytes `send()` counts toward `bufferedAmount` once the connection is closing. */
function byteLength(data: string | ArrayBuffer | ArrayBufferView | Blob): number {
  if (typeof data === 'string') return encodeUtf8(data).length;
  if (data instanceof Blob) return data.size;
  return data.byteLength;
}

/** An `ArrayBuffer` holding exactly `bytes` (the received buffer itself when it fits). */
function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/**
 * A browser-compatible `WebSocket` on Bun's TCP/TLS through wsflow's codec (with the
 * Bun-only {@link WebSocketOptions} — headers, TLS, proxy, limits — as an alternative
 * second argument).
 *
 * @example
 * ```ts
 * const ws = new WebSocket('wss://example.com/chat', ['chat']);
 * ws.binaryType = 'arraybuffer';
 * ws.onopen = () => ws.send('hello');
 * ws.onmessage = (event) => console.log((event as MessageEvent).data);
 * ws.onclose = (event) => console.log((event as CloseEvent).code);
 * ```
 */
export class WebSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  readonly #url: URL;
  #readyState: number = CONNECTING;
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType = 'blob';
  #connection: WebSocketConnection | null = null;
  readonly #abort = new AbortController();
  /** Bytes passed to send() once closing started: counted, never sent. */
  #unsent = 0;
  #failed = false;
  readonly #handlers = new Map<string, Handler>();

  /**
   * @param url a `ws:`, `wss:`, `http:` or `https:` URL (the latter two mapped to the former)
   * @param protocols subprotocols to offer, or Bun-only options including `protocols`
   * @throws {DOMException} `SyntaxError` for an invalid URL, another scheme, a fragment,
   *   or invalid or repeated subprotocols.
   */
  constructor(url: string | URL, protocols: string | string[] | WebSocketOptions = []) {
    super();
    const options: WebSocketOptions = typeof protocols === 'string' || Array.isArray(protocols) ? { protocols } : { ...protocols };
    // Steps 1-5: parse the URL; http(s) becomes ws(s); only ws and wss; no fragment.
    let parsed: URL;
    try {
      const candidate = new URL(String(url));
      if (candidate.protocol === 'http:') candidate.protocol = 'ws:';
      else if (candidate.protocol === 'https:') candidate.protocol = 'wss:';
      parsed = parseWebSocketUrl(candidate);
    } catch (error) {
      throw new DOMException(error instanceof SyntaxError ? error.message : `Invalid URL: ${String(url)}`, 'SyntaxError');
    }
    // Steps 6-7: the protocols are distinct tokens.
    const list = options.protocols === undefined ? [] : typeof options.protocols === 'string' ? [options.protocols] : [...options.protocols];
    try {
      checkProtocols(list);
    } catch (error) {
      throw new DOMException((error as Error).message, 'SyntaxError');
    }
    this.#url = parsed;
    // Step 8: establish the connection, in the background.
    openClient(parsed, { ...options, protocols: list, signal: this.#abort.signal }).then(
      (pending) => {
        if (this.#readyState !== CONNECTING) {
          pending.connection.abort();
          return;
        }
        this.#established(pending.connection);
        pending.start();
      },
      () => this.#closedDown(true, { closeCode: 1006, reason: '', wasClean: false }),
    );
  }

  get CONNECTING(): 0 {
    return CONNECTING;
  }
  get OPEN(): 1 {
    return OPEN;
  }
  get CLOSING(): 2 {
    return CLOSING;
  }
  get CLOSED(): 3 {
    return CLOSED;
  }

  /** The URL, serialized. */
  get url(): string {
    return this.#url.href;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState(): number {
    return this.#readyState;
  }

  /** The subprotocol the server selected, `''` for none. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions the server accepted, `''` for none. */
  get extensions(): string {
    return this.#extensions;
  }

  /** Bytes queued by `send()` and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return (this.#connection?.bufferedAmount ?? 0) + this.#unsent;
  }

  /** How binary messages are delivered: `'blob'` (default) or `'arraybuffer'`. Other values are ignored. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(value: BinaryType) {
    if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
  }

  get onopen(): Handler {
    return this.#handlers.get('open') ?? null;
  }
  set onopen(handler: Handler) {
    this.#setHandler('open', handler);
  }
  get onmessage(): Handler {
    return this.#handlers.get('message') ?? null;
  }
  set onmessage(handler: Handler) {
    this.#setHandler('message', handler);
  }
  get onerror(): Handler {
    return this.#handlers.get('error') ?? null;
  }
  set onerror(handler: Handler) {
    this.#setHandler('error', handler);
  }
  get onclose(): Handler {
    return this.#handlers.get('close') ?? null;
  }
  set onclose(handler: Handler) {
    this.#setHandler('close', handler);
  }

  /**
   * Sends a message: a string as text, binary data as binary.
   * @throws {DOMException} `InvalidStateError` while connecting.
   */
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
    // Step 1: not while CONNECTING.
    if (this.#readyState === CONNECTING) throw new DOMException('The connection is not open yet', 'InvalidStateError');
    const payload = typeof data === 'string' || data instanceof Blob || data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data : String(data);
    // Steps 2-3: once closing started, the bytes only count toward bufferedAmount.
    if (this.#connection === null || !this.#connection.send(payload)) this.#unsent += byteLength(payload);
  }

  /**
   * Starts the closing handshake (or abandons a connection still being established).
   * @throws {DOMException} `InvalidAccessError` for a code other than 1000 or 3000-4999;
   *   `SyntaxError` for a reason over 123 UTF-8 bytes.
   */
  close(code?: number, reason?: string): void {
    // Step 1: only 1000 and 3000-4999 are the application's.
    if (code !== undefined) {
      code = Number(code);
      if (!Number.isInteger(code) || (code !== 1000 && (code < 3000 || code > 4999))) {
        throw new DOMException(`The close code must be 1000 or 3000-4999, not ${code}`, 'InvalidAccessError');
      }
    }
    // Step 2: the reason fits in a Close frame.
    const text = reason === undefined ? '' : String(reason);
    if (encodeUtf8(text).length > 123) throw new DOMException('The close reason is over 123 UTF-8 bytes', 'SyntaxError');
    // "Close the WebSocket": nothing to do once closing or closed.
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      // Fail the WebSocket connection.
      this.#readyState = CLOSING;
      this.#abort.abort(new DOMException('The connection was closed before it opened', 'AbortError'));
      return;
    }
    this.#readyState = CLOSING;
    // A reason without a code closes with 1000.
    this.#connection?.close({ closeCode: code ?? (text !== '' ? 1000 : undefined), reason: text });
  }

  #setHandler(type: string, handler: Handler): void {
    if (!this.#handlers.has(type)) {
      this.addEventListener(type, (event) => {
        const current = this.#handlers.get(type);
        if (typeof current === 'function') current.call(this, event);
      });
    }
    this.#handlers.set(type, typeof handler === 'function' ? handler : null);
  }

  /** "When the WebSocket connection is established": state, protocol, extensions, then `open`. */
  #established(connection: WebSocketConnection): void {
    this.#connection = connection;
    this.#readyState = OPEN;
    this.#protocol = connection.protocol;
    this.#extensions = connection.extensions;
    connection.onmessage = (data) => this.#message(data);
    connection.onerror = () => {
      this.#failed = true;
    };
    connection.onclose = (info) => this.#closedDown(false, info);
    this.dispatchEvent(new Event('open'));
  }

  /** "When a WebSocket message has been received". */
  #message(data: Message): void {
    if (this.#readyState !== OPEN && this.#readyState !== CLOSING) return;
    let value: string | Blob | ArrayBuffer;
    if (typeof data === 'string') value = data;
    else value = this.#binaryType === 'blob' ? new Blob([data as Uint8Array<ArrayBuffer>]) : exactArrayBuffer(data);
    this.dispatchEvent(new MessageEvent('message', { data: value, origin: this.#url.origin }));
  }

  /** "When the WebSocket connection is closed": CLOSED, then `error` if it failed, then `close`. */
  #closedDown(failed: boolean, info: CloseInfo): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    if (failed || this.#failed || !info.wasClean) this.dispatchEvent(new Event('error'));
    this.dispatchEvent(new CloseEvent('close', { code: info.closeCode, reason: info.reason, wasClean: info.wasClean }));
  }
}
