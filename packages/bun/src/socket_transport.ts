/**
 * The codec's {@link ByteTransport} over a Bun TCP or TLS socket, and the socket handlers
 * that feed it: Bun's `write()` may take only part of a buffer and queues nothing, so the
 * transport keeps the rest in order, counts it in `bufferedAmount` and writes it on `drain`.
 * @module
 */
import { IGNORE_RECEIVER, type EngineSocket, type SocketReceiver } from '@wsflow/engine';
import type { BunSocket, BunSocketHandler } from './bun_types.ts';



/** Queued chunks smaller than this are merged into one write when the queue is flushed. */
const MERGE_BELOW = 16 * 1024;
/** The most bytes merged into one write. */
const MERGE_MAX = 256 * 1024;
/** Chunks of `writev` this large are written as they are, not copied. */
const LARGE = 64 * 1024;

type WriteState = 'open' | 'ending' | 'ended' | 'closed';

/**
 * A {@link ByteTransport} on a Bun socket.
 *
 * - Writing: bytes the socket does not take at once are queued, in order, and written on
 *   `drain`; `bufferedAmount` is the queued bytes. Writes after `end()` or `destroy()` are
 *   dropped (the connection is closing then anyway).
 * - `end()` writes the queue out, then half-closes (FIN) and keeps reading, so the peer's
 *   own FIN (or the connection's close timeout) finishes the socket: Bun's `end()` would
 *   close it outright and lose queued bytes.
 * - Reading: `pause()`/`resume()` (the connection's read backpressure) and
 *   `hold()`/`release()` (a handshake's) both stop `socket.pause()` reads until lifted.
 * - Events: the socket's `data` is the transport (see {@link transportHandlers}); each
 *   event goes to the current {@link receiver}.
 *
 * @example
 * ```ts
 * const transport = new BunSocketTransport();
 * const socket = await Bun.connect({ hostname, port, data: transport, socket: transportHandlers, allowHalfOpen: true });
 * const conn = new WebSocketConnection(transport, { role: 'client', timers: bunTimers, mutableInput: true });
 * transport.receiver = conn;
 * ```
 */
export class BunSocketTransport implements EngineSocket {
  /** Where socket events go; swap it when the connection takes over from a handshake. */
  receiver: SocketReceiver = IGNORE_RECEIVER;
  /** Told once of a TLS handshake's outcome (`null` when it succeeded). */
  onSecure: ((error: Error | null) => void) | null = null;

  #socket: BunSocket<BunSocketTransport> | null = null;
  #queue: Uint8Array[] = [];
  #queueStart = 0;
  #queued = 0;
  #state: WriteState = 'open';
  #pausedByReceiver = false;
  #held = false;
  #socketPaused = false;
  #error: Error | undefined;

  /** @param socket the socket, if it exists yet (else {@link attach} it on `open`) */
  constructor(socket?: BunSocket<BunSocketTransport>) {
    if (socket !== undefined) this.attach(socket);
  }

  /** Binds the socket (on its `open` event, for a transport made before `Bun.connect`). */
  attach(socket: BunSocket<BunSocketTransport>): void {
    this.#socket = socket;
    socket.data = this;
    socket.setNoDelay(true);
  }

  /** The socket, once attached. */
  get socket(): BunSocket<BunSocketTransport> | null {
    return this.#socket;
  }

  /** Whether the socket is closed. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The peer's IP address, if known. */
  get remoteAddress(): string | undefined {
    try {
      return this.#socket?.remoteAddress || undefined;
    } catch {
      return undefined;
    }
  }

  // ---- ByteTransport -----------------------------------------------------------------

  /** Bytes queued that the socket has not taken yet. */
  get bufferedAmount(): number {
    return this.#queued;
  }

