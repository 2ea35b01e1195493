/**
 * A WebSocket connection over any byte duplex `{ readable, writable }` of WHATWG streams:
 * the {@link ByteTransport} over it, and the opening handshake over it (RFC 6455 §4) for
 * runtimes that hand out raw byte streams (Deno's `Deno.Conn`, in-memory pairs, a
 * `WebTransport` stream, a Node socket through `Duplex.toWeb`).
 * @module
 */
import type { ClientRequestOptions } from './client_handshake.ts';
import { ClientHandshake, type ClientHandshakeStep } from './client_handshake_decision.ts';
import { WebSocketConnection, type ByteTransport, type ConnectionOptions, type Timers } from './connection.ts';
import { clientDeflateOffers, perMessageDeflateFor, resolveDeflate, serverDeflateNegotiator, type PerMessageDeflateSetting } from './deflate_settings.ts';
import { HandshakeError } from './errors.ts';
import type { HttpHeadKind, HttpHeadOptions } from './http_head.ts';
import type { ServerHandshakeOptions } from './server_handshake.ts';
import { ServerHandshake, type ServerHandshakeStep } from './server_handshake_decision.ts';

/** Two byte streams, one each way: a socket as WHATWG streams. */
export interface ByteDuplex {
  /** The bytes received from the peer. */
  readable: ReadableStream<Uint8Array>;
  /** The bytes to send to the peer. */
  writable: WritableStream<Uint8Array>;
}

const EMPTY = new Uint8Array(0);

/** Releases the current task so a handler can be attached first: a microtask, not a timer. */
const nextMicrotask = (): Promise<void> => Promise.resolve();

const ignore = (): void => {};

/**
 * The {@link ByteTransport} of a {@link WebSocketConnection} over a {@link ByteDuplex}.
 *
 * - Reading: a loop reads the duplex's `readable` and hands each chunk to
 *   `conn.receive`. `pause()` stops the loop before its next read and `resume()` restarts
 *   it, so a consumer who stops reading the connection's `readable` stops the reads from
 *   the duplex: the peer's writes then back up to it (real backpressure). The end of the
 *   `readable` is `conn.receiveEnd()`.
 * - Writing: through one writer; `bufferedAmount` is the bytes written whose write promise
 *   has not resolved yet, and each resolution calls `conn.drain()`. `end()` closes the
 *   writer after the pending writes; `destroy()` aborts the writer and cancels the reader.
 * - `conn.transportClosed()` is called once both sides are finished (the readable done
 *   and the writer closed), or at once on a read or write error.
 *
 * Most code wants {@link openConnection}; use this class directly to wire a connection
 * by hand: construct it, give it to the connection, `attach` the connection, and `start`
 * reading once the connection's consumer is in place.
 *
 * @example
 * ```ts
 * const transport = new DuplexTransport(duplex);
 * const conn = new WebSocketConnection(transport, { role: 'server' });
 * transport.attach(conn);
 * conn.onmessage = (data) => conn.send(data); // echo
 * transport.start();
 * ```
 */
export class DuplexTransport implements ByteTransport {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #conn: WebSocketConnection | null = null;
  #buffered = 0;
  #paused = false;
  /** Wakes the read loop waiting in `pause()`. */
  #wake: (() => void) | null = null;
  #started = false;
  #readDone = false;
  #writeDone = false;
  #ending = false;
  #destroyed = false;
  #closed = false;

  /**
   * Locks the duplex's two streams for this transport.
   * @throws TypeError if either stream is already locked
   */
  constructor(duplex: ByteDuplex) {
    this.#reader = duplex.readable.getReader();
    try {
      this.#writer = duplex.writable.getWriter();
    } catch (error) {
      this.#reader.releaseLock();
      throw error;
    }
  }

