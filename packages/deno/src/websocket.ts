/**
 * A minimal WHATWG `WebSocket` (HTML Living Standard, "The WebSocket interface") over
 * {@link openClient}. The full facade is `@wsflow/websocket`; this one is small but keeps
 * the standard's states, events, exceptions and their order, and adds Deno-only options
 * (headers, `caCerts`, proxy, limits) as an alternative second argument.
 * @module
 */
import { checkProtocols, encodeUtf8, parseWebSocketUrl, type CloseInfo, type Message, type WebSocketConnection } from '@wsflow/codec';
import { openClient, type ConnectOptions } from './connect.ts';

/** `WebSocket#binaryType` values. */
export type BinaryType = 'blob' | 'arraybuffer';

/** Deno-only settings, accepted in place of the protocols argument. */
export interface WebSocketOptions extends Omit<ConnectOptions, 'signal'> {}

type Listener = ((this: WebSocket, event: Event) => unknown) | null;
type Sendable = string | ArrayBufferLike | ArrayBufferView | Blob;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

function sizeOf(data: Sendable): number {
  if (typeof data === 'string') return encodeUtf8(data).length;
  if (data instanceof Blob) return data.size;
  return data.byteLength;
}

/** The bytes as an `ArrayBuffer` of exactly their length (a copy when they are a view of more). */
function ownArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/**
 * A browser-compatible `WebSocket` on Deno's TCP/TLS, with wsflow's protocol code.
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
  /** Bytes passed to send() once closing started: counted, never sent (WHATWG send() step 3). */
  #unsent = 0;
  #failed = false;
  readonly #listeners = new Map<string, Listener>();

  /**
   * Steps of the WHATWG constructor; connecting happens in the background.
   * @param url a `ws:`, `wss:`, `http:` or `https:` URL (the latter two mapped to the former)
   * @param protocols subprotocols to offer, or Deno-only options including `protocols`
   * @throws {DOMException} `SyntaxError` for an invalid URL, another scheme, a fragment,
   *   or invalid or repeated subprotocols.
   */
  constructor(url: string | URL, protocols: string | string[] | WebSocketOptions = []) {
    super();
    const options: WebSocketOptions = typeof protocols === 'string' || Array.isArray(protocols) ? { protocols } : { ...protocols };
    // Steps 1-5: parse; map http(s) to ws(s); only ws/wss; no fragment.
    let parsed: URL;
    try {
      const candidate = new URL(String(url));
      if (candidate.protocol === 'http:') candidate.protocol = 'ws:';
      else if (candidate.protocol === 'https:') candidate.protocol = 'wss:';
      parsed = parseWebSocketUrl(candidate);
    } catch (error) {
      throw new DOMException(error instanceof SyntaxError ? error.message : `Invalid URL: ${String(url)}`, 'SyntaxError');
    }
    // Steps 6-7: the protocols are unique tokens.
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
        this.#opened(pending.connection);
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

  get onopen(): Listener {
    return this.#listeners.get('open') ?? null;
  }
  set onopen(listener: Listener) {
    this.#setListener('open', listener);
  }
  get onmessage(): Listener {
    return this.#listeners.get('message') ?? null;
  }
  set onmessage(listener: Listener) {
    this.#setListener('message', listener);
  }
  get onerror(): Listener {
    return this.#listeners.get('error') ?? null;
  }
  set onerror(listener: Listener) {
    this.#setListener('error', listener);
  }
  get onclose(): Listener {
    return this.#listeners.get('close') ?? null;
  }
  set onclose(listener: Listener) {
    this.#setListener('close', listener);
  }

  /**
   * Sends a message: a string as text, binary data as binary.
   * @throws {DOMException} `InvalidStateError` while connecting.
   */
  send(data: Sendable): void {
    // Step 1: not while CONNECTING.
    if (this.#readyState === CONNECTING) throw new DOMException('The connection is not open yet', 'InvalidStateError');
    const payload: Sendable =
      typeof data === 'string' || data instanceof Blob || data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data : String(data);
    // Steps 2-3: once closing started, only count the bytes.
    const sent = this.#connection !== null && this.#connection.send(payload as string | ArrayBuffer | ArrayBufferView | Blob);
    if (!sent) this.#unsent += sizeOf(payload);
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
    // Step 3 (close the WebSocket): already closing or closed.
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      // Fail the WebSocket connection.
      this.#readyState = CLOSING;
      this.#abort.abort(new DOMException('The connection was closed before it opened', 'AbortError'));
      return;
    }
    this.#readyState = CLOSING;
    // With a reason but no code, the code is 1000.
    this.#connection?.close({ closeCode: code ?? (text !== '' ? 1000 : undefined), reason: text });
  }

  #setListener(type: string, listener: Listener): void {
    if (!this.#listeners.has(type)) {
      this.addEventListener(type, (event) => {
        const current = this.#listeners.get(type);
        if (typeof current === 'function') current.call(this, event);
      });
    }
    this.#listeners.set(type, typeof listener === 'function' ? listener : null);
  }

  #opened(connection: WebSocketConnection): void {
    this.#connection = connection;
    // "When the WebSocket connection is established": state, protocol, extensions, then open.
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

  #message(data: Message): void {
    if (this.#readyState !== OPEN && this.#readyState !== CLOSING) return;
    let value: string | Blob | ArrayBuffer;
    if (typeof data === 'string') value = data;
    else value = this.#binaryType === 'blob' ? new Blob([ownArrayBuffer(data)]) : ownArrayBuffer(data);
    this.dispatchEvent(new MessageEvent('message', { data: value, origin: this.#url.origin }));
  }

  /** "When the WebSocket connection is closed": CLOSED, then error if it failed, then close. */
  #closedDown(failed: boolean, info: CloseInfo): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    if (failed || this.#failed || !info.wasClean) this.dispatchEvent(new Event('error'));
    this.dispatchEvent(new CloseEvent('close', { code: info.closeCode, reason: info.reason, wasClean: info.wasClean }));
  }
}
