/**
 * A WebSocket connection over any byte transport: the sans-I/O core plus what every
 * runtime needs alike — write batching, the closing handshake's ending, the close
 * timeout and heartbeat (on injected timers), and the WebSocketStream-shaped surface
 * (`readable`, `writable`, `closed`, `close()`) with backpressure both ways.
 *
 * Runtime shims implement {@link ByteTransport} over their sockets and call
 * {@link WebSocketConnection.receive} and friends from their socket events; nothing
 * here imports a runtime API.
 * @module
 */
import { bytesOf } from './bytes.ts';
import { BufferedAmountError, checkBufferedAmountLimit, defaultMaxBufferedAmount, type BufferedAmountLimit, type BufferedAmountPolicy } from './buffered_amount_policy.ts';
import { CloseCode, type Role } from './constants.ts';
import type { ProtocolError } from './errors.ts';
import type { Limits } from './limits.ts';
import type { MaskKeySource } from './mask.ts';
import type { PerMessageDeflate } from './per_message_deflate.ts';
import { PreparedMessage } from './prepared_message.ts';
import { ProtocolState, WebSocketProtocol, type ProtocolHandler } from './protocol.ts';
import { encodeUtf8 } from './utf8.ts';

/** The bytes side of a connection, implemented by each runtime shim. */
export interface ByteTransport {
  /** Queues bytes for sending, in order. */
  write(chunk: Uint8Array): void;
  /** Queues several buffers at once (one `writev` where the runtime has it). Optional. */
  writev?(chunks: Uint8Array[]): void;
  /** Sends what is queued, then closes the sending side (TCP FIN). */
  end(): void;
  /** Closes at once, dropping what is queued. */
  destroy(): void;
  /** Stops delivering received bytes (read backpressure). */
  pause(): void;
  /** Delivers received bytes again. */
  resume(): void;
  /** Bytes queued but not yet handed to the operating system. */
  readonly bufferedAmount: number;
}

/** Timer functions, injected so that the codec touches no global (shims pass the runtime's). */
export interface Timers {
  /**
   * Starts a timer. `keepAlive` is true for a timer that something awaits: the close
   * timeout, which settles `closed` (and so a server's `close()`) when a peer does not
   * finish the closing handshake, even when no socket is reading meanwhile. A runtime
   * keeps the process alive for such a timer; other timers (heartbeats) never keep it
   * alive on their own.
   */
  setTimeout(callback: () => void, ms: number, keepAlive?: boolean): unknown;
  clearTimeout(handle: unknown): void;
}

/** Heartbeat settings: a Ping every `interval` ms; a peer silent for `timeout` ms after one is dropped. */
export interface HeartbeatOptions {
  /** Milliseconds between Pings. */
  interval: number;
  /** Milliseconds to wait for any frame after a Ping before dropping the peer. Default: `interval`. */
  timeout?: number;
}

/** Options of a {@link WebSocketConnection}. */
export interface ConnectionOptions extends Limits, BufferedAmountLimit {
  /** Which end this is. */
  role: Role;
  /** The negotiated subprotocol (`''` for none). */
  protocol?: string;
  /** The negotiated extensions, as the `Sec-WebSocket-Extensions` value (`''` for none). */
  extensions?: string;
  /**
   * permessage-deflate as negotiated (RFC 7692), made from `extensions` by whoever ran the
   * handshake (the shims do). Default: none.
   */
  perMessageDeflate?: PerMessageDeflate;
  /** Answer Pings automatically. Default true. */
  autoPong?: boolean;
  /** Mask-key source for the client role. */
  maskKeys?: MaskKeySource;
  /**
   * The transport hands its read buffers over and never writes them again: masked
   * payloads are unmasked in place, payloads split across reads that lie back to back in
   * one buffer are delivered as a view of it, and a large payload sent back as received
   * goes out with its new header where the old one was, as one buffer. Default false.
   */
  mutableInput?: boolean;
  /**
   * Allocates the buffers that payloads split across reads are gathered in and that
   * outgoing frames are written into. Every byte of them is written before use, so they
   * need not be zero-filled (Node passes `Buffer.allocUnsafe`). Default: `new Uint8Array(size)`.
   */
  allocate?: (size: number) => Uint8Array;
  /** Timers for the close timeout and heartbeat; without them neither runs. */
  timers?: Timers;
  /** Milliseconds to wait for the peer's Close (or the transport's end) after ours before dropping it. Default 5000. */
  closeTimeout?: number;
  /** Pings to detect dead peers. Off by default. */
  heartbeat?: HeartbeatOptions | false;
  /** Messages `readable` buffers before it pauses the transport. Default 16. */
  readableHighWaterMark?: number;
  /** Queued bytes above which `writable` waits for a drain. Default 1 MiB. */
  writableHighWaterMark?: number;
  /**
   * Told when one of the user's callbacks (`onmessage`, `onping`, `onpong`, `onclosing`,
   * `onerror`, `onclose`) throws. The connection is closed with 1011 first (RFC 6455 §7.4.1:
   * an unexpected condition) and goes on parsing what it received; nothing is rethrown into
   * the transport's event. Servers pass their `onError` here. Default: reported on stderr.
   */
  onCallbackError?: (error: unknown, connection: WebSocketConnection) => void;
  /**
   * Told once, after `onclose` and `closed`, that the connection is finished: for a server
   * that keeps its open connections in a set, without a `closed` promise per connection.
   */
  onFinished?: (connection: WebSocketConnection) => void;
}

