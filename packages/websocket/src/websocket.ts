/**
 * The WHATWG `WebSocket` (WebSockets Standard, "The WebSocket interface") over a
 * pluggable `Dialer`: the states, attributes, exceptions, events and their order
 * that browsers have, with the protocol done by the codec's `WebSocketConnection`.
 *
 * Comments quote the standard's steps by number. Events fire in tasks of the WebSocket
 * task source (see task_queue.ts), never synchronously inside a method.
 * @module
 */
import { encodeUtf8, ProtocolError, type Message, type WebSocketConnection } from '@wsflow/codec';
import { noteActivity, track } from './activity.ts';
import { dialedParts, startDial, type DialedConnection } from './dialer.ts';
import { bufferSourceBytes, exactArrayBuffer } from './buffer_source.ts';
import { CloseEventImpl } from './close_event.ts';
import { ErrorEventImpl } from './error_event.ts';
import { validateCloseCodeAndReason } from './close_validation.ts';
import type { AddListenerOptions, Listener, ListenerOptions } from './dom_dictionaries.ts';
import { EventHandlers } from './event_handler.ts';
import { DEFAULT_FACADE_OPTIONS, resolveFacadeConfig, type FacadeConfig, type FacadeOptions } from './facade_config.ts';
import { MessageEventImpl } from './message_event.ts';
import { toProtocolList, validateProtocolList } from './protocol_list.ts';
import { ReadyState } from './ready_state.ts';
import { queueTask } from './task_queue.ts';
import { toClampedUnsignedShort, toDOMString, toUSVString } from './webidl.ts';
import { applyInterfaceShape, copyInterface, lookupByConstructor } from './webidl_interface.ts';
import { getURLRecord } from './websocket_url.ts';

/** `enum BinaryType { "blob", "arraybuffer" }` */
export type BinaryType = 'blob' | 'arraybuffer';

/** What `send()` accepts: `(BufferSource or Blob or USVString)`. */
export type WebSocketSendData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** An `on…` attribute's value. */
export type WebSocketEventHandler<E extends Event> = ((this: WebSocket, event: E) => unknown) | null;

/** The events a {@link WebSocket} fires. */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: Event;
  close: CloseEvent;
}

/**
 * The second constructor argument of a class made with `acceptInit`: the subprotocols,
 * and whatever else its dialer understands.
 */
export interface WebSocketInit {
  protocols?: string | readonly string[];
  readonly [option: string]: unknown;
}

/** How a class made by {@link createWebSocketClass} connects. */
export interface WebSocketClassOptions extends FacadeOptions {
  /**
   * Accept a `WebSocketInit` dictionary as the second argument: an object that is not
   * iterable, whose `protocols` member is the subprotocols and which reaches the dialer
   * whole as `request.init` (headers, TLS options… of a runtime shim), as undici and Bun
   * accept (whatwg/websockets#42). Default false: the standard's `(DOMString or
   * sequence<DOMString>)`, where such an object is the string "[object Object]".
   */
  acceptInit?: boolean;
}

interface Config extends FacadeConfig {
  acceptInit: boolean;
}

/** Whether a constructor argument is a WebSocketInit dictionary: an object, not iterable. */
function isInitDictionary(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function';
}

/**
 * The hidden configuration of each interface object made by {@link createWebSocketClass}:
 * its dialer and settings, found from `new.target` (not a property script could see).
 */
const configs = new WeakMap<object, Config>();

function resolveConfig(options: WebSocketClassOptions): Config {
  return { ...resolveFacadeConfig(options), acceptInit: options.acceptInit ?? false };
}

const defaultConfig: Config = resolveConfig(DEFAULT_FACADE_OPTIONS);

function configOf(newTarget: unknown): Config {
  return lookupByConstructor(configs, newTarget) ?? defaultConfig;
}

/** How often bufferedAmount looks at a transport that has not reported its drain. */
const TRANSMIT_POLL_MS = 10;
// The host's timers as they were at load: fake timers in a test must not stop the count.
const setTimer = globalThis.setTimeout.bind(globalThis);
const clearTimer = globalThis.clearTimeout.bind(globalThis);

/**
 * Runs `callback` in a later macrotask: a `MessageChannel` message where the runtime has
 * one (fake timers leave it alone, and the in-memory network's `flush()` waits for it),
 * else a timer.
 */
