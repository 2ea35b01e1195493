/**
 * The server end of an in-memory connection as a {@link ByteTransport}, with what a test
 * needs beyond the codec's own `DuplexTransport`: raw bytes written in order with the
 * connection's frames, reading paused on demand, an abrupt drop, and progress reported
 * to `flush()`.
 * @module
 */
import type { ByteTransport, WebSocketConnection } from '@wsflow/codec';
import { noteActivity } from './activity.ts';

const ignore = (): void => {};

/**
 * A {@link ByteTransport} over the reader and writer of a byte duplex whose opening
 * handshake was done by hand.
 *
 * Writes (the connection's and {@link writeRaw}'s) go to the one writer in call order.
 * Reading runs once {@link start} is called; it stops while the connection asks for
 * backpressure or the test {@link pauseReading}s. The connection is told
 * `transportClosed()` once the reading side ended and the writing side closed, or at once
 * on a stream error or {@link destroy}.
 *
 * @example
 * ```ts
 * const transport = new ServerTransport(reader, writer);
 * const conn = new WebSocketConnection(transport, { role: 'server' });
 * transport.attach(conn);
 * transport.start(rest);
 * transport.writeRaw(new Uint8Array([0x89, 0x00])); // a Ping, by hand
 * ```
 */
export class ServerTransport implements ByteTransport {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #conn: WebSocketConnection | null = null;
  #buffered = 0;
  #pausedByConnection = false;
  #pausedByTest = false;
  #wake: (() => void) | null = null;
  #started = false;
  #readDone = false;
  #writeDone = false;
  #ending = false;
  #destroyed = false;
  #closed = false;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>, writer: WritableStreamDefaultWriter<Uint8Array>) {
    this.#reader = reader;
    this.#writer = writer;
  }

  /** Bytes written whose write has not completed (the peer has not read them yet). */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Whether the transport is closed or was destroyed. */
  get isClosed(): boolean {
    return this.#closed || this.#destroyed;
  }

  /** Connects the connection that this transport carries. */
  attach(conn: WebSocketConnection): void {
    this.#conn = conn;
  }

  /** Starts reading: `head` first (bytes that followed the request head), then the stream. */
  start(head: Uint8Array): void {
    if (this.#started || this.#conn === null) return;
    this.#started = true;
    void this.#readLoop(this.#conn, head);
  }

  write(chunk: Uint8Array): void {
    this.writeRaw(chunk);
  }

  /** Writes bytes as they are, in order with the connection's frames (for invalid frames). */
  writeRaw(chunk: Uint8Array): void {
    if (this.#ending || this.#destroyed || chunk.length === 0) return;
    noteActivity();
    const size = chunk.length;
    this.#buffered += size;
    this.#writer.write(chunk).then(
      () => {
        this.#buffered -= size;
        noteActivity();
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
    noteActivity();
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
    noteActivity();
    this.#wakeReader();
    const reason = new TypeError('the connection was dropped');
    this.#writer.abort(reason).catch(ignore);
    this.#reader.cancel(reason).catch(ignore);
  }

  pause(): void {
    this.#pausedByConnection = true;
  }

  resume(): void {
    this.#pausedByConnection = false;
    this.#wakeReader();
  }

  /** Stops reading from the client, as a busy server would: its writes back up. */
  pauseReading(): void {
    this.#pausedByTest = true;
  }

  /** Reads from the client again. */
  resumeReading(): void {
    this.#pausedByTest = false;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #readLoop(conn: WebSocketConnection, head: Uint8Array): Promise<void> {
    await Promise.resolve();
    if (head.length > 0 && !this.#destroyed) this.#deliver(conn, head);
    for (;;) {
      while ((this.#pausedByConnection || this.#pausedByTest) && !this.#destroyed) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
      if (this.#destroyed) return;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#reader.read();
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (this.#destroyed) return;
      noteActivity();
      if (result.done) {
        this.#readDone = true;
        conn.receiveEnd();
        this.#maybeClosed();
        return;
      }
      // A chunk read just before the test paused reading is held until it resumes.
      while (this.#pausedByTest && !this.#destroyed) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
      if (this.#destroyed) return;
      if (result.value.length > 0) this.#deliver(conn, result.value);
    }
  }

  #deliver(conn: WebSocketConnection, chunk: Uint8Array): void {
    try {
      conn.receive(chunk);
    } catch (error) {
      // A test's handler threw: the connection failed with 1011; report it as uncaught.
      void Promise.reject(error);
    }
  }

  #maybeClosed(): void {
    if (this.#closed || this.#destroyed || !this.#readDone || !this.#writeDone) return;
    this.#closed = true;
    this.#conn?.transportClosed();
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.destroy();
    this.#conn?.transportClosed(error);
  }
}
