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
import { CloseCode, type Role } from './constants.ts';
import type { ProtocolError } from './errors.ts';
import type { Limits } from './limits.ts';
import type { MaskKeySource } from './mask.ts';
import { ProtocolState, WebSocketProtocol } from './protocol.ts';
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
  setTimeout(callback: () => void, ms: number): unknown;
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
export interface ConnectionOptions extends Limits {
  /** Which end this is. */
  role: Role;
  /** The negotiated subprotocol (`''` for none). */
  protocol?: string;
  /** The negotiated extensions, as the `Sec-WebSocket-Extensions` value (`''` for none). */
  extensions?: string;
  /** Answer Pings automatically. Default true. */
  autoPong?: boolean;
  /** Mask-key source for the client role. */
  maskKeys?: MaskKeySource;
  /** The transport hands its read buffers over: masked payloads may be unmasked in place. Default false. */
  mutableInput?: boolean;
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

/** Options of {@link WebSocketConnection.close}, as in `WebSocketStream`. */
export interface CloseOptions {
  closeCode?: number;
  reason?: string;
}

/** Writes larger than this in one batch are handed over as a list rather than concatenated. */
const CONCAT_MAX = 64 * 1024;

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** A reason object with a close code, as `WebSocketError` carries (duck-typed). */
function closeOptionsFrom(reason: unknown): CloseOptions {
  if (typeof reason === 'object' && reason !== null && typeof (reason as { closeCode?: unknown }).closeCode === 'number') {
    const r = reason as { closeCode: number; reason?: unknown };
    return { closeCode: r.closeCode, reason: typeof r.reason === 'string' ? r.reason : '' };
  }
  return {};
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
   * Called when the peer's Close frame arrives, before the transport is closed (the
   * WHATWG CLOSING state begins then). `closeCode` is 1005 when it carried none.
   */
  onclosing: ((info: { closeCode: number; reason: string }) => void) | null = null;

  readonly #transport: ByteTransport;
  readonly #protocol: WebSocketProtocol;
  readonly #timers: Timers | undefined;
  readonly #closeTimeout: number;
  readonly #heartbeat: HeartbeatOptions | undefined;
  readonly #readableHighWaterMark: number;
  readonly #writableHighWaterMark: number;

  /** Writes produced while handling one received chunk, sent together. */
  #batch: Uint8Array[] | null = null;
  #batchBytes = 0;
  /** Sends queued behind a Blob that is still being read, to keep order. */
  #pending: SendData[] | null = null;
  #pendingBytes = 0;

  #ended = false;
  #finished: CloseInfo | null = null;
  #resolveClosed!: (info: CloseInfo) => void;
  readonly #closed: Promise<CloseInfo>;
  #closeTimer: unknown = undefined;
  #pingTimer: unknown = undefined;
  #deadTimer: unknown = undefined;

  #onmessage: ((data: Message) => void) | null = null;
  /** Messages that arrived before anyone subscribed (`onmessage` or `readable`). */
  #early: Message[] | null = [];
  #readable: ReadableStream<Message> | null = null;
  #readController: ReadableStreamDefaultController<Message> | null = null;
  #paused = false;
  #writable: WritableStream<SendData> | null = null;
  #drainWaiters: Array<() => void> = [];