function afterThisTask(callback: () => void): void {
  const Channel = (globalThis as { MessageChannel?: typeof MessageChannel }).MessageChannel;
  if (typeof Channel !== 'function') {
    setTimer(callback, 0);
    return;
  }
  const { port1, port2 } = new Channel();
  port1.onmessage = () => {
    port1.close();
    port2.close();
    callback();
  };
  port2.postMessage(null);
}

/**
 * The host's turns, counted while anything is being sent: bytes handed to a transport in
 * the current turn are never taken off bufferedAmount in that turn, even by a message task
 * (the facade's tasks are promise jobs, so several can run in one host turn).
 */
let hostTurn = 0;
let turnEndQueued = false;
function currentHostTurn(): number {
  if (!turnEndQueued) {
    turnEndQueued = true;
    afterThisTask(() => {
      hostTurn++;
      turnEndQueued = false;
    });
  }
  return hostTurn;
}

const { CONNECTING, OPEN, CLOSING, CLOSED } = ReadyState;

function isBlob(value: unknown): value is Blob {
  return typeof Blob === 'function' && value instanceof Blob;
}

/** A send waiting behind a Blob being read, or a close waiting behind the sends. */
type QueuedSend = { kind: 'text'; data: string; size: number } | { kind: 'binary'; data: Uint8Array; size: number } | { kind: 'blob'; data: Blob; size: number } | { kind: 'close'; code: number | null; reason: string };

/**
 * A WHATWG `WebSocket`.
 *
 * This class, imported from `@wsflow/websocket`, reaches the in-memory servers of the
 * default network (see `TestServer`): a URL without one fails as an unreachable host
 * would. Runtime shims export a `WebSocket` made by {@link createWebSocketClass} with
 * their TCP/TLS dialer: a class of its own with the same members and the same code.
 *
 * @example
 * ```ts
 * const ws = new WebSocket('wss://example.com/chat', ['chat.v2']);
 * ws.binaryType = 'arraybuffer';
 * ws.onopen = () => ws.send('Hello');
 * ws.onmessage = (event) => console.log(event.data);
 * ws.onclose = (event) => console.log(event.code, event.reason, event.wasClean);
 * ```
 */
export class WebSocket extends EventTarget {
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  /** `"WebSocket"`: the class string (a data property of the prototype, as Web IDL defines it). */
  declare readonly [Symbol.toStringTag]: string;

  /** The URL record (WebSockets Standard: "Each WebSocket object has an associated url"). */
  readonly #url: URL;

  /**
   * True for an instance of this class or of any class made from it by {@link createWebSocketClass}
   * (they share this implementation), so `x instanceof WebSocket` answers "is it a wsflow WebSocket"
   * whatever runtime made it. Those classes themselves answer by their prototype only.
   */
  static override [Symbol.hasInstance](this: unknown, value: unknown): boolean {
    // A subclass inherits this method: it answers as any class does, by its prototype.
    if (this !== WebSocket) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && #url in value;
  }

  #readyState: ReadyState = CONNECTING;
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType = 'blob';
  readonly #handlers = new EventHandlers(this);
  /** Aborted to give up on establishing the connection. */
  readonly #dial = new AbortController();
  /** Set once the connection is established (the dialer resolved). */
  #connection: WebSocketConnection | null = null;
  /** "The user agent was required to fail the WebSocket connection." */
  #failed = false;
  /** Why it failed, when known: what the `error` event carries. */
  #failure: unknown = undefined;
  /** The task that fires close is queued: later ends are ignored. */
  #closeQueued = false;
  /** The connection was closing when it was handed over: an unclean end means it failed. */
  #failedIfUnclean = false;

  // bufferedAmount: "the number of bytes of application data (UTF-8 text and binary data)
  // that have been queued using send() but, as of the last time the event loop reached
  // step 1, had not yet been transmitted to the network".
  /** What the attribute returns: grows in send(), shrinks only in a task queued later. */
  #bufferedAmount = 0;
  /** Of those, the bytes handed to the connection and not yet taken off. */
  #inFlight = 0;
  /** Of those, the bytes seen transmitted (the transport's queue was empty after them). */
  #seenSent = 0;
  /** A task that takes the seen bytes off is coming (after the current macrotask). */
  #applyQueued = false;
  /** The host turn of the last send, and the bytes handed over in it. */
  #sendTurn = -1;
  #handedThisTurn = 0;
  /** The poll timer, while bytes handed over are not seen transmitted. */
  #pollTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Sends (and a close) waiting behind a Blob being read; null when none is. */
  #sendQueue: QueuedSend[] | null = null;