/** A message as delivered: text as a string, binary as bytes. */
export type Message = string | Uint8Array;

/** What can be sent: text, or binary in any of the web's forms. */
export type SendData = string | ArrayBuffer | ArrayBufferView | Blob;

/** How a connection ended. `closeCode` is 1006 when no Close frame arrived (RFC 6455 §7.1.5). */
export interface CloseInfo {
  closeCode: number;
  reason: string;
  /** True when both Close frames were exchanged (RFC 6455 §7.1.4, WHATWG "wasClean"). */
  wasClean: boolean;
}

/** Options of one {@link WebSocketConnection.send}. */
export interface SendOptions {
  /**
   * With permessage-deflate negotiated: `false` sends this message uncompressed, `true`
   * compresses it whatever its size. Default: compressed from the threshold up.
   */
  compress?: boolean;
}

/** Options of {@link WebSocketConnection.close}, as in `WebSocketStream`. */
export interface CloseOptions {
  closeCode?: number;
  /**
   * The reason: a string, or its UTF-8 octets as a `Uint8Array`, sent as they are (checked
   * to be UTF-8, RFC 6455 §5.5.1). At most 123 octets. Anything else is a TypeError, never
   * turned into text (the WHATWG facade's WebIDL conversion happens in the facade).
   */
  reason?: string | Uint8Array;
}

/** Writes larger than this in one batch are handed over as a list rather than concatenated. */
const CONCAT_MAX = 64 * 1024;

/** A reason object with a close code, as `WebSocketError` carries (duck-typed). */
function closeOptionsFrom(reason: unknown): CloseOptions {
  if (typeof reason === 'object' && reason !== null && typeof (reason as { closeCode?: unknown }).closeCode === 'number') {
    const r = reason as { closeCode: number; reason?: unknown };
    return { closeCode: r.closeCode, reason: typeof r.reason === 'string' ? r.reason : '' };
  }
  return {};
}

/** Settings of a connection that rarely differ between connections: shared when equal. */
interface Settings {
  readonly timers: Timers | undefined;
  readonly closeTimeout: number;
  readonly heartbeat: HeartbeatOptions | undefined;
  readonly readableHighWaterMark: number;
  readonly writableHighWaterMark: number;
  readonly allocate: ((size: number) => Uint8Array) | undefined;
  readonly maxBufferedAmount: number;
  readonly bufferedAmountPolicy: BufferedAmountPolicy;
  readonly onCallbackError: ((error: unknown, connection: WebSocketConnection) => void) | undefined;
  readonly onFinished: ((connection: WebSocketConnection) => void) | undefined;
}

/** The settings object made last, reused by the next connection made with the same values. */
let lastSettings: Settings | null = null;

function settingsOf(options: ConnectionOptions): Settings {
  const timers = options.timers;
  const closeTimeout = options.closeTimeout ?? 5000;
  const heartbeat = options.heartbeat || undefined;
  const readableHighWaterMark = options.readableHighWaterMark ?? 16;
  const writableHighWaterMark = options.writableHighWaterMark ?? 1024 * 1024;
  const allocate = options.allocate;
  const maxBufferedAmount = options.maxBufferedAmount ?? defaultMaxBufferedAmount(options.role, options.maxMessage);
  const bufferedAmountPolicy = options.bufferedAmountPolicy ?? 'close';
  const onCallbackError = options.onCallbackError;
  const onFinished = options.onFinished;
  if (options.maxBufferedAmount !== undefined || options.bufferedAmountPolicy !== undefined) checkBufferedAmountLimit(options); // throws RangeError
  const last = lastSettings;
  if (
    last !== null &&
    last.timers === timers &&
    last.closeTimeout === closeTimeout &&
    last.heartbeat === heartbeat &&
    last.readableHighWaterMark === readableHighWaterMark &&
    last.writableHighWaterMark === writableHighWaterMark &&
    last.allocate === allocate &&
    last.maxBufferedAmount === maxBufferedAmount &&
    last.bufferedAmountPolicy === bufferedAmountPolicy &&
    last.onCallbackError === onCallbackError &&
    last.onFinished === onFinished
  ) {
    return last;
  }
  return (lastSettings = { timers, closeTimeout, heartbeat, readableHighWaterMark, writableHighWaterMark, allocate, maxBufferedAmount, bufferedAmountPolicy, onCallbackError, onFinished });
}

/**
 * What most connections never need, created on first use: the streams, the queue behind a
 * Blob, the `closed` promise, the timers. An idle connection is smaller without them.
 */
class Extra {
  /** Sends queued behind a Blob that is still being read, to keep order. */
  pending: Array<SendData | PreparedMessage> | null = null;
  pendingBytes = 0;
  /** Prepared messages waiting for the fragmented message being sent to end. */
  held: PreparedMessage[] | null = null;
  heldBytes = 0;
  readable: ReadableStream<Message> | null = null;
  writable: WritableStream<SendData> | null = null;
  drainWaiters: Array<() => void> | null = null;
  closed: Promise<CloseInfo> | null = null;
  resolveClosed: ((info: CloseInfo) => void) | null = null;
  closeTimer: unknown = undefined;
  pingTimer: unknown = undefined;
  deadTimer: unknown = undefined;
}