  /**
   * @param transport the bytes side, already past the opening handshake
   * @param options role, negotiated values, limits, timers
   */
  constructor(transport: ByteTransport, options: ConnectionOptions) {
    this.#transport = transport;
    this.role = options.role;
    this.protocol = options.protocol ?? '';
    this.extensions = options.extensions ?? '';
    this.#timers = options.timers;
    this.#closeTimeout = options.closeTimeout ?? 5000;
    this.#heartbeat = options.heartbeat || undefined;
    this.#readableHighWaterMark = options.readableHighWaterMark ?? 16;
    this.#writableHighWaterMark = options.writableHighWaterMark ?? 1024 * 1024;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#protocol = new WebSocketProtocol(
      {
        role: options.role,
        autoPong: options.autoPong,
        maskKeys: options.maskKeys,
        mutableInput: options.mutableInput,
        maxPayload: options.maxPayload,
        maxMessage: options.maxMessage,
        maxFragments: options.maxFragments,
      },
      {
        write: (bytes) => this.#write(bytes),
        onText: (text) => this.#deliver(text),
        onBinary: (data) => this.#deliver(data),
        onPing: (payload) => this.onping?.(payload),
        onPong: (payload) => this.onpong?.(payload),
        onClose: (closeCode, reason) => {
          this.onclosing?.({ closeCode, reason });
          this.#closeHandshakeDone();
        },
        onError: (error) => this.#failed(error),
      },
    );
    this.#startHeartbeat();
  }

  // ---- driven by the transport -------------------------------------------------------

  /** The transport received bytes. Frames written in response are sent as one batch. */
  receive(chunk: Uint8Array): void {
    this.#alive();
    if (this.#batch !== null) {
      // Re-entered from a callback: the outer call sends the batch.
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
    if (error !== undefined && error !== null && this.#protocol.error === null) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
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
    this.#pending = null;
    this.onclose?.(result);
    this.#resolveClosed(result);
  }

  /** The transport's queue drained: writers waiting on backpressure may go on. */
  drain(): void {
    this.#wakeWriters();
  }

  // ---- the user's side ---------------------------------------------------------------

  /**
   * Called with each message, unless `readable` was accessed. Messages that arrived
   * before the first subscriber (this or `readable`) are kept, up to the readable
   * high-water mark with the transport paused, and delivered to it in a microtask.
   */
  get onmessage(): ((data: Message) => void) | null {
    return this.#onmessage;
  }

  set onmessage(handler: ((data: Message) => void) | null) {
    this.#onmessage = typeof handler === 'function' ? handler : null;
    if (this.#onmessage !== null && this.#early !== null) {
      if (this.#early.length === 0) {
        this.#early = null;
        this.#resumeIfPaused();
        return;
      }
      // Deliver what was kept a microtask later; messages arriving meanwhile join the queue
      // (the queue stays in place until then), so order holds.
      queueMicrotask(() => {
        const early = this.#early;
        if (early === null) return;
        this.#early = null;
        for (const message of early) {
          if (this.#readController !== null) this.#readController.enqueue(message);
          else this.#onmessage?.(message);
        }
        this.#resumeIfPaused();
      });
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
    return this.#closed;
  }

  /** Bytes accepted by `send` but not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#transport.bufferedAmount + this.#batchBytes + this.#pendingBytes;
  }

  /**
   * Sends a message: a string as text, anything binary as binary. A `Blob` is read first;
   * later sends wait behind it so order is kept. After closing started it does nothing.
   * @returns false if nothing will be sent because the connection is closing or closed
   */
  send(data: SendData): boolean {
    if (!this.#protocol.canSend || this.#finished !== null) return false;
    if (this.#pending !== null) {
      this.#pending.push(data);
      this.#pendingBytes += sizeOf(data);
      return true;
    }
    if (typeof data === 'string') return this.#protocol.sendText(data);
    if (typeof Blob !== 'undefined' && data instanceof Blob) {
      this.#pending = [data];
      this.#pendingBytes = data.size;
      void this.#drainPending();
      return true;
    }
    return this.#protocol.sendBinary(toBytes(data as ArrayBuffer | ArrayBufferView));
  }

  async #drainPending(): Promise<void> {
    while (this.#pending !== null && this.#pending.length > 0) {
      const next = this.#pending[0];
      let bytes: Uint8Array | string;
      if (typeof Blob !== 'undefined' && next instanceof Blob) {
        try {
          bytes = new Uint8Array(await next.arrayBuffer());
        } catch (error) {
          this.#pending = null;
          this.#pendingBytes = 0;
          this.onerror?.(error instanceof Error ? error : new Error(String(error)));
          this.abort();
          return;
        }
      } else bytes = typeof next === 'string' ? next : toBytes(next as ArrayBuffer | ArrayBufferView);
      if (this.#pending === null) return;
      this.#pending.shift();
      this.#pendingBytes -= sizeOf(next);
      if (typeof bytes === 'string') this.#protocol.sendText(bytes);
      else this.#protocol.sendBinary(bytes);
    }
    this.#pending = null;
    this.#pendingBytes = 0;
  }

  /** Sends a Ping (at most 125 octets). @returns false once closing started */
  ping(payload?: Uint8Array | string): boolean {
    const bytes = typeof payload === 'string' ? encodeUtf8(payload) : payload;
    return this.#protocol.sendPing(bytes);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). With no code the Close frame has no
   * payload. The transport is dropped if the peer does not finish within `closeTimeout`.
   * @throws RangeError for a code that may not be sent or a reason over 123 UTF-8 octets
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
    if (this.#readable === null) {
      this.#readable = new ReadableStream<Message>(
        {
          start: (controller) => {
            this.#readController = controller;
            const early = this.#early;
            this.#early = null;
            if (early !== null) for (const message of early) controller.enqueue(message);
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
        { highWaterMark: this.#readableHighWaterMark },
      );
    }
    return this.#readable;
  }

  /**
   * A sink for messages. `write` resolves once the transport's queue is below the
   * writable high-water mark. Closing it closes the connection; aborting it closes with
   * the `closeCode`/`reason` of the abort reason if it has them.
   */
  get writable(): WritableStream<SendData> {
    if (this.#writable === null) {
      this.#writable = new WritableStream<SendData>({
        write: async (chunk) => {
          if (this.#finished !== null || !this.#protocol.canSend) throw new ConnectionClosedError(this.#closeInfoNow());
          this.send(chunk);
          if (this.bufferedAmount > this.#writableHighWaterMark) await this.#waitDrain();
        },
        close: async () => {
          this.close();
          await this.#closed;
        },
        abort: (reason) => {
          this.close(closeOptionsFrom(reason));
        },
      });
    }
    return this.#writable;
  }

  // ---- internals ---------------------------------------------------------------------

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
    if (!this.#ended) this.#transport.write(bytes);
  }

  #flushBatch(): void {
    const batch = this.#batch!;
    const total = this.#batchBytes;
    this.#batch = null;
    this.#batchBytes = 0;
    if (batch.length === 0 || this.#ended) {
      // Nothing to write, but the peer's Close may have finished the closing handshake.
    } else if (batch.length === 1) this.#transport.write(batch[0]);
    else if (total <= CONCAT_MAX) {
      const out = new Uint8Array(total);
      let at = 0;
      for (const b of batch) {
        out.set(b, at);
        at += b.length;
      }
      this.#transport.write(out);
    } else {
      const chunks = coalesce(batch);
      if (this.#transport.writev !== undefined) this.#transport.writev(chunks);
      else for (const b of chunks) this.#transport.write(b);
    }
    // A Close written in this batch may have finished the protocol.
    if (this.#protocol.state === ProtocolState.Closed) this.#endTransport();
  }

  #deliver(data: Message): void {
    const controller = this.#readController;
    if (controller !== null) {
      controller.enqueue(data);
      if (!this.#paused && (controller.desiredSize ?? 1) <= 0) this.#pause();
      return;
    }
    const early = this.#early;
    if (early !== null) {
      // Nobody subscribed yet: keep it, and stop reading once enough are kept.
      early.push(data);
      if (!this.#paused && early.length >= this.#readableHighWaterMark) this.#pause();
      return;
    }
    this.#onmessage?.(data);
  }

  #pause(): void {
    this.#paused = true;
    this.#transport.pause();
  }

  #resumeIfPaused(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#transport.resume();
    }
  }

  /** Both Close frames are exchanged: end our side (RFC 6455 §7.1.1); the transport then closes. */
  #closeHandshakeDone(): void {
    if (this.#batch === null) this.#endTransport();
    // Otherwise the batch flush ends it, after the Close reply is written.
  }

  #failed(error: ProtocolError): void {
    this.onerror?.(error);
    if (this.#batch === null) this.#endTransport();
  }

  /** Flushes and closes our sending side once; drops the transport if it lingers. */
  #endTransport(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#transport.end();
    this.#armCloseTimer();
  }

  #armCloseTimer(): void {
    const timers = this.#timers;
    if (timers === undefined || this.#closeTimer !== undefined || this.#finished !== null) return;
    this.#closeTimer = timers.setTimeout(() => {
      this.#closeTimer = undefined;
      this.abort();
    }, this.#closeTimeout);
  }

  #startHeartbeat(): void {
    const hb = this.#heartbeat;
    const timers = this.#timers;
    if (hb === undefined || timers === undefined) return;
    this.#pingTimer = timers.setTimeout(() => {
      this.#pingTimer = undefined;
      if (this.#finished !== null) return;
      this.#protocol.sendPing();
      this.#deadTimer = timers.setTimeout(() => {
        this.#deadTimer = undefined;
        // No frame at all since the Ping: the peer is gone.
        this.abort();
      }, hb.timeout ?? hb.interval);
    }, hb.interval);
  }

  /** Any received byte proves the peer alive: restart the heartbeat cycle. */
  #alive(): void {
    if (this.#heartbeat === undefined || this.#timers === undefined) return;
    if (this.#deadTimer !== undefined) {
      this.#timers.clearTimeout(this.#deadTimer);
      this.#deadTimer = undefined;
      if (this.#pingTimer === undefined) this.#startHeartbeat();
    }
  }

  #clearTimers(): void {
    const timers = this.#timers;
    if (timers === undefined) return;
    for (const t of [this.#closeTimer, this.#pingTimer, this.#deadTimer]) if (t !== undefined) timers.clearTimeout(t);
    this.#closeTimer = this.#pingTimer = this.#deadTimer = undefined;
  }

  #waitDrain(): Promise<void> {
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #wakeWriters(): void {
    if (this.#drainWaiters.length === 0) return;
    if (this.#finished === null && this.bufferedAmount > this.#writableHighWaterMark) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
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
function coalesce(batch: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flushRun = (): void => {
    if (run.length === 1) out.push(run[0]);
    else if (run.length > 1) {
      const joined = new Uint8Array(runBytes);
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

function sizeOf(data: SendData): number {
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
