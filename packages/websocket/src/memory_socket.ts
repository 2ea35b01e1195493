/**
 * The server end of an in-memory connection as the engine's {@link EngineSocket}: the
 * socket adapter that lets the one `ServerEngine` of `@wsflow/engine` run a
 * {@link TestServer}, so every policy (path, origins, subprotocols, `authorize`, limits,
 * the error policy) is the engine's own. Beyond an ordinary socket it lets a test write raw
 * bytes in order with the connection's frames, pause reading, and it reports progress to
 * `flush()`.
 * @module
 */
import type { EngineSocket, SocketReceiver } from '@wsflow/engine';
import { IGNORE_RECEIVER } from '@wsflow/engine';
import { noteActivity } from './activity.ts';

const ignore = (): void => {};

/**
 * An {@link EngineSocket} over the reader and writer of a byte duplex.
 *
 * Bytes read go to the current `receiver` in order, unless reading is held (by the
 * engine), paused (by the connection, for backpressure) or paused by the test. The receiver
 * is told `transportClosed()` once the reading side ended and the writing side closed, or
 * at once on a stream error or {@link destroy}.
 *
 * @example
 * ```ts
 * const socket = new MemorySocket(duplex.readable.getReader(), duplex.writable.getWriter());
 * engine.accept(socket);
 * ```
 */
export class MemorySocket implements EngineSocket {
  receiver: SocketReceiver = IGNORE_RECEIVER;
  readonly remoteAddress: string | undefined = undefined;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #queue: Uint8Array[] = [];
  #buffered = 0;
  #held = false;
  #pausedByConnection = false;
  #pausedByTest = false;
  #wake: (() => void) | null = null;
  #readDone = false;
  #endDelivered = false;
  #writeDone = false;
  #ending = false;
  #destroyed = false;
  #closed = false;
  #failure: unknown = undefined;
  #onGone!: () => void;
  #onWritten!: () => void;
  /** Resolves once the socket is closed. */
  readonly gone: Promise<void> = new Promise((resolve) => (this.#onGone = resolve));
  /** Resolves on the first write or once the socket is closed: the server has answered. */
  readonly answered: Promise<void> = new Promise((resolve) => (this.#onWritten = resolve));

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>, writer: WritableStreamDefaultWriter<Uint8Array>) {
    this.#reader = reader;
    this.#writer = writer;
    void this.#pump();
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Puts bytes back in front of what is still to be delivered (a head read ahead by the test server). */
  unread(chunks: Uint8Array[]): void {
    this.#queue.unshift(...chunks);
    this.#wakeUp();
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    this.#wakeUp();
  }

  pause(): void {
    this.#pausedByConnection = true;
  }

  resume(): void {
    this.#pausedByConnection = false;
    this.#wakeUp();
  }

  /** Stops reading, as a busy server would: the client's writes back up. */
  pauseReading(): void {
    this.#pausedByTest = true;
  }

  /** Reads again after {@link pauseReading}. */
  resumeReading(): void {
    this.#pausedByTest = false;
    this.#wakeUp();
  }

  write(chunk: Uint8Array): void {
    if (this.#ending || this.#destroyed || chunk.length === 0) return;
    noteActivity();
    this.#onWritten();
    const size = chunk.length;
    this.#buffered += size;
    this.#writer.write(chunk).then(
      () => {
        this.#buffered -= size;
        noteActivity();
        if (!this.#closed) this.receiver.drain();
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
    this.#wakeUp();
    const reason = new TypeError('the connection was dropped');
    // An answer being sent (end() was called) still reaches the peer, as a socket's FIN does.
    if (!this.#ending) this.#writer.abort(reason).catch(ignore);
    this.#reader.cancel(reason).catch(ignore);
    this.#closeNow(this.#failure);
  }

  /** Ends the sending side after what was written, then drops the socket once that is sent. */
  endThenDrop(): void {
    this.end();
    this.#writer.closed.then(
      () => this.destroy(),
      () => this.destroy(),
    );
  }

  get #blocked(): boolean {
    return this.#held || this.#pausedByConnection || this.#pausedByTest;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #pump(): Promise<void> {
    let reading: Promise<void> | null = null;
    for (;;) {
      if (this.#destroyed || this.#closed) return;
      if (!this.#blocked && this.#queue.length > 0) {
        const chunk = this.#queue.shift()!;
        noteActivity();
        this.receiver.receive(chunk);
        continue;
      }
      if (!this.#blocked && this.#readDone && !this.#endDelivered) {
        this.#endDelivered = true;
        this.receiver.receiveEnd();
        this.#maybeClosed();
        continue;
      }
      if (reading === null && !this.#readDone && !this.#blocked && this.#queue.length === 0) {
        reading = this.#reader.read().then(
          (result) => {
            noteActivity();
            if (result.done) this.#readDone = true;
            else if (result.value.length > 0) this.#queue.push(result.value);
            reading = null;
            this.#wakeUp();
          },
          (error: unknown) => {
            reading = null;
            this.#fail(error);
            this.#wakeUp();
          },
        );
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #maybeClosed(): void {
    if (this.#closed || !this.#endDelivered || !this.#writeDone) return;
    this.#closeNow(undefined);
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#failure = error;
    this.destroy();
  }

  #closeNow(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onGone();
    this.#onWritten();
    const receiver = this.receiver;
    // A promise job, not queueMicrotask: fake timers may fake that one.
    void Promise.resolve().then(() => receiver.transportClosed(error));
  }
}