  /**
   * Creates a WebSocket and starts establishing its connection.
   *
   * @param url an absolute `ws:`, `wss:`, `http:` or `https:` URL, or one relative to the base URL
   * @param protocols a subprotocol, or a list of them, to offer (or a {@link WebSocketInit}
   *   for a class made with `acceptInit`)
   * @throws {DOMException} "SyntaxError" for a URL that does not parse, has another
   *   scheme or has a fragment, and for invalid or repeated subprotocols
   * @throws {TypeError} without arguments
   */
  constructor(url: string | URL, protocols?: string | readonly string[] | WebSocketInit) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
    super();
    const config = configOf(new.target);
    // Web IDL: `USVString url`, `optional (DOMString or sequence<DOMString>) protocols = []`.
    const urlString = toUSVString(url);
    // With `acceptInit`, a non-iterable object is a WebSocketInit dictionary instead
    // (whatwg/websockets#42): its `protocols`, and the whole of it for the dialer.
    let init: Readonly<Record<string, unknown>> | undefined;
    let protocolList: string[];
    if (config.acceptInit && isInitDictionary(protocols)) {
      init = protocols;
      protocolList = toProtocolList(protocols.protocols);
    } else protocolList = toProtocolList(protocols);

    // 1. Let baseURL be this's relevant settings object's API base URL.
    const baseURL = config.baseURL();
    // 2. Let urlRecord be the result of getting a URL record given url and baseURL.
    const urlRecord = getURLRecord(urlString, baseURL);
    //    (If urlRecord is failure, then throw a "SyntaxError" DOMException.)
    if (urlRecord === null) {
      throw new DOMException(`Failed to construct 'WebSocket': The URL '${urlString}' is invalid.`, 'SyntaxError');
    }
    // 3. If protocols is a string, set protocols to a sequence consisting of just that string.
    //    (Done by the conversion above.)
    // 4. If any of the values in protocols occur more than once or otherwise fail to match
    //    the requirements for elements that comprise the value of `Sec-WebSocket-Protocol`
    //    fields as defined by The WebSocket protocol, then throw a "SyntaxError" DOMException.
    validateProtocolList(protocolList);
    // 5. Set this's url to urlRecord.
    this.#url = urlRecord;
    // 6. Let client be this's relevant settings object. (Its origin is sent as `Origin`.)
    const origin = config.origin(baseURL);
    // 7. Run this step in parallel: establish a WebSocket connection given urlRecord,
    //    protocols, and client.
    this.#establish(config, protocolList, origin, init);
  }

  /** Returns this's url, serialized. */
  get url(): string {
    return this.#url.href;
  }

  /** The state of the connection: CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): ReadyState {
    return this.#readyState;
  }

  /**
   * Bytes of application data (UTF-8 text and binary data, before framing and compression)
   * queued using `send()` but not yet transmitted to the network. It grows in `send()` and
   * shrinks in a later task, once the transport's queue has emptied. Once closing has
   * started it only grows: data sent then is counted and never transmitted.
   */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** The extensions selected by the server, `''` until open and when none. */
  get extensions(): string {
    return this.#extensions;
  }

  /** The subprotocol selected by the server, `''` until open and when none. */
  get protocol(): string {
    return this.#protocol;
  }

  /**
   * How binary messages are exposed: `'blob'` (the default) or `'arraybuffer'`. Read when
   * each message event is dispatched; other values are ignored (Web IDL enumeration).
   */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    const text = toDOMString(value);
    if (text === 'blob' || text === 'arraybuffer') this.#binaryType = text;
  }

  get onopen(): WebSocketEventHandler<Event> {
    return this.#handlers.get('open') as WebSocketEventHandler<Event>;
  }
  set onopen(value: WebSocketEventHandler<Event>) {
    this.#handlers.set('open', value);
  }

  get onmessage(): WebSocketEventHandler<MessageEvent> {
    return this.#handlers.get('message') as WebSocketEventHandler<MessageEvent>;
  }
  set onmessage(value: WebSocketEventHandler<MessageEvent>) {
    this.#handlers.set('message', value);
  }

  get onerror(): WebSocketEventHandler<Event> {
    return this.#handlers.get('error') as WebSocketEventHandler<Event>;
  }
  set onerror(value: WebSocketEventHandler<Event>) {
    this.#handlers.set('error', value);
  }

  get onclose(): WebSocketEventHandler<CloseEvent> {
    return this.#handlers.get('close') as WebSocketEventHandler<CloseEvent>;
  }
  set onclose(value: WebSocketEventHandler<CloseEvent>) {
    this.#handlers.set('close', value);
  }

  /**
   * Closes the connection: starts the closing handshake, or fails a connection still
   * being established. Without a code the Close frame has no payload (the peer then
   * reports 1005); with a reason but no code, the code is 1000.
   *
   * @param code 1000 or 3000–4999 ([Clamp]ed: 999.5 is 1000, NaN is 0)
   * @param reason at most 123 bytes of UTF-8
   * @throws {DOMException} "InvalidAccessError" for another code, "SyntaxError" for a longer reason
   */
  close(code?: number, reason?: string): void {
    // Web IDL: `optional [Clamp] unsigned short code, optional USVString reason`.
    const clamped = code === undefined ? undefined : toClampedUnsignedShort(code);
    const text = reason === undefined ? undefined : toUSVString(reason);
    // 1. If code is the special value "missing", then set code to null.
    const closeCode = clamped ?? null;
    // 2. If reason is the special value "missing", then set reason to the empty string.
    // 3. Validate close code and reason with code and reason.
    validateCloseCodeAndReason(closeCode, text ?? null);
    // 4. Close the WebSocket with this, code, and reason.
    this.#closeTheWebSocket(closeCode, text ?? '');
  }

  /**
   * Transmits `data`: a string as a text message, anything binary as a binary message.
   * Anything else is converted to a string first (`send(null)` sends `"null"`).
   *
   * @throws {DOMException} "InvalidStateError" while CONNECTING
   * @throws {TypeError} without an argument
   */
  send(data: WebSocketSendData): void {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    // Web IDL: `(BufferSource or Blob or USVString) data`. A SharedArrayBuffer, a resizable
    // ArrayBuffer or a view on either is a TypeError (no [AllowShared], no [AllowResizable]).
    let item: QueuedSend;
    let bytes: Uint8Array | null;
    if (isBlob(data)) item = { kind: 'blob', data, size: data.size };
    else if ((bytes = bufferSourceBytes(data)) !== null) item = { kind: 'binary', data: bytes, size: bytes.byteLength };
    else {
      const text = toUSVString(data);
      item = { kind: 'text', data: text, size: encodeUtf8(text).length };
    }
    // 1. If this's ready state is CONNECTING, then throw an "InvalidStateError" DOMException.
    if (this.#readyState === CONNECTING) {
      throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
    }
    noteActivity();
    // 2. "If the WebSocket connection is established and the WebSocket closing handshake has
    //    not yet started, then the user agent must send a WebSocket Message comprised of
    //    data [...] Any invocation of this method [...] that does not throw an exception
    //    must increase the bufferedAmount attribute by the number of bytes needed to express
    //    the argument as UTF-8 / by the size of the Blob / by the length of the buffer."
    //    Application bytes: before framing and permessage-deflate.
    this.#bufferedAmount += item.size;
    const conn = this.#connection;
    // Closing has started: the data is never sent, and stays counted.
    if (this.#readyState !== OPEN || conn === null || conn.state !== 'open') return;
    if (this.#sendQueue !== null) {
      // Behind a Blob being read: keep a copy, the caller may reuse its buffer.
      if (item.kind === 'binary') item = { kind: 'binary', data: new Uint8Array(item.data), size: item.size };
      this.#sendQueue.push(item);
      return;
    }
    if (item.kind === 'blob') {
      this.#sendQueue = [item];
      void track(this.#drainSendQueue(conn));
      return;
    }
    this.#transmit(conn, item);
  }

  // ---- establishing -----------------------------------------------------------------

  #establish(config: Config, protocols: string[], origin: string | undefined, init: Readonly<Record<string, unknown>> | undefined): void {
    // Fetch: "should request be blocked due to a bad port" → a network error, which fails
    // the WebSocket connection (WebSockets Standard, "establish a WebSocket connection",
    // processResponse step 1).
    const dialing = startDial(config, { url: new URL(this.#url.href), protocols: [...protocols], signal: this.#dial.signal, origin, init });
    if (dialing === null) {
      this.#failTheConnection(new TypeError(`the port of ${this.#url.href} is blocked (Fetch "bad port")`));
      return;
    }
    dialing.then(
      (result) => this.#established(dialedParts(result), protocols),
      (error: unknown) => this.#failTheConnection(error),
    );
  }


  #established({ connection: conn, start }: DialedConnection, protocols: string[]): void {
    if (this.#failed || this.#closeQueued) {
      conn.abort();
      return;
    }
    // "If protocols is not the empty list and extracting header list values given
    // `Sec-WebSocket-Protocol` and response's header list results in null, failure, or the
    // empty byte sequence, then fail the WebSocket connection."
    if (protocols.length > 0 && conn.protocol === '') {
      conn.abort();
      this.#failTheConnection(new Error(`the server selected none of the subprotocols offered (${protocols.join(', ')})`));
      return;
    }
    // The WebSocket connection is established.
    this.#connection = conn;
    // The peer broke the protocol: the connection failed it (and sent the Close code).
    conn.onerror = (error) => {
      if (error instanceof ProtocolError) {
        this.#failed = true;
        this.#failure ??= error;
      }
    };
    // An error before this subscription was not seen. A connection already closing now
    // (no Close from us yet) got the peer's Close, or failed: if it ends uncleanly, it
    // failed. (The codec's connection does not keep its ProtocolError for late subscribers.)
    if (conn.state === 'closing') this.#failedIfUnclean = true;
    // Queued before the connection starts reading: a message in the same bytes as the
    // handshake's answer queues its task behind this one, so it finds the state OPEN.
    // "When the WebSocket connection is established, the user agent must queue a task to
    // run these steps:"
    queueTask(() => {
      // A close() since then started the closing handshake: no open event (as browsers do).
      if (this.#readyState !== CONNECTING) return;
      // 1. Change the ready state to OPEN (1).
      this.#readyState = OPEN;
      // 2. Change the extensions attribute's value to the extensions in use, if it is not the null value.
      this.#extensions = conn.extensions;
      // 3. Change the protocol attribute's value to the subprotocol in use, if it is not the null value.
      this.#protocol = conn.protocol;
      // 4. Fire an event named open at the WebSocket object.
      this.dispatchEvent(new Event('open'));
    });
    this.#receive(conn);
    start();
  }

  // ---- feedback from the protocol ---------------------------------------------------

  /**
   * Takes the connection's messages, then its end, through its ordered event path: each
   * message reaches `onmessage` synchronously, in order (those kept before this
   * subscription first), and `onclose` comes after the last of them, even when the end
   * is unclean. Their tasks are queued in that order. A connection that already ended
   * hands its kept messages over in a microtask queued by the setter, before its
   * `closed` settles.
   */
  #receive(conn: WebSocketConnection): void {
    const closedAlready = conn.state === 'closed';
    conn.onmessage = (data) => this.#messageReceived(conn, data);
    if (closedAlready) void conn.closed.then((info) => this.#connectionClosed(info.closeCode, info.reason, info.wasClean));
    else conn.onclose = (info) => this.#connectionClosed(info.closeCode, info.reason, info.wasClean);
  }

  /** "When a WebSocket message has been received with type type and data data, the user agent must queue a task:" */
  #messageReceived(conn: WebSocketConnection, data: Message): void {
    queueTask(() => {
      // 1. If this's ready state is not OPEN (1), then return.
      if (this.#readyState !== OPEN) return;
      // This task is a new turn of the event loop: bytes the transport has sent by now were
      // transmitted before it, so the event sees them gone (a browser's echo does), rather
      // than waiting for the task that would otherwise take them off.
      if (this.#inFlight > 0) this.#takeTransmittedEarlier(conn);
      // 2. Let dataForEvent be determined by switching on type and binary type:
      //    - type indicates that the data is Text: a new DOMString containing data
      //    - Binary and binary type is "blob": a new Blob object that represents data as its raw data
      //    - Binary and binary type is "arraybuffer": a new ArrayBuffer object whose contents are data
      let dataForEvent: string | Blob | ArrayBuffer;
      if (typeof data === 'string') dataForEvent = data;
      else if (this.#binaryType === 'blob') dataForEvent = new Blob([data as Uint8Array<ArrayBuffer>]);
      else dataForEvent = exactArrayBuffer(data);
      // 3. Fire an event named message at the WebSocket object, using MessageEvent, with the
      //    origin attribute initialized to the serialization of the WebSocket object's url's
      //    origin, and the data attribute initialized to dataForEvent.
      this.dispatchEvent(new MessageEventImpl('message', { data: dataForEvent, origin: this.#url.origin }) as Event);
    });
  }

  /** "When the WebSocket connection is closed, possibly cleanly, the user agent must queue a task:" */
  #connectionClosed(code: number, reason: string, wasClean: boolean): void {
    if (this.#closeQueued) return;
    this.#closeQueued = true;
    // Failing (RFC 6455 §7.1.7: a refused or invalid handshake, a protocol error of the
    // peer, close() while connecting) fires error and reports 1006. A connection lost
    // without a closing handshake is not failed: close reports 1006 (§7.1.5), wasClean
    // false, and no error fires — as the standard's steps say, and as Chromium does.
    const failed = this.#failed || (this.#failedIfUnclean && !wasClean);
    const error = failed ? (this.#failure ?? this.#connection?.error ?? undefined) : undefined;
    queueTask(() => {
      // 1. Change the ready state to CLOSED (3).
      this.#readyState = CLOSED;
      // 2. If the user agent was required to fail the WebSocket connection, or if the
      //    WebSocket connection was closed after being flagged as full, fire an event
      //    named error at the WebSocket object.
      //    (An ErrorEvent, as undici and Deno fire: its message and error say why.)
      if (failed) this.dispatchEvent(new ErrorEventImpl('error', { message: this.#failureMessage(error), error }) as Event);
      // 3. Fire an event named close at the WebSocket object, using CloseEvent, with the
      //    wasClean attribute initialized to true if the connection closed cleanly and
      //    false otherwise, the code attribute initialized to the WebSocket connection
      //    close code, and the reason attribute initialized to the result of applying
      //    UTF-8 decode without BOM to the WebSocket connection close reason.
      this.dispatchEvent(
        new CloseEventImpl('close', {
          wasClean: !failed && wasClean,
          code: failed ? 1006 : code,
          reason: failed ? '' : reason,
        }) as Event,
      );
    });
  }

  /** The `message` of the error event: what failed, and why when known. */
  #failureMessage(error: unknown): string {
    const prefix = `WebSocket connection to '${this.#url.href}' failed`;
    if (error === undefined) return prefix;
    let why = error instanceof Error ? error.message || error.name : String(error);
    if (error instanceof ProtocolError) why += ` (close code ${error.closeCode})`;
    else if (error instanceof Error && 'status' in error && typeof error.status === 'number') {
      if (!why.includes(String(error.status))) why += ` (HTTP status ${error.status})`;
    } else if (error instanceof Error && 'code' in error && typeof error.code === 'string' && !why.includes(error.code)) {
      // A system error's code (Bun says only "Failed to connect" for ECONNREFUSED).
      why += ` (${error.code})`;
    }
    return `${prefix}: ${why}`;
  }

  /**
   * Fail the WebSocket connection (RFC 6455 §7.1.7): drop what there is, and the
   * connection is closed with 1006. `reason` (what the dialer rejected with, …) is what
   * the error event carries.
   */
  #failTheConnection(reason?: unknown): void {
    if (this.#closeQueued) return;
    this.#failed = true;
    this.#failure ??= reason;
    this.#dial.abort(new DOMException('The WebSocket connection was failed', 'AbortError'));
    this.#sendQueue = null;
    const conn = this.#connection;
    this.#connectionClosed(1006, '', false);
    conn?.abort();
  }

  // ---- closing ----------------------------------------------------------------------

  /** "Close the WebSocket" given this, code and reason (after validation). */
  #closeTheWebSocket(code: number | null, reason: string): void {
    noteActivity();
    // If this's ready state is CLOSING (2) or CLOSED (3): do nothing.
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    const conn = this.#connection;
    // If the WebSocket connection is not yet established: fail the WebSocket connection
    // and set this's ready state to CLOSING (2).
    if (conn === null) {
      this.#failTheConnection(new DOMException('the WebSocket was closed before the connection was established', 'AbortError'));
      this.#readyState = CLOSING;
      return;
    }
    this.#readyState = CLOSING;
    // The Close frame goes after the messages already sent (the close() note): behind a
    // Blob still being read, it waits its turn.
    if (this.#sendQueue !== null) {
      this.#sendQueue.push({ kind: 'close', code, reason });
      return;
    }
    this.#startClosingHandshake(conn, code, reason);
  }

  /**
   * If the WebSocket closing handshake has not yet been started: start it. "If code is
   * null and reason is the empty string, the WebSocket Close frame must not have a body.
   * If reason is non-empty but code is null, then set code to 1000." Otherwise it has
   * started (the peer's Close arrived) and only the ready state changes.
   */
  #startClosingHandshake(conn: WebSocketConnection, code: number | null, reason: string): void {
    if (conn.state !== 'open') return;
    if (code === null && reason === '') conn.close();
    else conn.close({ closeCode: code ?? 1000, reason });
  }

  // ---- sending ----------------------------------------------------------------------

  #transmit(conn: WebSocketConnection, item: QueuedSend): void {
    if (item.kind === 'close') {
      this.#startClosingHandshake(conn, item.code, item.reason);
      return;
    }
    if (item.kind === 'blob') return;
    // The codec writes the frame at once; false means the closing handshake started (the
    // bytes then stay in bufferedAmount: they are never transmitted).
    if (conn.send(item.data)) {
      const turn = currentHostTurn();
      if (turn !== this.#sendTurn) {
        this.#sendTurn = turn;
        this.#handedThisTurn = 0;
      }
      this.#handedThisTurn += item.size;
      this.#inFlight += item.size;
      this.#watchTransmission(conn);
    }
  }

  /**
   * Watches the transport for the bytes just handed over. Seeing them transmitted and
   * taking them off bufferedAmount are two things: the transport's queue is looked at
   * whenever it reports a drain (which may be in a microtask of the very task that sent),
   * and what was seen is taken off in a task queued after the current macrotask, never in
   * the task that sent (the attribute reflects the state "as of the last time the event
   * loop reached step 1").
   */
  #watchTransmission(conn: WebSocketConnection): void {
    conn.ondrain = () => this.#observeTransmission(conn);
    this.#queueApply(conn);
  }

  /**
   * Once the transport's queue is empty, every byte handed to it so far was transmitted:
   * what send() counted for them may go. (A Close queued later by the codec does not undo
   * that, which is why this is noted when seen rather than looked up later.)
   */
  #observeTransmission(conn: WebSocketConnection): void {
    if (this.#inFlight > this.#seenSent && conn.bufferedAmount === 0) {
      this.#seenSent = this.#inFlight;
      this.#queueApply(conn);
    }
  }

  #queueApply(conn: WebSocketConnection): void {
    if (this.#applyQueued) return;
    this.#applyQueued = true;
    afterThisTask(() => queueTask(() => this.#applyTransmission(conn)));
  }

  /**
   * The task that takes the transmitted bytes off. Bytes not seen transmitted yet are
   * looked at again on the transport's next drain, or after {@link TRANSMIT_POLL_MS} (a
   * transport may empty its queue without reporting it: Node's reports only past its
   * high-water mark). The sizes of the messages are what is counted, so a message
   * compressed to a few bytes still counts whole.
   */
  #applyTransmission(conn: WebSocketConnection): void {
    this.#applyQueued = false;
    this.#observeTransmission(conn);
    this.#takeOff(conn, this.#seenSent);
    if (this.#inFlight === 0) return;
    this.#stopPolling();
    this.#pollTransmission(conn);
  }

  /**
   * At the start of a message task: takes off what the transport has transmitted, except
   * bytes handed to it in this host turn (those wait for the apply task as usual).
   */
  #takeTransmittedEarlier(conn: WebSocketConnection): void {
    this.#observeTransmission(conn);
    const fresh = this.#sendTurn === hostTurn ? this.#handedThisTurn : 0;
    const take = Math.min(this.#seenSent, this.#inFlight - fresh);
    if (take > 0) this.#takeOff(conn, take);
  }

  /** Takes `bytes` seen transmitted off bufferedAmount; with nothing left in flight, stops watching. */
  #takeOff(conn: WebSocketConnection, bytes: number): void {
    this.#bufferedAmount -= bytes;
    this.#inFlight -= bytes;
    this.#seenSent -= bytes;
    if (this.#inFlight > 0) return;
    this.#stopPolling();
    if (conn.ondrain !== null) conn.ondrain = null;
  }

  #stopPolling(): void {
    if (this.#pollTimer === undefined) return;
    clearTimer(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /** Looks at the transport every {@link TRANSMIT_POLL_MS} until the bytes are seen transmitted. */
  #pollTransmission(conn: WebSocketConnection): void {
    // Closed with bytes still queued: those were never transmitted.
    if (conn.state === 'closed') return;
    this.#pollTimer = setTimer(() => {
      this.#pollTimer = undefined;
      this.#observeTransmission(conn);
      if (!this.#applyQueued) this.#pollTransmission(conn);
    }, TRANSMIT_POLL_MS);
  }

  /** Sends the queue in order, reading each Blob first. */
  async #drainSendQueue(conn: WebSocketConnection): Promise<void> {
    for (;;) {
      const queue = this.#sendQueue;
      if (queue === null) return;
      const next = queue[0];
      if (next === undefined) {
        this.#sendQueue = null;
        return;
      }
      let item: QueuedSend = next;
      if (item.kind === 'blob') {
        try {
          item = { kind: 'binary', data: new Uint8Array(await item.data.arrayBuffer()), size: item.size };
        } catch (error) {
          // The Blob could not be read: the message cannot be sent.
          this.#failTheConnection(error);
          return;
        }
        if (this.#sendQueue !== queue) return;
      }
      queue.shift();
      this.#transmit(conn, item);
    }
  }
}

const constants = {
  CONNECTING: { value: CONNECTING, enumerable: true },
  OPEN: { value: OPEN, enumerable: true },
  CLOSING: { value: CLOSING, enumerable: true },
  CLOSED: { value: CLOSED, enumerable: true },
} as const;
// Web IDL constants: on the interface object and on the prototype, read-only.
Object.defineProperties(WebSocket, constants);
Object.defineProperties(WebSocket.prototype, constants);
// Web IDL: a function's length is its number of required arguments.
Object.defineProperty(WebSocket, 'length', { value: 1 });
Object.defineProperty(WebSocket.prototype.close, 'length', { value: 0 });
// Web IDL: attributes and operations are enumerable own properties of the prototype, and
// its class string is a data property.
applyInterfaceShape(WebSocket, 'WebSocket');

export interface WebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | AddListenerOptions,
  ): void;
  addEventListener(type: string, listener: Listener | null, options?: boolean | AddListenerOptions): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | ListenerOptions,
  ): void;
  removeEventListener(type: string, listener: Listener | null, options?: boolean | ListenerOptions): void;
}

/**
 * Makes a `WebSocket` class that connects with `options.dialer`. It is an interface object
 * of its own, shaped as Web IDL says (its prototype's prototype is `EventTarget.prototype`,
 * the members and constants are its own), running the code of {@link WebSocket}: its
 * instances are not `instanceof` the package's `WebSocket`, as one runtime's native
 * `WebSocket` instances are not of another's.
 *
 * @example
 * ```ts
 * // In a runtime shim:
 * export const WebSocket = createWebSocketClass({ dialer: tcpDialer });
 * // In a test, without touching globals:
 * const WS = createWebSocketClass({ dialer: network.dialer, baseURL: 'https://app.test/' });
 * const ws = new WS('/socket'); // wss://app.test/socket
 * ```
 */
export function createWebSocketClass(options: WebSocketClassOptions): typeof WebSocket {
  const config = resolveConfig(options);
  const Interface = copyInterface(WebSocket, EventTarget);
  configs.set(Interface, config);
  return Interface;
}
