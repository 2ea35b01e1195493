/**
 * `WebSocketStream` (WebSockets Standard, "The WebSocketStream interface"): a WebSocket
 * whose messages are a `ReadableStream` and whose sends are a `WritableStream`, with
 * backpressure both ways, over a pluggable `Dialer`.
 *
 * The streams are the connection's own (`WebSocketConnection#readable`/`#writable`)
 * behind thin adapters for the standard's semantics: a reader that stops reading stops
 * the reads from the transport, so the peer's writes back up; a write resolves once the
 * transport's queue is below its high-water mark.
 * @module
 */
import { type Message, type SendData, type WebSocketConnection } from '@wsflow/codec';
import { noteActivity } from './activity.ts';
import { dialedParts, startDial, type DialedConnection } from './dialer.ts';
import { ownBytes, toBufferSourceCopy } from './buffer_source.ts';
import { validateCloseCodeAndReason } from './close_validation.ts';
import { handledDeferred, type Deferred } from './deferred.ts';
import { DEFAULT_FACADE_OPTIONS, resolveFacadeConfig, type FacadeConfig, type FacadeOptions } from './facade_config.ts';
import { validateProtocolList } from './protocol_list.ts';
import { ReadyState } from './ready_state.ts';
import { queueTask } from './task_queue.ts';
import { toUSVString } from './webidl.ts';
import {
  toCloseInfo,
  toStreamOptions,
  type WebSocketCloseInfo,
  type WebSocketClosedInfo,
  type WebSocketOpenInfo,
  type WebSocketStreamOptions,
} from './websocket_close_info.ts';
import { createWebSocketError, WebSocketError } from './websocket_error.ts';
import { applyInterfaceShape, copyInterface, lookupByConstructor } from './webidl_interface.ts';
import { getURLRecord } from './websocket_url.ts';

/** How a class made by {@link createWebSocketStreamClass} connects (as for `WebSocket`). */
export interface WebSocketStreamClassOptions extends FacadeOptions {}

type Config = FacadeConfig;

/** The hidden configuration of each interface object made by {@link createWebSocketStreamClass}. */
const configs = new WeakMap<object, Config>();

const defaultConfig: Config = resolveFacadeConfig(DEFAULT_FACADE_OPTIONS);

const { CONNECTING, OPEN, CLOSING, CLOSED } = ReadyState;

const ignore = (): void => {};

/**
 * A WHATWG `WebSocketStream`.
 *
 * Imported from `@wsflow/websocket`, it reaches the in-memory servers of the default
 * network (see `TestServer`); runtime shims export one made by
 * {@link createWebSocketStreamClass} with their TCP/TLS dialer.
 *
 * @example
 * ```ts
 * const wss = new WebSocketStream('wss://example.com/chat', { protocols: ['chat'] });
 * const { readable, writable, protocol } = await wss.opened;
 * const writer = writable.getWriter();
 * await writer.write('Hello');
 * for await (const message of readable) console.log(message); // string or Uint8Array
 * const { closeCode, reason } = await wss.closed;
 * ```
 */
export class WebSocketStream {
  /** `"WebSocketStream"`: the class string (a data property of the prototype, as Web IDL defines it). */
  declare readonly [Symbol.toStringTag]: string;
  readonly #url: URL;

  /**
   * True for an instance of this class or of any class made from it by {@link createWebSocketStreamClass}
   * (they share this implementation), so `x instanceof WebSocketStream` answers "is it a wsflow WebSocketStream"
   * whatever runtime made it. Those classes themselves answer by their prototype only.
   */
  static [Symbol.hasInstance](this: unknown, value: unknown): boolean {
    // A subclass inherits this method: it answers as any class does, by its prototype.
    if (this !== WebSocketStream) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && #url in value;
  }

  readonly #opened = handledDeferred<WebSocketOpenInfo>();
  readonly #closed = handledDeferred<WebSocketClosedInfo>();
  #readyState: ReadyState = CONNECTING;
  /** "was ever connected" */
  #wasEverConnected = false;
  /** "handshake aborted" */
  #handshakeAborted = false;
  #failed = false;
  #closeQueued = false;
  readonly #dial = new AbortController();
  #connection: WebSocketConnection | null = null;
  #readableController: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  #writableController: WritableStreamDefaultController | null = null;
  #connReader: ReadableStreamDefaultReader<Message> | null = null;
  /** Chunks given to the writable that its sink has not taken yet (counted by the strategy). */
  #writesWaiting = 0;
  /** The writable takes no more chunks (closed by the writer, or errored by a failed conversion). */
  #writableSettled = false;
  /** Closing started while written chunks were still waiting: they are never sent. */
  #unsentAtClose = false;
  /** The writable's close algorithm waits on this for the closing handshake. */
  #writerClose: Deferred<void> | null = null;

