/**
 * A `WebSocketStream` built over a runtime's own `WebSocket`, for browsers that have the
 * one but not the other (Firefox, Safari). Same constructor, promises, streams, errors and
 * close semantics as {@link WebSocketStream}; the transport is the browser's.
 *
 * What the native `WebSocket` allows, and no more: writes wait while `bufferedAmount` is
 * above a high-water mark (polled, as the API has no drain event); reading cannot push
 * back on the network (the API has no pause), so messages the reader has not taken yet
 * are buffered in the readable.
 * @module
 */
import { toBufferSourceCopy } from './buffer_source.ts';
import { validateCloseCodeAndReason } from './close_validation.ts';
import { handledDeferred } from './deferred.ts';
import { validateProtocolList } from './protocol_list.ts';
import { toUSVString } from './webidl.ts';
import { applyInterfaceShape, copyInterface, lookupByConstructor } from './webidl_interface.ts';
import {
  toCloseInfo,
  toStreamOptions,
  type WebSocketCloseInfo,
  type WebSocketClosedInfo,
  type WebSocketOpenInfo,
  type WebSocketStreamOptions,
} from './websocket_close_info.ts';
import { createWebSocketError, WebSocketError } from './websocket_error.ts';
import { defaultBaseURL, getURLRecord } from './websocket_url.ts';

/** The part of a WHATWG `WebSocket` this class uses. */
export interface NativeWebSocketLike extends EventTarget {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly extensions: string;
  readonly protocol: string;
  readonly readyState: number;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

/** A WHATWG `WebSocket` constructor. */
export type NativeWebSocketConstructor = new (url: string, protocols?: string | string[]) => NativeWebSocketLike;

/** Options of {@link createNativeWebSocketStreamClass}. */
export interface NativeWebSocketStreamOptions {
  /** The `WebSocket` to build on. Default: `globalThis.WebSocket`, read at each construction. */
  WebSocket?: NativeWebSocketConstructor;
  /** The base URL for relative URLs. Default: `location.href` where there is one. */
  baseURL?: string | URL | (() => string | URL | undefined);
  /** Writes wait while the socket's `bufferedAmount` is above this many bytes. Default 1 MiB. */
  writableHighWaterMark?: number;
  /** Milliseconds between checks of `bufferedAmount` while a write waits. Default 10. */
  drainPollInterval?: number;
}

interface Config {
  WebSocket: () => NativeWebSocketConstructor;
  baseURL: () => string | URL | undefined;
  writableHighWaterMark: number;
  drainPollInterval: number;
}

/** The hidden configuration of each class made by {@link createNativeWebSocketStreamClass}. */
const configs = new WeakMap<object, Config>();
const OPEN = 1;

function resolveConfig(options: NativeWebSocketStreamOptions): Config {
  const { WebSocket: Native, baseURL } = options;
  return {
    WebSocket: () => {
      const ctor = Native ?? (globalThis as { WebSocket?: NativeWebSocketConstructor }).WebSocket;
      if (typeof ctor !== 'function') throw new TypeError('There is no WebSocket to build a WebSocketStream on');
      return ctor;
    },
    baseURL: typeof baseURL === 'function' ? baseURL : baseURL === undefined ? defaultBaseURL : () => baseURL,
    writableHighWaterMark: options.writableHighWaterMark ?? 1024 * 1024,
    drainPollInterval: options.drainPollInterval ?? 10,
  };
}

/**
 * A `WebSocketStream` over the runtime's `WebSocket`.
 *
 * @example
 * ```ts
 * const WSS = globalThis.WebSocketStream ?? NativeWebSocketStream;
 * const wss = new WSS('wss://example.com/chat');
 * const { readable, writable } = await wss.opened;
 * ```
 */
export class NativeWebSocketStream {
  /** `"WebSocketStream"`: the class string (a data property of the prototype, as Web IDL defines it). */
  declare readonly [Symbol.toStringTag]: string;
  readonly #url: URL;