  /** Bytes written whose write has not completed yet. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /**
   * Connects the transport to the connection it carries, which is told of drains and of
   * the transport's end from now on. Reading waits for {@link start}.
   * @throws TypeError when called twice
   */
  attach(conn: WebSocketConnection): void {
    if (this.#conn !== null) throw new TypeError('DuplexTransport.attach() may be called once');
    this.#conn = conn;
  }

  /**
   * Starts reading into the attached connection. `head`, bytes already read from the
   * duplex that belong to the connection (e.g. what followed the opening handshake), is
   * fed first. Delivery begins on a later microtask, so handlers attached in the same task
   * as this call see every message. Later calls do nothing.
   * @throws TypeError when no connection is attached
   */
  start(head: Uint8Array = EMPTY): void {
    const conn = this.#conn;
    if (conn === null) throw new TypeError('DuplexTransport.start() needs attach() first');
    if (this.#started) return;
    this.#started = true;
    void this.#readLoop(conn, head);
  }

  write(chunk: Uint8Array): void {
    if (this.#ending || this.#destroyed) return;
    const size = chunk.length;
    this.#buffered += size;
    this.#writer.write(chunk).then(
      () => {
        this.#buffered -= size;
        this.#conn?.drain();
      },
      (error: unknown) => {
        this.#buffered -= size;
        this.#fail(error);
      },
    );
  }

  end(): void {
    if (this.#ending || this.#destroyed) return;
    this.#ending = true;
    // WritableStream closes after the writes queued before it: nothing written is dropped.
    this.#writer.close().then(
      () => {
        this.#writeDone = true;
        this.#maybeClosed();
      },
      (error: unknown) => this.#fail(error),
    );
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#wakeReader();
    const reason = new TypeError('the WebSocket transport was destroyed');
    this.#writer.abort(reason).catch(ignore);
    this.#reader.cancel(reason).catch(ignore);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #readLoop(conn: WebSocketConnection, head: Uint8Array): Promise<void> {
    await nextMicrotask();
    if (head.length > 0 && !this.#destroyed) this.#deliver(conn, head);
    for (;;) {
      while (this.#paused && !this.#destroyed) await new Promise<void>((resolve) => (this.#wake = resolve));
      if (this.#destroyed) return;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#reader.read();
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (this.#destroyed) return;
      if (result.done) {
        this.#readDone = true;
        conn.receiveEnd();
        this.#maybeClosed();
        return;
      }
      if (result.value.length > 0) this.#deliver(conn, result.value);
    }
  }

  #deliver(conn: WebSocketConnection, chunk: Uint8Array): void {
    try {
      conn.receive(chunk);
    } catch (error) {
      // Only a handler of the application throws here; the connection has already failed
      // with 1011 and ended its side. Report the error as an uncaught one, keep reading
      // to the end of the stream so the transport closes in order.
      void Promise.reject(error);
    }
  }

  #maybeClosed(): void {
    if (this.#closed || this.#destroyed || !this.#readDone || !this.#writeDone) return;
    this.#closed = true;
    this.#conn?.transportClosed();
  }

  #fail(error: unknown): void {
    if (this.#closed || this.#destroyed) return;
    this.#closed = true;
    this.destroy();
    this.#conn?.transportClosed(error);
  }
}

/**
 * Opens a WebSocket connection over a byte duplex whose opening handshake is done (or
 * that needs none): the WebSocketStream-shaped object `{ readable, writable, protocol,
 * extensions, closed, close({ closeCode, reason }) }`, which also has the callback API
 * (`onmessage`, `send`, …) of {@link WebSocketConnection}.
 *
 * Reading starts at once; messages that arrive before the owner subscribes (`readable`
 * or `onmessage`) are kept by the connection until it does, with reading paused once
 * enough are kept. A consumer who stops reading `readable` stops the reads from the
 * duplex. Closing follows RFC 6455 §7: after the Close frames are exchanged the
 * connection closes its `writable` and waits for the peer to end the `readable`;
 * `closed` resolves once both are done (pass `timers` to bound that wait with
 * `closeTimeout`).
 *
 * @param duplex the byte streams; both are locked to the connection
 * @param options the role, negotiated values, limits and timers
 * @param head bytes already read from the duplex that belong to the connection
 * @throws TypeError if a stream of the duplex is locked
 *
 * @example
 * ```ts
 * const conn = openConnection(duplex, { role: 'server' });
 * const writer = conn.writable.getWriter();
 * for await (const message of conn.readable) await writer.write(message); // echo
 * const { closeCode, reason, wasClean } = await conn.closed;
 * ```
 */
export function openConnection(duplex: ByteDuplex, options: ConnectionOptions, head: Uint8Array = EMPTY): WebSocketConnection {
  const transport = new DuplexTransport(duplex);
  const conn = new WebSocketConnection(transport, options);
  transport.attach(conn);
  transport.start(head);
  return conn;
}

// ---- the opening handshake over a duplex ------------------------------------------------

/** Options of the opening handshake over a duplex, on both sides. */
export interface DuplexHandshakeOptions extends HttpHeadOptions {
  /**
   * Milliseconds to wait for the peer's head (and for the request to be written) before
   * giving up with a `TimeoutError` `DOMException`. Runs on `timers`; without timers
   * there is no timeout. Default 10000.
   */
  handshakeTimeout?: number;
  /**
   * permessage-deflate (RFC 7692): off by default. The codec has no DEFLATE of its own, so
   * name an engine: `{ engine: jsDeflateEngine }` (`@wsflow/deflate-js`, anywhere) or
   * `{ engine: zlibEngine }` (`@wsflow/deflate-zlib`, where `node:zlib` exists), with the
   * negotiation and sending options of the runtime shims. Not with `extensions` (client) or
   * `negotiateExtensions` (server).
   */
  perMessageDeflate?: PerMessageDeflateSetting;
}

/** Options of {@link clientHandshake}: the request, the connection, and the handshake's limits. */
export interface DuplexClientOptions
  extends Omit<ClientRequestOptions, 'url'>,
    Omit<ConnectionOptions, 'role' | 'protocol' | 'extensions' | 'perMessageDeflate'>,
    DuplexHandshakeOptions {}

/** Options of {@link serverHandshake}: negotiation, the connection, and the handshake's limits. */
export interface DuplexServerOptions
  extends ServerHandshakeOptions,
    Omit<ConnectionOptions, 'role' | 'protocol' | 'extensions' | 'perMessageDeflate'>,
    DuplexHandshakeOptions {}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/**
 * One opening handshake over a duplex: the locked streams, the timeout, and reading one
 * HTTP head without losing the bytes that follow it.
 */
class HeadExchange {
  readonly #duplex: ByteDuplex;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #timers: Timers | undefined;
  #timer: unknown = undefined;
  #timedOut: DOMException | null = null;
  #onTimeout: ((error: DOMException) => void) | null = null;

  /**
   * Locks the duplex's streams and arms the timeout.
   * @throws RangeError for an invalid `handshakeTimeout`, TypeError if a stream is locked
   */
  constructor(duplex: ByteDuplex, options: DuplexHandshakeOptions & { timers?: Timers }) {
    const ms = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    if (!(ms === Infinity || (Number.isFinite(ms) && ms > 0))) throw new RangeError(`handshakeTimeout must be a positive number, got ${String(ms)}`);
    this.#duplex = duplex;
    this.#reader = duplex.readable.getReader();
    try {
      this.#writer = duplex.writable.getWriter();
    } catch (error) {
      this.#reader.releaseLock();
      throw error;
    }
    this.#timers = options.timers;
    if (this.#timers !== undefined && ms !== Infinity) {
      this.#timer = this.#timers.setTimeout(() => {
        this.#timer = undefined;
        const error = new DOMException(`the opening handshake did not complete within ${ms} ms`, 'TimeoutError');
        this.#timedOut = error;
        this.#onTimeout?.(error);
        // Ends a pending read (it resolves as done) and a pending write (it rejects).
        this.abort(error);
      }, ms);
    }
  }

  /** Writes bytes; the promise rejects with the timeout error if the handshake timed out. */
  async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.#writer.write(bytes);
    } catch (error) {
      throw this.#timedOut ?? error;
    }
  }

  /**
   * Feeds what the peer sends to a handshake decision until it gives something other
   * than `need-more`.
   * @returns null when the peer ended the stream before the head was complete
   * @throws the timeout error; the stream's error
   */
  async readUntilDecided<S extends { kind: string }>(receive: (chunk: Uint8Array) => S): Promise<Exclude<S, { kind: 'need-more' }> | null> {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#reader.read();
      } catch (error) {
        throw this.#timedOut ?? error;
      }
      if (this.#timedOut !== null) throw this.#timedOut;
      if (result.done) return null;
      const step = receive(result.value);
      if (step.kind !== 'need-more') return step as Exclude<S, { kind: 'need-more' }>;
    }
  }