  write(chunk: Uint8Array): void {
    if (this.#state !== 'open' || chunk.length === 0) return;
    if (this.#queued === 0) {
      const written = this.#socket!.write(chunk);
      if (written === chunk.length || written < 0) return; // all taken, or closed (its close event follows)
      this.#enqueue(written === 0 ? chunk : chunk.subarray(written));
    } else this.#enqueue(chunk);
  }

  /**
   * Bun sockets have no `writev` (nor `cork`): one `write` is one syscall. Runs of small
   * chunks (frames echoed in one batch, headers before their payloads) are copied into one
   * buffer of up to {@link MERGE_MAX} bytes; large chunks are written as they are.
   */
  writev(chunks: Uint8Array[]): void {
    let from = 0;
    let runBytes = 0;
    for (let i = 0; i < chunks.length; i++) {
      const length = chunks[i].length;
      if (length >= LARGE) {
        this.#writeRun(chunks, from, i, runBytes);
        this.write(chunks[i]);
        from = i + 1;
        runBytes = 0;
      } else if (runBytes + length > MERGE_MAX) {
        this.#writeRun(chunks, from, i, runBytes);
        from = i;
        runBytes = length;
      } else runBytes += length;
    }
    this.#writeRun(chunks, from, chunks.length, runBytes);
  }

  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ending';
    if (this.#queued === 0) this.#shutdown();
  }

  destroy(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#dropQueue();
    this.#socket?.terminate();
  }

  pause(): void {
    this.#pausedByReceiver = true;
    this.#updateReading();
  }

  resume(): void {
    this.#pausedByReceiver = false;
    this.#updateReading();
  }

  // ---- handshake controls ------------------------------------------------------------

  /** Stops reading while a handshake is decided (bytes already on their way may still come). */
  hold(): void {
    this.#held = true;
    this.#updateReading();
  }

  /** Lifts {@link hold}. */
  release(): void {
    this.#held = false;
    this.#updateReading();
  }

  // ---- socket events -----------------------------------------------------------------

  /** @internal the socket's `data` event */
  handleData(chunk: Uint8Array): void {
    this.receiver.receive(chunk);
  }

  /** @internal the socket's `drain` event */
  handleDrain(): void {
    if (this.#queued > 0) this.#flush();
    if (this.#queued === 0) this.receiver.drain();
  }

  /** @internal the socket's `end` event (peer FIN) */
  handleEnd(): void {
    this.receiver.receiveEnd();
  }

  /** @internal the socket's `error` event */
  handleError(error: Error): void {
    this.#error ??= error;
  }

  /** @internal the socket's `close` event */
  handleClose(error?: Error): void {
    this.#state = 'closed';
    this.#dropQueue();
    const failure = error ?? this.#error;
    const onSecure = this.onSecure;
    if (onSecure !== null) {
      this.onSecure = null;
      onSecure(failure ?? new Error('The connection closed during the TLS handshake'));
    }
    this.receiver.transportClosed(failure);
  }

  /** @internal the socket's `handshake` event (TLS) */
  handleHandshake(success: boolean, authorizationError: Error | null): void {
    const onSecure = this.onSecure;
    if (onSecure === null) return;
    this.onSecure = null;
    onSecure(success ? null : (authorizationError ?? new Error('The TLS handshake failed')));
  }

  // ---- internals ---------------------------------------------------------------------

  /** Writes `chunks[from, to)`, `bytes` in all, as one buffer. */
  #writeRun(chunks: Uint8Array[], from: number, to: number, bytes: number): void {
    if (to - from === 1) this.write(chunks[from]);
    else if (to - from > 1) {
      const merged = new Uint8Array(bytes);
      let at = 0;
      for (let i = from; i < to; i++) {
        merged.set(chunks[i], at);
        at += chunks[i].length;
      }
      this.write(merged);
    }
  }

  #enqueue(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
  }

  #flush(): void {
    const socket = this.#socket!;
    const queue = this.#queue;
    while (this.#queueStart < queue.length) {
      let chunk = queue[this.#queueStart];
      if (chunk.length < MERGE_BELOW && this.#queueStart + 1 < queue.length) chunk = this.#merge();
      const written = socket.write(chunk);
      if (written < 0) return; // closed: the close event drops the queue
      this.#queued -= written;
      if (written < chunk.length) {
        queue[this.#queueStart] = chunk.subarray(written);
        return;
      }
      queue[this.#queueStart++] = EMPTY;
    }
    this.#queue = [];
    this.#queueStart = 0;
    if (this.#state === 'ending') this.#shutdown();
  }

  /** Merges small chunks at the queue's head into one (one syscall instead of many). */
  #merge(): Uint8Array {
    const queue = this.#queue;
    let end = this.#queueStart;
    let total = 0;
    while (end < queue.length && total + queue[end].length <= MERGE_MAX) total += queue[end++].length;
    if (end - this.#queueStart < 2) return queue[this.#queueStart];
    const merged = new Uint8Array(total);
    let at = 0;
    for (let i = this.#queueStart; i < end; i++) {
      merged.set(queue[i], at);
      at += queue[i].length;
      queue[i] = EMPTY;
    }
    queue[end - 1] = merged;
    this.#queueStart = end - 1;
    return merged;
  }

  #dropQueue(): void {
    this.#queue = [];
    this.#queueStart = 0;
    this.#queued = 0;
  }

  #shutdown(): void {
    this.#state = 'ended';
    // Reading goes on (the connection ignores it) so that the peer's FIN is seen.
    this.#updateReading();
    this.#socket?.shutdown();
  }

  #updateReading(): void {
    const socket = this.#socket;
    if (socket === null || this.#state === 'closed') return;
    const pause = this.#state === 'open' && (this.#pausedByReceiver || this.#held);
    if (pause === this.#socketPaused) return;
    this.#socketPaused = pause;
    if (pause) socket.pause();
    else socket.resume();
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Reports an error thrown by a receiver (a user's callback, through the connection) the
 * way an event listener's would be: uncaught, after the socket event. Without this, Bun
 * would hand it to the socket's `error` handler and it would go unseen.
 */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * Socket handlers whose `socket.data` is a {@link BunSocketTransport}: each event goes to
 * the transport, bytes arrive as plain `Uint8Array`s. Spread them and add `open` to make a
 * listener's handlers.
 *
 * @example
 * ```ts
 * Bun.listen({ hostname, port, allowHalfOpen: true, socket: { ...transportHandlers, open: (s) => accept(new BunSocketTransport(s)) } });
 * ```
 */
export const transportHandlers: BunSocketHandler<BunSocketTransport> = {
  binaryType: 'uint8array',
  open(socket) {
    socket.data.attach(socket);
  },
  data(socket, chunk) {
    try {
      socket.data.handleData(chunk);
    } catch (error) {
      rethrowLater(error);
    }
  },
  drain(socket) {
    try {
      socket.data.handleDrain();
    } catch (error) {
      rethrowLater(error);
    }
  },
  end(socket) {
    try {
      socket.data.handleEnd();
    } catch (error) {
      rethrowLater(error);
    }
  },
  close(socket, error) {
    try {
      socket.data.handleClose(error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  },
  error(socket, error) {
    socket.data.handleError(error);
  },
  handshake(socket, success, authorizationError) {
    socket.data.handleHandshake(success, authorizationError);
  },
  connectError() {
    // Bun.connect rejects with the same error.
  },
};