  /**
   * True for an instance of this class or of any class made from it by {@link createNativeWebSocketStreamClass}
   * (they share this implementation), so `x instanceof NativeWebSocketStream` answers "is it a wsflow NativeWebSocketStream"
   * whatever runtime made it. Those classes themselves answer by their prototype only.
   */
  static [Symbol.hasInstance](this: unknown, value: unknown): boolean {
    // A subclass inherits this method: it answers as any class does, by its prototype.
    if (this !== NativeWebSocketStream) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && #url in value;
  }

  readonly #opened = handledDeferred<WebSocketOpenInfo>();
  readonly #closed = handledDeferred<WebSocketClosedInfo>();
  readonly #socket: NativeWebSocketLike | null = null;
  #wasEverConnected = false;
  #handshakeAborted = false;
  /** close() or an abort was called: the stream is CLOSING from the API's point of view. */
  #closing = false;
  #readableController: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  #writableController: WritableStreamDefaultController | null = null;

  /**
   * @param url an absolute `ws:`, `wss:`, `http:` or `https:` URL, or one relative to the base URL
   * @param options `protocols` to offer, and a `signal` that abandons the handshake
   * @throws {DOMException} "SyntaxError" for an invalid URL or invalid or repeated subprotocols
   */
  constructor(url: string | URL, options?: WebSocketStreamOptions) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocketStream': 1 argument required, but only 0 present.");
    const config = lookupByConstructor(configs, new.target) ?? defaultConfig;
    const urlString = toUSVString(url);
    const opts = toStreamOptions(options);
    // 1-2. Get a URL record given url and the API base URL; failure is a SyntaxError.
    const urlRecord = getURLRecord(urlString, config.baseURL());
    if (urlRecord === null) {
      throw new DOMException(`Failed to construct 'WebSocketStream': The URL '${urlString}' is invalid.`, 'SyntaxError');
    }
    // 3-4. The protocols: unique tokens, else a SyntaxError.
    const protocols = opts.protocols ?? [];
    validateProtocolList(protocols);
    // 5. Set this's url to urlRecord.
    this.#url = urlRecord;
    // 8. If options["signal"] exists and is aborted, reject both promises and return.
    const signal = opts.signal;
    if (signal?.aborted) {
      this.#opened.reject(signal.reason);
      this.#closed.reject(signal.reason);
      return;
    }
    // 10. Establish the connection: the native WebSocket does.
    const Native = config.WebSocket();
    const socket = new Native(urlRecord.href, [...protocols]);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.addEventListener('open', () => this.#onOpen(socket, config));
    socket.addEventListener('message', (event) => this.#onMessage(event as MessageEvent));
    socket.addEventListener('close', (event) => this.#onClose(event as CloseEvent));
    // 8.3. Abort steps: before the connection is established, fail it and reject both promises.
    signal?.addEventListener(
      'abort',
      () => {
        if (this.#wasEverConnected || socket.readyState !== 0) return;
        socket.close();
        this.#closing = true;
        this.#opened.reject(signal.reason);
        this.#closed.reject(signal.reason);
        this.#handshakeAborted = true;
      },
      { once: true },
    );
  }

  /** Returns this's url, serialized. */
  get url(): string {
    return this.#url.href;
  }

  /** Resolves with the streams and the negotiated values once open; rejects if it never opens. */
  get opened(): Promise<WebSocketOpenInfo> {
    return this.#opened.promise;
  }

  /** Resolves with the close code and reason after a clean close; rejects with a {@link WebSocketError} otherwise. */
  get closed(): Promise<WebSocketClosedInfo> {
    return this.#closed.promise;
  }

  /**
   * Closes the connection (or abandons its establishment).
   * @throws {DOMException} "InvalidAccessError" for a code other than 1000 or 3000–4999,
   *   "SyntaxError" for a reason over 123 UTF-8 bytes
   */
  close(closeInfo?: WebSocketCloseInfo): void {
    const info = toCloseInfo(closeInfo);
    this.#closeTheWebSocket(info.closeCode ?? null, info.reason);
  }

  #closeTheWebSocket(code: number | null, reason: string): void {
    validateCloseCodeAndReason(code, reason);
    const socket = this.#socket;
    if (socket === null || this.#closing || socket.readyState >= 2) return;
    this.#closing = true;
    // The native close() fails a connection still being established, and otherwise
    // starts the closing handshake; without code and reason the Close frame has no body.
    if (code === null && reason === '') socket.close();
    else socket.close(code ?? 1000, reason);
  }

  #closeUsingReason(reason: unknown): void {
    let code: number | null = null;
    let reasonString = '';
    if (reason instanceof WebSocketError) {
      code = reason.closeCode;
      reasonString = reason.reason;
    }
    try {
      this.#closeTheWebSocket(code, reasonString);
    } catch {
      this.#closeTheWebSocket(null, '');
    }
  }

  #onOpen(socket: NativeWebSocketLike, config: Config): void {
    if (this.#handshakeAborted) return;
    this.#wasEverConnected = true;
    const readable = new ReadableStream<string | Uint8Array>({
      start: (controller) => {
        this.#readableController = controller;
      },
      cancel: (reason) => this.#closeUsingReason(reason),
    });
    const writable = new WritableStream<string | ArrayBuffer | ArrayBufferView>({
      start: (controller) => {
        this.#writableController = controller;
      },
      write: async (chunk) => {
        const data: string | Uint8Array = toBufferSourceCopy(chunk) ?? toUSVString(chunk);
        if (this.#closing || socket.readyState !== OPEN) return;
        socket.send(data);
        // Wait for sufficient buffer space: the native API only exposes bufferedAmount.
        while (socket.readyState === OPEN && socket.bufferedAmount > config.writableHighWaterMark) {
          await new Promise<void>((resolve) => setTimeout(resolve, config.drainPollInterval));
        }
      },
      close: () => this.#closeTheWebSocket(null, ''),
      abort: (reason) => this.#closeUsingReason(reason),
    });
    this.#opened.resolve({ readable, writable, extensions: socket.extensions, protocol: socket.protocol });
  }

  #onMessage(event: MessageEvent): void {
    const controller = this.#readableController;
    if (controller === null) return;
    const data: unknown = event.data;
    try {
      controller.enqueue(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
    } catch {
      /* the reader cancelled */
    }
  }

  #onClose(event: CloseEvent): void {
    if (this.#handshakeAborted) return;
    if (!this.#wasEverConnected) this.#opened.reject(createWebSocketError('The WebSocket connection could not be established', null, ''));
    if (event.wasClean) {
      try {
        this.#readableController?.close();
      } catch {
        /* cancelled */
      }
      this.#writableController?.error(new DOMException('A closed WebSocketStream cannot be written to', 'InvalidStateError'));
      this.#closed.resolve({ closeCode: event.code, reason: event.reason });
    } else {
      const error = createWebSocketError(`The WebSocket connection closed abnormally (${event.code})`, event.code, event.reason);
      try {
        this.#readableController?.error(error);
      } catch {
        /* cancelled */
      }
      this.#writableController?.error(error);
      this.#closed.reject(error);
    }
  }
}

const defaultConfig: Config = resolveConfig({});
// Web IDL: a function's length is its number of required arguments.
Object.defineProperty(NativeWebSocketStream, 'length', { value: 1 });
Object.defineProperty(NativeWebSocketStream.prototype.close, 'length', { value: 0 });
applyInterfaceShape(NativeWebSocketStream, 'WebSocketStream');

/**
 * Makes a {@link NativeWebSocketStream} class over a given `WebSocket` (by default the
 * global one) with its own options.
 *
 * @example
 * ```ts
 * const WebSocketStream = globalThis.WebSocketStream ?? createNativeWebSocketStreamClass({ writableHighWaterMark: 64 * 1024 });
 * ```
 */
export function createNativeWebSocketStreamClass(options: NativeWebSocketStreamOptions = {}): typeof NativeWebSocketStream {
  const config = resolveConfig(options);
  const Interface = copyInterface(NativeWebSocketStream, null);
  configs.set(Interface, config);
  return Interface;
}