  /** Runs `step`, failing at once with the timeout error if the handshake times out first. */
  async withinTimeout<T>(step: Promise<T>): Promise<T> {
    if (this.#timedOut !== null) throw this.#timedOut;
    if (this.#timer === undefined) return step;
    const timeout = new Promise<never>((_, reject) => (this.#onTimeout = reject));
    try {
      return await Promise.race([step, timeout]);
    } finally {
      this.#onTimeout = null;
    }
  }

  /** The handshake succeeded: stops the timer and unlocks the streams for the connection. */
  release(): ByteDuplex {
    this.#stopTimer();
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    return this.#duplex;
  }

  /**
   * Writes a last message (a refusal), closes the writable after it, and only then
   * cancels the readable: on some runtimes cancelling a socket's readable closes the
   * whole socket, which would cut the refusal short.
   */
  closeWith(bytes: Uint8Array): void {
    this.#stopTimer();
    this.#writer.write(bytes).catch(ignore);
    this.#writer.close().then(
      () => this.#reader.cancel().catch(ignore),
      () => this.#reader.cancel().catch(ignore),
    );
  }

  /** Drops the connection: aborts the writable, cancels the readable. */
  abort(reason: unknown): void {
    this.#stopTimer();
    this.#writer.abort(reason).catch(ignore);
    this.#reader.cancel(reason).catch(ignore);
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) this.#timers!.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The connection options in handshake options, without the handshake's own. */
function connectionOptions(
  options: Omit<ConnectionOptions, 'role' | 'protocol' | 'extensions' | 'perMessageDeflate'>,
): Omit<ConnectionOptions, 'role' | 'protocol' | 'extensions' | 'perMessageDeflate'> {
  return {
    maxPayload: options.maxPayload,
    maxMessage: options.maxMessage,
    maxFragments: options.maxFragments,
    autoPong: options.autoPong,
    maskKeys: options.maskKeys,
    timers: options.timers,
    closeTimeout: options.closeTimeout,
    heartbeat: options.heartbeat,
    readableHighWaterMark: options.readableHighWaterMark,
    writableHighWaterMark: options.writableHighWaterMark,
    maxBufferedAmount: options.maxBufferedAmount,
    bufferedAmountPolicy: options.bufferedAmountPolicy,
  };
}

/**
 * The client's opening handshake over a byte duplex (RFC 6455 §4.1): writes the request
 * built by {@link buildClientRequest}, reads the response head with an
 * {@link HttpHeadParser}, checks it with {@link validateServerResponse}, and returns the
 * open connection in the client role. Bytes the server sent after its head (frames in the
 * same chunk as the `101`) are fed to the connection before anything read later.
 *
 * Bad options reject before the duplex is touched: a `SyntaxError` for the URL, a
 * `TypeError` or `RangeError` for the rest. Any later failure closes the duplex and
 * rejects with a {@link HandshakeError} for a refusal (`BAD_STATUS` with the server's
 * `status`) or an invalid response (`BAD_ACCEPT`, …; `MALFORMED_HEAD` also when the
 * server ends the stream first), a `TimeoutError` `DOMException` after
 * `handshakeTimeout` (with `timers`), or the stream's error if the duplex fails.
 *
 * @param duplex the byte streams of a connection to the server (TLS already done for `wss:`)
 * @param url the `ws:`/`wss:` URL, for the request target and `Host`
 * @param options subprotocols, extensions, headers; connection options; the timeout
 *
 * @example
 * ```ts
 * const tcp = await Deno.connect({ hostname: 'example.com', port: 80 });
 * const conn = await clientHandshake(tcp, 'ws://example.com/chat', { protocols: ['chat'] });
 * conn.writable.getWriter().write('Hello');
 * for await (const message of conn.readable) console.log(message);
 * ```
 */
export async function clientHandshake(duplex: ByteDuplex, url: string | URL, options: DuplexClientOptions = {}): Promise<WebSocketConnection> {
  const deflate = resolveDeflate(options.perMessageDeflate, undefined);
  if (deflate !== null && options.extensions !== undefined) throw new TypeError('give either extensions or perMessageDeflate, not both');
  const handshake = new ClientHandshake({
    url,
    protocols: options.protocols,
    extensions: deflate === null ? options.extensions : clientDeflateOffers(deflate),
    headers: options.headers,
    origin: options.origin,
    key: options.key,
    maxHeadSize: options.maxHeadSize,
    maxHeaders: options.maxHeaders,
  });
  const exchange = new HeadExchange(duplex, options);
  try {
    // The request is written while the response is awaited: a server may answer early.
    const sent = exchange.write(handshake.bytes);
    sent.catch(ignore);
    const decision = await exchange.readUntilDecided((chunk): ClientHandshakeStep => handshake.receive(chunk));
    if (decision === null) throw endedEarly('response');
    if (decision.kind === 'refuse') throw decision.error;
    await exchange.withinTimeout(sent);
    return openConnection(
      exchange.release(),
      {
        ...connectionOptions(options),
        role: 'client',
        protocol: decision.protocol,
        extensions: decision.extensionHeader,
        perMessageDeflate: perMessageDeflateFor('client', decision.extensionHeader, deflate, decision.deflate),
      },
      decision.rest,
    );
  } catch (error) {
    exchange.abort(error);
    throw error;
  }
}

/**
 * The server's opening handshake over a byte duplex (RFC 6455 §4.2): reads the request
 * head with an {@link HttpHeadParser}, validates and negotiates it with
 * {@link acceptUpgrade}, writes the `101` answer, and returns the open connection in the
 * server role. Bytes the client sent after its head are fed to the connection first.
 *
 * A refused request is answered: a {@link HandshakeError} (malformed or too large head,
 * bad version, forbidden origin, …) with `buildRejection(error.status, error.headers)`,
 * any other error of a negotiation callback with a 500; then the duplex is closed and the
 * promise rejects with the error. A client that ends the connection before its head is
 * complete gets no answer (a `MALFORMED_HEAD` rejection); a timeout (`handshakeTimeout`,
 * with `timers`) drops the connection and rejects with a `TimeoutError` `DOMException`.
 *
 * @param duplex the byte streams of an accepted connection
 * @param options origins, subprotocol and extension negotiation; connection options; the timeout
 *
 * @example
 * ```ts
 * for await (const tcp of Deno.listen({ port: 8080 })) {
 *   serverHandshake(tcp, { handleProtocols: (offered) => offered[0] }).then(async (conn) => {
 *     const writer = conn.writable.getWriter();
 *     for await (const message of conn.readable) await writer.write(message); // echo
 *   }, (error) => console.warn('refused:', error.message));
 * }
 * ```
 */
export async function serverHandshake(duplex: ByteDuplex, options: DuplexServerOptions = {}): Promise<WebSocketConnection> {
  const deflate = resolveDeflate(options.perMessageDeflate, undefined);
  if (deflate !== null && options.negotiateExtensions !== undefined) throw new TypeError('give either negotiateExtensions or perMessageDeflate, not both');
  const handshake = new ServerHandshake(options);
  const exchange = new HeadExchange(duplex, options);
  let step: Exclude<ServerHandshakeStep, { kind: 'need-more' }> | null;
  try {
    step = await exchange.readUntilDecided((chunk): ServerHandshakeStep => handshake.receive(chunk));
  } catch (error) {
    // A stream error or the timeout: no one to answer.
    exchange.abort(error);
    throw error;
  }
  if (step === null) {
    // The client went away: there is no one to answer.
    const error = endedEarly('request');
    exchange.abort(error);
    throw error;
  }
  if (step.kind === 'refuse') {
    // A malformed or oversized head is answered (400, 431, 505).
    exchange.closeWith(step.response);
    throw step.error;
  }
  const negotiation = deflate === null ? options : { ...options, negotiateExtensions: serverDeflateNegotiator(deflate) };
  const decision = handshake.decide(step.head, negotiation);
  if (decision.kind === 'refuse') {
    // RFC 6455 §4.2.2: refuse with "an appropriate HTTP error code" (400, 403, 426, …);
    // a negotiation callback that throws (or selects what was not offered) is our fault: 500.
    exchange.closeWith(decision.response);
    throw decision.error;
  }
  try {
    await exchange.write(decision.response);
  } catch (error) {
    exchange.abort(error);
    throw error;
  }
  return openConnection(
    exchange.release(),
    {
      ...connectionOptions(options),
      role: 'server',
      protocol: decision.protocol,
      extensions: decision.extensionHeader,
      perMessageDeflate: perMessageDeflateFor('server', decision.extensionHeader, deflate),
    },
    step.rest,
  );
}

/** The error for a peer that ended the stream before its head was complete. */
function endedEarly(kind: HttpHeadKind): HandshakeError {
  return new HandshakeError('MALFORMED_HEAD', `the connection ended before the ${kind} head was complete`, 400);
}