/** Flag bits of a connection. */
const ENDED = 1;
const PAUSED = 2;
/** `maxBufferedAmount` was exceeded and its policy applied (once). */
const OVERFLOWED = 4;
/** Writes are held in the batch by {@link WebSocketConnection.cork} until `uncork`. */
const CORKED = 8;

/**
 * Queued octets from which automatic Pongs are held back: a peer that sends Pings but does
 * not read would otherwise make us queue a Pong per Ping without bound. Held, only the
 * most recent Ping is answered (RFC 6455 §5.5.3), once the queue drains below this again.
 * 64 KiB is Node's default writable high-water mark for sockets: a queue that reaches it
 * was refused by a write, so the socket will signal the drain that sends the held Pong
 * (Deno's and Bun's transports signal every drain of their own queue).
 */
const PONG_HOLD_AT = 64 * 1024;

/** The connection's internals that its {@link ProtocolHandler} reaches (set in the class's static block). */
let internals!: {
  holdPong(c: WebSocketConnection): boolean;
  write(c: WebSocketConnection, bytes: Uint8Array): void;
  deliver(c: WebSocketConnection, data: Message): void;
  closeHandshakeDone(c: WebSocketConnection): void;
  failed(c: WebSocketConnection, error: ProtocolError): void;
  userFailed(c: WebSocketConnection, error: unknown): void;
};

/**
 * Calls one of the user's callbacks on `c`; a throw is the user's bug, handled by the
 * connection's error policy (close with 1011, report) instead of unwinding the parser and
 * the transport's event.
 */
function callUser<A>(c: WebSocketConnection, callback: ((this: WebSocketConnection, arg: A) => void) | null, arg: A): void {
  if (callback === null) return;
  try {
    callback.call(c, arg);
  } catch (error) {
    internals.userFailed(c, error);
  }
}

/** Where a callback's error goes without an `onCallbackError`. */
function reportCallbackError(error: unknown): void {
  console.error('wsflow: a connection callback threw; the connection was closed with 1011:', error);
}

/**
 * The protocol's handler for one connection: one small object with its methods on the
 * prototype, rather than a closure per callback.
 */
class ConnectionEvents implements ProtocolHandler {
  readonly #c: WebSocketConnection;

  constructor(connection: WebSocketConnection) {
    this.#c = connection;
  }