  /**
   * Creates a WebSocketStream and starts establishing its connection.
   *
   * @param url an absolute `ws:`, `wss:`, `http:` or `https:` URL, or one relative to the base URL
   * @param options `protocols` to offer, and a `signal` that abandons the handshake
   * @throws {DOMException} "SyntaxError" for an invalid URL or invalid or repeated subprotocols
   * @throws {TypeError} without arguments, or for options of the wrong types
   */
  constructor(url: string | URL, options?: WebSocketStreamOptions) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocketStream': 1 argument required, but only 0 present.");
    const config = lookupByConstructor(configs, new.target) ?? defaultConfig;
    // Web IDL: `USVString url`, `optional WebSocketStreamOptions options = {}`.
    const urlString = toUSVString(url);
    const opts = toStreamOptions(options);
    // 1. Let baseURL be this's relevant settings object's API base URL.
    const baseURL = config.baseURL();
    // 2. Let urlRecord be the result of getting a URL record given url and baseURL.
    const urlRecord = getURLRecord(urlString, baseURL);
    if (urlRecord === null) {
      throw new DOMException(`Failed to construct 'WebSocketStream': The URL '${urlString}' is invalid.`, 'SyntaxError');
    }
    // 3. Let protocols be options["protocols"] if it exists, otherwise an empty sequence.
    const protocols = opts.protocols ?? [];
    // 4. If any of the values in protocols occur more than once or otherwise fail to match
    //    the requirements [...] of `Sec-WebSocket-Protocol`, then throw a "SyntaxError" DOMException.
    validateProtocolList(protocols);
    // 5. Set this's url to urlRecord.
    this.#url = urlRecord;
    // 6. Set this's opened promise and closed promise to new promises. (Fields above.)
    // 7. Apply backpressure to the WebSocket: the connection keeps what arrives until the
    //    readable exists, and pauses its transport once enough is kept.
    // 8. If options["signal"] exists,
    const signal = opts.signal;
    if (signal !== undefined) {
      // 8.2. If signal is aborted, then reject this's opened promise and closed promise
      //      with signal's abort reason and return.
      if (signal.aborted) {
        this.#opened.reject(signal.reason);
        this.#closed.reject(signal.reason);
        return;
      }
      // 8.3. Add the following abort steps to signal:
      signal.addEventListener(
        'abort',
        () => {
          // 8.3.1. If the WebSocket connection is not yet established:
          if (this.#connection !== null || this.#closeQueued) return;
          // 8.3.1.1. Fail the WebSocket connection.
          this.#failTheConnection();
          // 8.3.1.2. Set this's ready state to CLOSING (2).
          this.#readyState = CLOSING;
          // 8.3.1.3. Reject this's opened promise and closed promise with signal's abort reason.
          this.#opened.reject(signal.reason);
          this.#closed.reject(signal.reason);
          // 8.3.1.4. Set this's handshake aborted to true.
          this.#handshakeAborted = true;
        },
        { once: true },
      );
    }
    // 9. Let client be this's relevant settings object.
    const origin = config.origin(baseURL);
    // 10. Run this step in parallel: establish a WebSocket connection given urlRecord,
    //     protocols, and client.
    this.#establish(config, protocols, origin, typeof options === 'object' && options !== null ? (options as Readonly<Record<string, unknown>>) : undefined);
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
   *
   * @param closeInfo `closeCode` (1000 or 3000–4999) and `reason` (at most 123 UTF-8 bytes)
   * @throws {DOMException} "InvalidAccessError" for another code, "SyntaxError" for a longer reason
   * @throws {TypeError} for a code outside 0–65535
   */
  close(closeInfo?: WebSocketCloseInfo): void {
    const info = toCloseInfo(closeInfo);
    // 1. Let code be closeInfo["closeCode"] if present, or null otherwise.
    const code = info.closeCode ?? null;
    // 2. Let reason be closeInfo["reason"].
    // 3. Close the WebSocket with this, code, and reason.
    this.#closeTheWebSocket(code, info.reason);
  }

  // ---- establishing -----------------------------------------------------------------

  #establish(config: Config, protocols: string[], origin: string | undefined, init: Readonly<Record<string, unknown>> | undefined): void {
    const dialing = startDial(config, { url: new URL(this.#url.href), protocols: [...protocols], signal: this.#dial.signal, origin, init });
    if (dialing === null) {
      this.#failTheConnection();
      return;
    }
    dialing.then(
      (result) => this.#established(dialedParts(result), protocols),
      () => this.#failTheConnection(),
    );
  }


  #established({ connection: conn, start }: DialedConnection, protocols: string[]): void {
    if (this.#failed || this.#closeQueued) {
      conn.abort();
      return;
    }
    if (protocols.length > 0 && conn.protocol === '') {
      conn.abort();
      this.#failTheConnection();
      return;
    }
    this.#connection = conn;
    conn.closed.then((info) => this.#connectionClosed(info.closeCode, info.reason, info.wasClean));
    // Until the readable exists, the connection keeps what arrives (and pauses reading).
    start();
    // "When the WebSocket connection is established for a WebSocketStream stream, queue a
    // task to run these steps:"
    queueTask(() => {
      if (this.#readyState !== CONNECTING) return;
      // 1. Change stream's ready state to OPEN (1).
      this.#readyState = OPEN;
      // 2. Set stream's was ever connected to true.
      this.#wasEverConnected = true;
      // 3. Let extensions be the extensions in use. 4. Let protocol be the subprotocol in use.
      const { extensions, protocol } = conn;
      // 5-8. Let readable be a new ReadableStream, set up with pullAlgorithm (pull bytes
      //      from stream) and cancelAlgorithm (cancel stream with reason).
      const readable = this.#createReadable(conn);
      // 9-13. Let writable be a new WritableStream, set up with writeAlgorithm,
      //       closeAlgorithm and abortAlgorithm.
      const writable = this.#createWritable(conn);
      // 14. Resolve stream's opened promise with WebSocketOpenInfo «[ "extensions" →
      //     extensions, "protocol" → protocol, "readable" → readable, "writable" → writable ]».
      this.#opened.resolve({ readable, writable, extensions, protocol });
    });
  }

  #createReadable(conn: WebSocketConnection): ReadableStream<string | Uint8Array> {
    const reader = conn.readable.getReader();
    this.#connReader = reader;
    return new ReadableStream<string | Uint8Array>(
      {
        start: (controller) => {
          this.#readableController = controller;
        },
        // "To pull bytes from a WebSocketStream stream, if stream is currently applying
        // backpressure, release backpressure": reading the connection's stream resumes it.
        pull: async (controller) => {
          let result: ReadableStreamReadResult<Message>;
          try {
            result = await reader.read();
          } catch {
            // Closed uncleanly: the closed steps error this stream with a WebSocketError.
            return;
          }
          noteActivity();
          if (result.done) {
            // Closed cleanly, and every message before the Close has been read.
            try {
              controller.close();
            } catch {
              /* already closed or errored */
            }
            return;
          }
          // "Let chunk be [...] a new DOMString containing data / a new Uint8Array object
          // whose contents are data". 3. Enqueue chunk into stream's readable stream.
          const message = result.value;
          controller.enqueue(typeof message === 'string' ? message : ownBytes(message));
        },
        // "To cancel a WebSocketStream stream given reason, close using reason giving stream and reason."
        cancel: (reason) => {
          this.#closeUsingReason(reason);
          // Release the connection's own stream: what still arrives is dropped, and a
          // paused transport reads on, so the peer's Close gets through.
          reader.cancel().catch(ignore);
        },
      },
      { highWaterMark: 0 },
    );
  }

  #createWritable(conn: WebSocketConnection): WritableStream<string | ArrayBuffer | ArrayBufferView> {
    const writer = conn.writable.getWriter();
    return new WritableStream<string | ArrayBuffer | ArrayBufferView>(
      {
        start: (controller) => {
          this.#writableController = controller;
        },
        // "To write chunk to a WebSocketStream stream:"
        write: async (chunk) => {
          this.#writesWaiting--;
          // 4. If chunk is a BufferSource, set data to a copy of the bytes given chunk and
          //    opcode to a binary frame opcode. (Web IDL: no [AllowShared], no
          //    [AllowResizable]: a SharedArrayBuffer, a resizable ArrayBuffer or a view on
          //    either is a TypeError, which rejects the write.)
          // 5. Otherwise, let string be the result of converting chunk to an IDL USVString
          //    (if this throws, return a promise rejected with the exception); set data to
          //    the result of UTF-8 encoding string and opcode to a text frame opcode.
          let data: SendData;
          try {
            data = toBufferSourceCopy(chunk) ?? toUSVString(chunk);
          } catch (error) {
            // The rejection errors the writable: the chunks behind this one are rejected
            // with it, and were reported to their writers; they do not count as unsent.
            this.#writableSettled = true;
            this.#writesWaiting = 0;
            throw error;
          }
          // 6.1. Wait until there is sufficient buffer space in stream to send the message:
          //      the previous write resolved only once the transport's queue was below its
          //      high-water mark.
          // 6.2. If the closing handshake has not yet started, send a WebSocket Message
          //      comprised of data using opcode. It has started: the message is never
          //      sent, and a write that did not happen does not succeed.
          if (conn.state !== 'open' || this.#readyState !== OPEN) {
            throw new DOMException('The WebSocketStream is closing: the message was not sent', 'InvalidStateError');
          }
          noteActivity();
          try {
            // The connection's writable sends at once and resolves once its transport's
            // queue is below the high-water mark.
            await writer.write(data);
          } catch {
            throw new DOMException('The WebSocket connection closed before the message was sent', 'InvalidStateError');
          }
          // 6.3. Resolve promise with undefined.
        },
        // closeAlgorithm: close the WebSocket with stream (no code, no reason), and settle
        // once the closing handshake is done: resolved for a clean close, rejected with the
        // WebSocketError otherwise (see the closed steps).
        close: () => {
          this.#writableSettled = true;
          const done = handledDeferred<void>();
          this.#writerClose = done;
          this.#closeTheWebSocket(null, '');
          return done.promise;
        },
        // abortAlgorithm: close using reason giving stream and reason.
        abort: (reason) => {
          this.#closeUsingReason(reason);
        },
      },
      {
        // One chunk of queue, as the default strategy; counting them tells close() whether
        // written data is still waiting to be sent.
        highWaterMark: 1,
        size: () => {
          // (Also called for a write the stream then refuses as closed or errored.)
          if (!this.#writableSettled) this.#writesWaiting++;
          return 1;
        },
      },
    );
  }

  // ---- closing ----------------------------------------------------------------------

  /** "Close using reason" for `readable.cancel(reason)` and `writable.abort(reason)`. */
  #closeUsingReason(reason: unknown): void {
    // 1. Let code be null. 2. Let reasonString be the empty string.
    let code: number | null = null;
    let reasonString = '';
    // 3. If reason implements WebSocketError, set code to reason's closeCode and
    //    reasonString to reason's reason.
    if (reason instanceof WebSocketError) {
      code = reason.closeCode;
      reasonString = reason.reason;
    }
    // 4. Close the WebSocket with stream, code, and reasonString. If this throws an
    //    exception, discard code and reasonString and close the WebSocket with stream.
    try {
      this.#closeTheWebSocket(code, reasonString);
    } catch {
      this.#closeTheWebSocket(null, '');
    }
  }

  /** "Close the WebSocket" given this, code and reason. */
  #closeTheWebSocket(code: number | null, reason: string): void {
    // Validate close code and reason with code and reason.
    validateCloseCodeAndReason(code, reason);
    noteActivity();
    // If the ready state is CLOSING (2) or CLOSED (3): do nothing.
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    const conn = this.#connection;
    // If the WebSocket connection is not yet established: fail the WebSocket connection
    // and set the ready state to CLOSING (2).
    if (conn === null) {
      this.#failTheConnection();
      this.#readyState = CLOSING;
      return;
    }
    // If the WebSocket closing handshake has not yet been started: start it (no body when
    // code is null and reason empty; code 1000 when only a reason is given). Set the ready
    // state to CLOSING (2).
    this.#readyState = CLOSING;
    // Chunks written but not yet sent are never sent now: the close is not a clean one.
    if (this.#writesWaiting > 0) this.#unsentAtClose = true;
    if (conn.state !== 'open') return;
    if (code === null && reason === '') conn.close();
    else conn.close({ closeCode: code ?? 1000, reason });
  }

  #failTheConnection(): void {
    if (this.#closeQueued) return;
    this.#failed = true;
    this.#dial.abort(new DOMException('The WebSocket connection was failed', 'AbortError'));
    const conn = this.#connection;
    this.#connectionClosed(1006, '', false);
    conn?.abort();
  }

  /** "When the WebSocket connection is closed for a WebSocketStream stream, possibly cleanly, queue a task:" */
  #connectionClosed(code: number, reason: string, wasClean: boolean): void {
    if (this.#closeQueued) return;
    this.#closeQueued = true;
    // Written data that was never sent makes the close unclean, whatever the handshake did.
    const unsent = this.#unsentAtClose || this.#writesWaiting > 0;
    const clean = !this.#failed && wasClean && !unsent;
    queueTask(() => {
      // 1. Change the ready state to CLOSED (3).
      this.#readyState = CLOSED;
      // 2. If stream's handshake aborted is true, then return.
      if (this.#handshakeAborted) return;
      // 3. If stream's was ever connected is false, then reject stream's opened promise
      //    with a new WebSocketError.
      if (!this.#wasEverConnected) this.#opened.reject(createWebSocketError('The WebSocket connection could not be established', null, ''));
      // 4. Let code be the WebSocket connection close code.
      // 5. Let reason be the result of applying UTF-8 decode without BOM to the WebSocket
      //    connection close reason.
      // (A connection that failed or dropped reports 1006; one that completed its closing
      // handshake with data left unsent reports the code and reason it closed with.)
      const handshakeDone = !this.#failed && wasClean;
      const closeCode = handshakeDone ? code : 1006;
      const closeReason = handshakeDone ? reason : '';
      if (clean) {
        // 6.1. Close stream's readable stream: once the messages it still holds are read
        //      (the pull algorithm closes it when the connection's stream ends).
        // 6.2. Error stream's writable stream with an "InvalidStateError" DOMException
        //      indicating that a closed WebSocketStream cannot be written to. (A writer's
        //      close() waiting for this handshake resolves instead: the stream is closed.)
        if (this.#writerClose !== null) this.#writerClose.resolve();
        else this.#writableController?.error(new DOMException('A closed WebSocketStream cannot be written to', 'InvalidStateError'));
        // 6.3. Resolve stream's closed promise with WebSocketCloseInfo «[ "closeCode" →
        //      code, "reason" → reason ]».
        this.#closed.resolve({ closeCode, reason: closeReason });
      } else {
        // 7.1. Let error be a new WebSocketError whose closeCode is code and reason is reason.
        const error = createWebSocketError(`The WebSocket connection closed abnormally (${closeCode})`, closeCode, closeReason);
        // 7.2. Error stream's readable stream with error.
        try {
          this.#readableController?.error(error);
        } catch {
          /* already closed */
        }
        this.#connReader?.cancel().catch(ignore);
        // 7.3. Error stream's writable stream with error (a writer's close() rejects with it).
        this.#writableController?.error(error);
        this.#writerClose?.reject(error);
        // 7.4. Reject stream's closed promise with error.
        this.#closed.reject(error);
      }
    });
  }
}

// Web IDL: a function's length is its number of required arguments.
Object.defineProperty(WebSocketStream, 'length', { value: 1 });
Object.defineProperty(WebSocketStream.prototype.close, 'length', { value: 0 });
applyInterfaceShape(WebSocketStream, 'WebSocketStream');

/**
 * Makes a `WebSocketStream` class that connects with `options.dialer`: an interface object
 * of its own with the Web IDL shape, running the code of {@link WebSocketStream} (see
 * `createWebSocketClass`).
 *
 * @example
 * ```ts
 * export const WebSocketStream = createWebSocketStreamClass({ dialer: tcpDialer });
 * ```
 */
export function createWebSocketStreamClass(options: WebSocketStreamClassOptions): typeof WebSocketStream {
  const config = resolveFacadeConfig(options);
  const Interface = copyInterface(WebSocketStream, null);
  configs.set(Interface, config);
  return Interface;
}