  write(bytes: Uint8Array): void {
    internals.write(this.#c, bytes);
  }

  holdPong(): boolean {
    return internals.holdPong(this.#c);
  }

  onText(text: string): void {
    internals.deliver(this.#c, text);
  }

  onBinary(data: Uint8Array): void {
    internals.deliver(this.#c, data);
  }

  onPing(payload: Uint8Array): void {
    callUser(this.#c, this.#c.onping, payload);
  }

  onPong(payload: Uint8Array): void {
    callUser(this.#c, this.#c.onpong, payload);
  }

  onClose(closeCode: number, reason: string): void {
    callUser(this.#c, this.#c.onclosing, { closeCode, reason });
    internals.closeHandshakeDone(this.#c);
  }

  onError(error: ProtocolError): void {
    internals.failed(this.#c, error);
  }
}

/**
 * One open WebSocket connection over a {@link ByteTransport}.
 *
 * Two ways to use it: the callbacks (`onmessage`, `send`), which are the fastest, or the
 * WHATWG streams (`readable`, `writable`), created on first access and then fed instead
 * of `onmessage`, with backpressure: a full `readable` pauses the transport.
 *
 * @example
 * ```ts
 * conn.onmessage = (data) => conn.send(data); // echo
 * // or
 * for await (const message of conn.readable) console.log(message);
 * const { closeCode, reason } = await conn.closed;
 * ```
 */
export class WebSocketConnection {
  static {
    internals = {
      holdPong: (c) => c.bufferedAmount >= PONG_HOLD_AT,
      write: (c, bytes) => c.#write(bytes),
      deliver: (c, data) => c.#deliver(data),
      closeHandshakeDone: (c) => c.#closeHandshakeDone(),
      failed: (c, error) => c.#failed(error),
      userFailed: (c, error) => c.#userFailed(error),
    };
  }

  /** The negotiated subprotocol, `''` for none. */
  readonly protocol: string;
  /** The negotiated extensions, `''` for none. */
  readonly extensions: string;
  /** Which end this is. */
  readonly role: Role;

  /** Called with each Ping's payload (after the automatic Pong). */
  onping: ((payload: Uint8Array) => void) | null = null;
  /** Called with each Pong's payload. */
  onpong: ((payload: Uint8Array) => void) | null = null;
  /** Called when the peer broke the protocol or the transport failed. */
  onerror: ((error: Error) => void) | null = null;
  /** Called once, when the connection is closed. */
  onclose: ((info: CloseInfo) => void) | null = null;
  /**
   * Called when the transport reports that its queue drained (see {@link drain}): a
   * moment to look at `bufferedAmount` again. A transport may also empty its queue
   * without reporting it (Node reports only after a write past its high-water mark).
   */
  ondrain: (() => void) | null = null;
  /**
   * Called when the peer's Close frame arrives, before the transport is closed (the
   * WHATWG CLOSING state begins then). `closeCode` is 1005 when it carried none.
   */
  onclosing: ((info: { closeCode: number; reason: string }) => void) | null = null;

  readonly #transport: ByteTransport;
  readonly #protocol: WebSocketProtocol;
  readonly #settings: Settings;

  /** Writes produced while handling one received chunk, sent together. */
  #batch: Uint8Array[] | null = null;
  #batchBytes = 0;
  /** {@link ENDED} (our sending side closed), {@link PAUSED} (reading paused by us). */
  #flags = 0;
  #finished: CloseInfo | null = null;

  #onmessage: ((data: Message) => void) | null = null;
  /**
   * Messages that arrived before anyone subscribed (`onmessage` or `readable`): `undefined`
   * while none did and none arrived, `null` once someone subscribed.
   */
  #early: Message[] | null | undefined = undefined;
  /**
   * The kept messages being handed to a new `onmessage` (in a microtask): messages that
   * arrive meanwhile join the end, so none overtakes them. `null` when none are.
   */
  #handover: Message[] | null = null;
  #readController: ReadableStreamDefaultController<Message> | null = null;
  #extra: Extra | null = null;

  /**
   * @param transport the bytes side, already past the opening handshake
   * @param options role, negotiated values, limits, timers
   */
  constructor(transport: ByteTransport, options: ConnectionOptions) {
    this.#transport = transport;
    this.role = options.role;
    this.protocol = options.protocol ?? '';
    this.extensions = options.extensions ?? '';
    this.#settings = settingsOf(options);
    this.#protocol = new WebSocketProtocol(
      {
        role: options.role,
        autoPong: options.autoPong,
        maskKeys: options.maskKeys,
        mutableInput: options.mutableInput,
        allocate: options.allocate,
        maxPayload: options.maxPayload,
        maxMessage: options.maxMessage,
        maxFragments: options.maxFragments,
        perMessageDeflate: options.perMessageDeflate,
      },
      new ConnectionEvents(this),
    );
    this.#startHeartbeat();
  }

  // ---- driven by the transport -------------------------------------------------------

  /** The transport received bytes. Frames written in response are sent as one batch. */
  receive(chunk: Uint8Array): void {
    if (this.#settings.heartbeat !== undefined) this.#alive();
    if (this.#batch !== null) {
      // Re-entered from a callback, or corked: the outer call (or `uncork`) sends the batch.
      this.#protocol.receiveData(chunk);
      return;
    }
    this.#batch = [];
    this.#batchBytes = 0;
    try {
      this.#protocol.receiveData(chunk);
    } finally {
      this.#flushBatch();
    }
  }

  /** The peer ended its sending side (TCP FIN). */
  receiveEnd(): void {
    this.#protocol.receiveEof();
    this.#endTransport();
  }

  /** The transport is fully closed (or failed with `error`). Settles `closed`; idempotent. */
  transportClosed(error?: unknown): void {
    if (this.#finished !== null) return;
    this.#protocol.receiveEof();
    const info = this.#protocol.closeInfo;
    const result: CloseInfo = { closeCode: info.code, reason: info.reason, wasClean: info.wasClean };
    this.#finished = result;
    this.#clearTimers();
    // Kept messages not handed over yet go before the end.
    this.#flushHandover();
    if (error !== undefined && error !== null && this.#protocol.error === null) {
      callUser(this, this.onerror, error instanceof Error ? error : new Error(String(error)));
    }
    const controller = this.#readController;
    if (controller !== null) {
      try {
        if (result.wasClean) controller.close();
        else controller.error(new ConnectionClosedError(result));
      } catch {
        /* already closed or errored by the consumer */
      }
    }
    this.#wakeWriters();
    const extra = this.#extra;
    if (extra !== null) {
      extra.pending = null;
      extra.held = null;
      extra.heldBytes = 0;
    }
    callUser(this, this.onclose, result);
    if (extra !== null && extra.resolveClosed !== null) {
      extra.resolveClosed(result);
      extra.resolveClosed = null;
    }
    this.#settings.onFinished?.(this);
  }

  /** The transport's queue drained: a held Pong goes out, writers waiting on backpressure may go on. */
  drain(): void {
    this.#sendHeldPong();
    this.#wakeWriters();
    this.ondrain?.();
  }

  // ---- the user's side ---------------------------------------------------------------

  /**
   * Called with each message, unless `readable` was accessed. Messages that arrived
   * before the first subscriber (this or `readable`) are kept, up to the readable
   * high-water mark with the transport paused, and delivered to it in a microtask (or
   * just before `onclose`, if the connection closes first). Every message arrives in
   * order, synchronously with the bytes that completed it, and all of them before
   * `onclose`: `onmessage` and `onclose` together are an ordered event path.
   */
  get onmessage(): ((data: Message) => void) | null {
    return this.#onmessage;
  }

  set onmessage(handler: ((data: Message) => void) | null) {
    this.#onmessage = typeof handler === 'function' ? handler : null;
    if (this.#onmessage !== null && this.#early !== null) {
      const early = this.#early;
      this.#early = null;
      if (early !== undefined && early.length > 0) {
        this.#handover = early;
        // A promise job rather than queueMicrotask, which test fake timers may replace.
        void Promise.resolve().then(() => this.#flushHandover());
      } else this.#resumeIfPaused();
    }
  }

  /** Where the connection is: `'open'`, `'closing'` (our Close sent) or `'closed'`. */
  get state(): 'open' | 'closing' | 'closed' {
    if (this.#finished !== null) return 'closed';
    const s = this.#protocol.state;
    return s === ProtocolState.Open ? 'open' : 'closing';
  }

  /** The protocol error that failed the connection (the peer broke RFC 6455 or a limit), if one did. */
  get error(): ProtocolError | null {
    return this.#protocol.error;
  }

  /** Resolves once the connection is closed, with how it ended. Never rejects. */
  get closed(): Promise<CloseInfo> {
    // Made on first access: most connections are never asked.
    const extra = this.#more();
    if (extra.closed === null) {
      const finished = this.#finished;
      extra.closed =
        finished !== null ? Promise.resolve(finished) : new Promise<CloseInfo>((resolve) => (extra.resolveClosed = resolve));
    }
    return extra.closed;
  }

  /** Bytes accepted by `send` but not yet handed to the operating system. */
  get bufferedAmount(): number {
    const extra = this.#extra;
    return this.#transport.bufferedAmount + this.#batchBytes + (extra === null ? 0 : extra.pendingBytes + extra.heldBytes);
  }

  /**
   * Sends a message: a string as text, anything binary as binary. A `Blob` is read first;
   * later sends wait behind it so order is kept. After closing started it does nothing.
   * @param options per-message settings (compression; a message queued behind a Blob
   *   follows the threshold)
   * @returns false if nothing will be sent because the connection is closing or closed
   */
  send(data: SendData, options?: SendOptions): boolean {
    if (!this.#protocol.canSend || this.#finished !== null) return false;
    const extra = this.#extra;
    if (extra !== null && extra.pending !== null) {
      extra.pending.push(data);
      extra.pendingBytes += sizeOf(data);
      return true;
    }
    const compress = options?.compress;
    if (typeof data === 'string') return this.#checked(this.#protocol.sendText(data, true, compress));
    if (typeof Blob !== 'undefined' && data instanceof Blob) {
      const more = this.#more();
      more.pending = [data];
      more.pendingBytes = data.size;
      void this.#drainPending(more);
      return true;
    }
    return this.#checked(this.#protocol.sendBinary(bytesOf(data as ArrayBuffer | ArrayBufferView), true, compress));
  }

  /**
   * Sends one fragment of a message (RFC 6455 §5.4): the first fragment's type (text or
   * binary) is the message's; later ones continue it; the one with `fin` true ends it.
   * Control frames and other connections' traffic may go between fragments; another
   * message may not start until this one ends.
   * @returns false if nothing will be sent because the connection is closing or closed
   * @throws TypeError if a Blob is still being read (send Blobs whole with {@link send}),
   *   or if the fragment's type differs from the message being sent
   *
   * @example
   * ```ts
   * conn.sendFragment('Hel', false);
   * conn.sendFragment('lo', true); // the peer receives one message, "Hello"
   * ```
   */
  sendFragment(data: string | ArrayBuffer | ArrayBufferView, fin: boolean): boolean {
    if (!this.#protocol.canSend || this.#finished !== null) return false;
    if (this.#extra !== null && this.#extra.pending !== null) throw new TypeError('a Blob is still being sent; fragments would overtake it');
    const sent = typeof data === 'string' ? this.#protocol.sendText(data, fin) : this.#protocol.sendBinary(bytesOf(data), fin);
    if (sent && fin) this.#sendHeld();
    return this.#checked(sent);
  }

  /**
   * Sends a message framed once for many connections (see `prepareMessage`): the very same
   * buffer is handed to each connection's transport, or, with permessage-deflate, a
   * compressed frame shared by every connection that resets its context after each message
   * (else compressed by this one's deflater). It keeps every rule of {@link send}: behind
   * a Blob being read it waits its turn, behind a fragmented message being sent it goes
   * right after the last fragment, it counts in `bufferedAmount` and against
   * `maxBufferedAmount`, and nothing is sent once closing started.
   * @returns false if nothing will be sent because the connection is closing or closed
   * @throws TypeError for a client connection (its frames are masked, one by one)
   * @example
   * ```ts
   * const message = prepareMessage(JSON.stringify(update));
   * for (const conn of subscribers) conn.sendPrepared(message);
   * ```
   */
  sendPrepared(message: PreparedMessage): boolean {
    if (!this.#protocol.canSend || this.#finished !== null) return false;
    if (this.role !== 'server') throw new TypeError('a prepared message is framed for the server role; a client masks each frame');
    const extra = this.#extra;
    if (extra !== null && extra.pending !== null) {
      extra.pending.push(message);
      extra.pendingBytes += message.frame.length;
      return true;
    }
    if (this.#protocol.sendingFragmented) {
      const more = this.#more();
      (more.held ??= []).push(message);
      more.heldBytes += message.frame.length;
      return true;
    }
    return this.#checked(this.#protocol.sendPrepared(message));
  }

  /**
   * Holds everything this connection writes in one batch until {@link uncork}, so that
   * many sends in one turn (a burst of published messages) make one transport write.
   * Order is kept: sends, Pings and a Close made meanwhile join the batch. Held bytes count
   * in `bufferedAmount`. Whoever corks must uncork (a server's topics do it once per event-loop turn).
   * @returns whether it started holding now: false when writes are held already (it is
   *   corked, or handling received bytes, whose replies are sent together anyway) or it is
   *   closed
   * @example
   * ```ts
   * if (conn.cork()) queueMicrotask(() => conn.uncork());
   * conn.send('a');
   * conn.send('b'); // one write, "a" then "b"
   * ```
   */
  cork(): boolean {
    if (this.#batch !== null || this.#finished !== null || (this.#flags & ENDED) !== 0) return false;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#flags |= CORKED;
    return true;
  }

  /**
   * Writes what {@link cork} held, as one write where it can. Does nothing when not corked.
   * @example
   * ```ts
   * const corked = conn.cork();
   * for (const update of updates) conn.send(update);
   * if (corked) conn.uncork(); // one write
   * ```
   */
  uncork(): void {
    if ((this.#flags & CORKED) === 0) return;
    this.#flags &= ~CORKED;
    this.#flushBatch();
  }

  /** The fragmented message ended: the prepared messages held behind it go out. */
  #sendHeld(): void {
    const extra = this.#extra;
    if (extra === null || extra.held === null) return;
    const held = extra.held;
    extra.held = null;
    extra.heldBytes = 0;
    for (const message of held) this.#protocol.sendPrepared(message);
  }

  async #drainPending(extra: Extra): Promise<void> {
    while (extra.pending !== null && extra.pending.length > 0) {
      const next = extra.pending[0];
      let bytes: Uint8Array | string;
      if (typeof Blob !== 'undefined' && next instanceof Blob) {
        try {
          bytes = new Uint8Array(await next.arrayBuffer());
        } catch (error) {
          extra.pending = null;
          extra.pendingBytes = 0;
          callUser(this, this.onerror, error instanceof Error ? error : new Error(String(error)));
          this.abort();
          return;
        }
      } else if (next instanceof PreparedMessage) {
        extra.pending.shift();
        extra.pendingBytes -= next.frame.length;
        this.#protocol.sendPrepared(next);
        continue;
      } else bytes = typeof next === 'string' ? next : bytesOf(next as ArrayBuffer | ArrayBufferView);
      if (extra.pending === null) return;
      extra.pending.shift();
      extra.pendingBytes -= sizeOf(next);
      if (typeof bytes === 'string') this.#protocol.sendText(bytes);
      else this.#protocol.sendBinary(bytes);
    }
    extra.pending = null;
    extra.pendingBytes = 0;
    // Checked once the queue is sent: a Close must not overtake data accepted behind a Blob.
    this.#checkBuffered();
  }

  /** Sends a Ping (at most 125 octets). @returns false once closing started */
  ping(payload?: Uint8Array | string): boolean {
    const bytes = typeof payload === 'string' ? encodeUtf8(payload) : payload;
    return this.#checked(this.#protocol.sendPing(bytes));
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). With no code the Close frame has no
   * payload. The transport is dropped if the peer does not finish within `closeTimeout`.
   * @throws RangeError for a code that may not be sent or a reason over 123 UTF-8 octets
   * @throws TypeError for a reason that is neither a string nor a `Uint8Array` of UTF-8
   * @example
   * ```ts
   * conn.close({ closeCode: 4000, reason: 'bye' });
   * conn.close({ closeCode: 4000, reason: new TextEncoder().encode('bye') }); // the same Close frame
   * ```
   */
  close(options: CloseOptions = {}): void {
    if (this.#finished !== null) return;
    this.#protocol.close(options.closeCode, options.reason ?? '');
    this.#armCloseTimer();
  }

  /** Drops the connection at once, without a closing handshake (reported as 1006). */
  abort(): void {
    if (this.#finished !== null) return;
    this.#transport.destroy();
    this.transportClosed();
  }

  /**
   * The messages, as a stream. Accessing it switches delivery from `onmessage` to the
   * stream. It ends when the connection closes cleanly and errors with a
   * {@link ConnectionClosedError} otherwise. Cancelling it closes the connection, with the
   * `closeCode`/`reason` of the cancel reason if it has them.
   */
  get readable(): ReadableStream<Message> {
    const extra = this.#more();
    if (extra.readable === null) {
      extra.readable = new ReadableStream<Message>(
        {
          start: (controller) => {
            this.#readController = controller;
            const early = this.#early;
            this.#early = null;
            if (early) for (const message of early) controller.enqueue(message);
            const finished = this.#finished;
            if (finished !== null) {
              if (finished.wasClean) controller.close();
              else controller.error(new ConnectionClosedError(finished));
            }
          },
          pull: () => this.#resumeIfPaused(),
          cancel: (reason) => {
            this.#readController = null;
            // A paused transport would never read the peer's Close.
            this.#resumeIfPaused();
            this.close(closeOptionsFrom(reason));
          },
        },
        { highWaterMark: this.#settings.readableHighWaterMark },
      );
    }
    return extra.readable;
  }

  /**
   * A sink for messages. `write` resolves once the transport's queue is below the
   * writable high-water mark. Closing it closes the connection; aborting it closes with
   * the `closeCode`/`reason` of the abort reason if it has them.
   */
  get writable(): WritableStream<SendData> {
    const extra = this.#more();
    if (extra.writable === null) {
      extra.writable = new WritableStream<SendData>({
        write: async (chunk) => {
          if (this.#finished !== null || !this.#protocol.canSend) throw new ConnectionClosedError(this.#closeInfoNow());
          this.send(chunk);
          if (this.bufferedAmount > this.#settings.writableHighWaterMark) await this.#waitDrain();
        },
        close: async () => {
          this.close();
          await this.closed;
        },
        abort: (reason) => {
          this.close(closeOptionsFrom(reason));
        },
      });
    }
    return extra.writable;
  }

  // ---- internals ---------------------------------------------------------------------

  #more(): Extra {
    return (this.#extra ??= new Extra());
  }

  #closeInfoNow(): CloseInfo {
    if (this.#finished !== null) return this.#finished;
    const info = this.#protocol.closeInfo;
    return { closeCode: info.code, reason: info.reason, wasClean: info.wasClean };
  }

  #write(bytes: Uint8Array): void {
    const batch = this.#batch;
    if (batch !== null) {
      batch.push(bytes);
      this.#batchBytes += bytes.length;
      return;
    }
    if ((this.#flags & ENDED) === 0) this.#transport.write(bytes);
  }

  #flushBatch(): void {
    const batch = this.#batch!;
    const total = this.#batchBytes;
    this.#batch = null;
    this.#batchBytes = 0;
    // Corked writes of a connection that closed meanwhile have nowhere to go.
    if (this.#finished !== null) return;
    if (batch.length === 0 || (this.#flags & ENDED) !== 0) {
      // Nothing to write, but the peer's Close may have finished the closing handshake.
    } else if (batch.length === 1) this.#transport.write(batch[0]);
    else if (total <= CONCAT_MAX) {
      const allocate = this.#settings.allocate;
      const out = allocate === undefined ? new Uint8Array(total) : allocate(total);
      let at = 0;
      for (const b of batch) {
        out.set(b, at);
        at += b.length;
      }
      this.#transport.write(out);
    } else {
      const chunks = coalesce(batch, this.#settings.allocate);
      if (this.#transport.writev !== undefined) this.#transport.writev(chunks);
      else for (const b of chunks) this.#transport.write(b);
    }
    // The transport may have taken all of it at once: then no drain will come for a held Pong.
    this.#sendHeldPong();
    // A Close written in this batch may have finished the protocol.
    if (this.#protocol.state === ProtocolState.Closed) this.#endTransport();
    // Replies to the peer (Pongs) and sends made by handlers count against maxBufferedAmount.
    else this.#checkBuffered();
  }

  /** Writes the automatic Pong held back while the peer was not reading, once the queue is below the bound again. */
  #sendHeldPong(): void {
    const protocol = this.#protocol;
    if (protocol.hasHeldPong && this.#transport.bufferedAmount < PONG_HOLD_AT && (this.#flags & ENDED) === 0) protocol.sendHeldPong();
  }

  /** Hands the kept messages (and those that joined them) to the subscriber, in order. */
  #flushHandover(): void {
    const list = this.#handover;
    if (list === null) return;
    // Indexed: messages arriving while a handler runs (a re-entrant receive) join the end.
    for (let i = 0; i < list.length; i++) {
      if (this.#readController !== null) this.#readController.enqueue(list[i]);
      else callUser(this, this.#onmessage, list[i]);
    }
    this.#handover = null;
    if (this.#finished === null) this.#resumeIfPaused();
  }

  #deliver(data: Message): void {
    if (this.#handover !== null) {
      this.#handover.push(data);
      return;
    }
    const controller = this.#readController;
    if (controller !== null) {
      controller.enqueue(data);
      if ((this.#flags & PAUSED) === 0 && (controller.desiredSize ?? 1) <= 0) this.#pause();
      return;
    }
    const early = this.#early;
    if (early !== null) {
      // Nobody subscribed yet: keep it, and stop reading once enough are kept.
      const kept = early ?? (this.#early = []);
      kept.push(data);
      if ((this.#flags & PAUSED) === 0 && kept.length >= this.#settings.readableHighWaterMark) this.#pause();
      return;
    }
    const handler = this.#onmessage;
    if (handler === null) return;
    try {
      handler.call(this, data);
    } catch (error) {
      this.#userFailed(error);
    }
  }

  /** A user callback threw: close with 1011 (if not closing already), then report it. */
  #userFailed(error: unknown): void {
    if (this.#finished === null && this.#protocol.state === ProtocolState.Open) this.close({ closeCode: CloseCode.InternalError });
    const report = this.#settings.onCallbackError;
    if (report === undefined) {
      reportCallbackError(error);
      return;
    }
    try {
      report(error, this);
    } catch (failure) {
      reportCallbackError(failure);
    }
  }

  #pause(): void {
    this.#flags |= PAUSED;
    this.#transport.pause();
  }

  #resumeIfPaused(): void {
    if ((this.#flags & PAUSED) !== 0) {
      this.#flags &= ~PAUSED;
      this.#transport.resume();
    }
  }

  /** Both Close frames are exchanged: end our side (RFC 6455 §7.1.1); the transport then closes. */
  #closeHandshakeDone(): void {
    if (this.#batch === null) this.#endTransport();
    // Otherwise the batch flush ends it, after the Close reply is written.
  }

  #failed(error: ProtocolError): void {
    callUser(this, this.onerror, error);
    if (this.#batch === null) this.#endTransport();
  }

  /** Flushes and closes our sending side once; drops the transport if it lingers. */
  #endTransport(): void {
    if ((this.#flags & ENDED) !== 0) return;
    this.#flags |= ENDED;
    this.#transport.end();
    this.#armCloseTimer();
  }

  #armCloseTimer(): void {
    const timers = this.#settings.timers;
    if (timers === undefined || this.#finished !== null) return;
    const extra = this.#more();
    if (extra.closeTimer !== undefined) return;
    // Kept alive: `closed` waits for it, and a paused socket holds nothing open.
    extra.closeTimer = timers.setTimeout(
      () => {
        extra.closeTimer = undefined;
        this.abort();
      },
      this.#settings.closeTimeout,
      true,
    );
  }

  #startHeartbeat(): void {
    const hb = this.#settings.heartbeat;
    const timers = this.#settings.timers;
    if (hb === undefined || timers === undefined) return;
    const extra = this.#more();
    extra.pingTimer = timers.setTimeout(() => {
      extra.pingTimer = undefined;
      if (this.#finished !== null) return;
      this.#protocol.sendPing();
      extra.deadTimer = timers.setTimeout(() => {
        extra.deadTimer = undefined;
        // No frame at all since the Ping: the peer is gone.
        this.abort();
      }, hb.timeout ?? hb.interval);
    }, hb.interval);
  }

  /** Any received byte proves the peer alive: restart the heartbeat cycle. */
  #alive(): void {
    const timers = this.#settings.timers;
    const extra = this.#extra;
    if (timers === undefined || extra === null) return;
    if (extra.deadTimer !== undefined) {
      timers.clearTimeout(extra.deadTimer);
      extra.deadTimer = undefined;
      if (extra.pingTimer === undefined) this.#startHeartbeat();
    }
  }

  #clearTimers(): void {
    const timers = this.#settings.timers;
    const extra = this.#extra;
    if (timers === undefined || extra === null) return;
    for (const t of [extra.closeTimer, extra.pingTimer, extra.deadTimer]) if (t !== undefined) timers.clearTimeout(t);
    extra.closeTimer = extra.pingTimer = extra.deadTimer = undefined;
  }

  /** {@link #checkBuffered} after a send that queued something; passes `sent` through. */
  #checked(sent: boolean): boolean {
    if (sent) this.#checkBuffered();
    return sent;
  }

  /**
   * Applies the `maxBufferedAmount` policy, once, when `bufferedAmount` exceeds it: the
   * user is told (`onerror`, a {@link BufferedAmountError} with the close code), then
   * `'close'` queues a Close with 1008 behind the accepted data (the close timeout drops a
   * peer that still does not read), `'drop'` destroys the transport at once (1006).
   * Called after a whole frame was queued, never in the middle of one.
   */
  #checkBuffered(): void {
    const settings = this.#settings;
    const max = settings.maxBufferedAmount;
    if (max === Infinity || (this.#flags & OVERFLOWED) !== 0 || this.#finished !== null) return;
    const buffered = this.bufferedAmount;
    if (buffered <= max) return;
    this.#flags |= OVERFLOWED;
    const policy = settings.bufferedAmountPolicy;
    try {
      callUser(this, this.onerror, new BufferedAmountError(policy, buffered, max));
    } finally {
      if (policy === 'drop') {
        // Nothing more is written to the dropped transport (a batch being built is discarded).
        this.#flags |= ENDED;
        this.abort();
      } else this.close({ closeCode: CloseCode.PolicyViolation, reason: 'peer not reading' });
    }
  }

  #waitDrain(): Promise<void> {
    const extra = this.#more();
    return new Promise((resolve) => (extra.drainWaiters ??= []).push(resolve));
  }

  #wakeWriters(): void {
    const extra = this.#extra;
    if (extra === null || extra.drainWaiters === null || extra.drainWaiters.length === 0) return;
    if (this.#finished === null && this.bufferedAmount > this.#settings.writableHighWaterMark) return;
    const waiters = extra.drainWaiters;
    extra.drainWaiters = null;
    for (const wake of waiters) wake();
  }
}

/** Chunks at least this large are passed on as they are; runs of smaller ones are joined. */
const COALESCE_MIN = 16 * 1024;

/**
 * Joins runs of small chunks (frames, headers) into one buffer each, leaving large
 * payloads uncopied, so a transport without a real writev (one write is one system call)
 * makes few writes.
 */
function coalesce(batch: Uint8Array[], allocate: ((size: number) => Uint8Array) | undefined): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flushRun = (): void => {
    if (run.length === 1) out.push(run[0]);
    else if (run.length > 1) {
      const joined = allocate === undefined ? new Uint8Array(runBytes) : allocate(runBytes);
      let at = 0;
      for (const b of run) {
        joined.set(b, at);
        at += b.length;
      }
      out.push(joined);
    }
    run = [];
    runBytes = 0;
  };
  for (const b of batch) {
    if (b.length >= COALESCE_MIN) {
      flushRun();
      out.push(b);
    } else {
      run.push(b);
      runBytes += b.length;
    }
  }
  flushRun();
  return out;
}

function sizeOf(data: SendData | PreparedMessage): number {
  if (data instanceof PreparedMessage) return data.frame.length;
  if (typeof data === 'string') return data.length;
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return (data as ArrayBuffer | ArrayBufferView).byteLength;
}

/** The error a stream of a connection fails with when the connection closed uncleanly. */
export class ConnectionClosedError extends Error {
  /** 1006 when no Close frame arrived, else the peer's code. */
  readonly closeCode: number;
  readonly reason: string;

  constructor(info: CloseInfo) {
    super(info.closeCode === CloseCode.Abnormal ? 'the connection closed abnormally (1006)' : `the connection closed (${info.closeCode})`);
    this.name = 'ConnectionClosedError';
    this.closeCode = info.closeCode;
    this.reason = info.reason;
  }
}
