/**
 * The codec's {@link ByteTransport} over a `Deno.Conn` (TCP or TLS), with the read loop
 * that feeds the connection: `conn.read()` straight into fresh buffers and from there into
 * the sans-I/O core, and writes queued and coalesced into few `conn.write()` calls, with
 * no WHATWG stream hop on either path.
 * @module
 */
import { IGNORE_RECEIVER, type EngineSocket, type SocketReceiver } from '@wsflow/engine';

/**
 * Smallest read buffer: an idle conn keeps a read pending on its buffer, so this also
 * bounds the memory an idle connection pins.
 */
const MIN_SLAB = 4 * 1024;
/**
 * Largest read buffer: large messages then arrive in few reads, often whole, so that the
 * codec unmasks them in place instead of gathering them (measured: 1 MiB echo needs about
 * a fifth less CPU than with 1 MiB buffers).
 */
const MAX_SLAB = 4 * 1024 * 1024;
/** Queued chunks smaller than this are copied together into one write; larger ones are written as they are. */
const COPY_MAX = 16 * 1024;
/** Largest write assembled from small chunks. */
const COALESCE_MAX = 256 * 1024;

const EMPTY = new Uint8Array(0);

/** Octets a held conn still reads (to see its peer leave) before it stops reading. */
const HELD_READ_MAX = 64 * 1024;

/** Whether an error only says that the conn was closed under a pending read or write. */
function isClosedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/**
 * A {@link ByteTransport} over a `Deno.Conn`, which also reads it into a
 * {@link WebSocketConnection}.
 *
 * - Reading: {@link start} feeds the bytes that came with the handshake, then reads in a
 *   loop. Every read goes into a region of a buffer that is never written again, so the
 *   connection may unmask in place and keep views (`mutableInput`). The buffer size
 *   adapts (4 KiB to 4 MiB) to what arrives, which also keeps an idle conn's buffer
 *   small. `pause()` stops the loop before its next read; `resume()` restarts it. The
 *   peer's FIN is `receiveEnd()`.
 * - Writing: chunks are queued; one write runs at a time and takes the head of the queue:
 *   a run of chunks under 16 KiB (and the larger chunk after them, if the whole fits)
 *   copied together up to 256 KiB, or one larger chunk as it is (uncopied), looping over
 *   partial writes. `bufferedAmount` is what is queued or being written; each finished
 *   write calls `drain()`. `end()` half-closes (`closeWrite`) once the queue is written.
 * - The connection is told `transportClosed()` once, when both directions are finished
 *   (then the conn is closed), or at once on a read or write error or `destroy()`.
 *
 * @example
 * ```ts
 * const transport = new ConnTransport(conn);
 * const connection = new WebSocketConnection(transport, { role: 'server', mutableInput: true });
 * transport.attach(connection);
 * connection.onmessage = (data) => connection.send(data); // echo
 * transport.start(bytesAfterTheHead);
 * ```
 */
export class ConnTransport implements EngineSocket {
  /** The conn read and written. */
  readonly conn: Deno.Conn;
  /** Where reads, the end, the close and drains go (the engine swaps it as the socket's role changes). */
  receiver: SocketReceiver = IGNORE_RECEIVER;
  #attached = false;
  #held = false;
  /** Octets read since {@link hold}. */
  #heldBytes = 0;

  #queue: Uint8Array[] = [];
  #queued = 0;
  #inFlight = 0;
  #writing = false;
  #ending = false;
  #writeDone = false;

  #started = false;
  #paused = false;
  #wake: (() => void) | null = null;
  #readDone = false;

  #closed = false;
  /** The buffer reads go into, front to back; a region once read into is never reused. */
  #slab: Uint8Array = EMPTY;
  #slabAt = 0;
  /** Size of the next buffer: doubles while reads fill the buffer, halves while they come back small. */
  #slabSize = MIN_SLAB;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Connects the transport to the connection it feeds (once, before {@link start}). */
  attach(receiver: SocketReceiver): void {
    if (this.#attached) throw new TypeError('ConnTransport is already attached');
    this.#attached = true;
    this.receiver = receiver;
  }

  /** The peer's IP address. */
  get remoteAddress(): string | undefined {
    try {
      const addr = this.conn.remoteAddr;
      return addr.transport === 'tcp' || addr.transport === 'udp' ? addr.hostname : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether the conn is closed (by either side, or after an error). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the connection asked to stop reading. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Feeds `initial` (bytes that followed the handshake head, never lost), then reads the
   * conn until it ends. Idempotent.
   */
  start(initial: Uint8Array = EMPTY): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#closed) return;
    if (initial.length > 0 && !this.#deliver(initial)) return;
    void this.#readLoop();
  }

  // ---- ByteTransport -------------------------------------------------------------------

  get bufferedAmount(): number {
    return this.#queued + this.#inFlight;
  }

  write(chunk: Uint8Array): void {
    if (this.#ending || this.#closed || chunk.length === 0) return;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (!this.#writing) void this.#flush();
  }

  writev(chunks: Uint8Array[]): void {
    if (this.#ending || this.#closed) return;
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
    if (!this.#writing) void this.#flush();
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (!this.#writing) void this.#closeWrite();
  }

  destroy(): void {
    this.#close();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeUp();
  }

  /**
   * Stops reading while the engine decides (see `EngineSocket.hold`). A `Deno.Conn` learns
   * that its peer left only from a read, so a held conn keeps reading until
   * {@link HELD_READ_MAX} octets arrived meanwhile: a peer that resets or leaves during an
   * `authorize` hook is noticed at once (as on Node and Bun), and one that floods is not read
   * further.
   */
  hold(): void {
    this.#held = true;
    this.#heldBytes = 0;
  }

  /** Lifts {@link hold}; the first release of a conn not started yet starts its read loop. */
  release(): void {
    this.#held = false;
    if (!this.#started) this.start();
    else this.#wakeUp();
  }

  /** Whether the read loop waits: paused by the receiver, or held with enough read meanwhile. */
  #stopped(): boolean {
    return this.#paused || (this.#held && this.#heldBytes >= HELD_READ_MAX);
  }

  #wakeUp(): void {
    if (this.#stopped()) return;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  // ---- internals -----------------------------------------------------------------------

  async #readLoop(): Promise<void> {
    const conn = this.conn;
    while (!this.#closed) {
      if (this.#stopped()) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      let slab = this.#slab;
      let at = this.#slabAt;
      // A new buffer when this one is nearly used up, or much bigger than the reads now
      // need (so that a connection gone quiet after large messages stops pinning it).
      if (slab.length - at < this.#slabSize >> 2 || slab.length > this.#slabSize << 1) {
        slab = this.#slab = new Uint8Array(this.#slabSize);
        at = this.#slabAt = 0;
      }
      const room = slab.length - at;
      let n: number | null;
      try {
        n = await conn.read(slab.subarray(at));
      } catch (error) {
        this.#failed(error);
        return;
      }
      if (this.#closed) return;
      if (n === null) {
        this.#readDone = true;
        this.receiver.receiveEnd();
        this.#finishIfDone();
        return;
      }
      this.#slabAt = at + n;
      if (this.#held) this.#heldBytes += n;
      // A read that filled the buffer suggests more is waiting: use bigger buffers.
      // Reads that come back small: smaller ones (an idle conn then pins little memory).
      if (n === room) this.#slabSize = Math.min(MAX_SLAB, this.#slabSize * 2);
      else if (n < room >> 4) this.#slabSize = Math.max(MIN_SLAB, this.#slabSize >> 2);
      if (!this.#deliver(slab.subarray(at, at + n))) return;
    }
  }

  /**
   * Hands bytes to the connection. An exception from a user callback (`onmessage`, …) has
   * already failed the connection with 1011 (its Close goes out as usual); it is reported
   * as uncaught, as Node reports one thrown from a `data` listener.
   */
  #deliver(chunk: Uint8Array): boolean {
    try {
      this.receiver.receive(chunk);
    } catch (error) {
      reportUncaught(error);
    }
    return !this.#closed;
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    const conn = this.conn;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const data = this.#take();
        this.#inFlight = data.length;
        let at = 0;
        while (at < data.length) at += await conn.write(at === 0 ? data : data.subarray(at));
        this.#inFlight = 0;
        if (this.#queue.length === 0) this.receiver.drain();
      }
    } catch (error) {
      this.#inFlight = 0;
      this.#writing = false;
      this.#failed(error);
      return;
    }
    this.#writing = false;
    if (this.#ending && !this.#closed && this.#queue.length === 0) void this.#closeWrite();
  }

  /**
   * The next write: a large chunk as it is (copying a large payload costs more than a
   * write of its own: at 64 KiB, joining a payload to its header took 18% of the echo
   * server's CPU), or the run of small chunks at the head of the queue, copied together.
   */
  #take(): Uint8Array {
    const queue = this.#queue;
    const first = queue[0];
    let count = 1;
    let total = first.length;
    if (total < COPY_MAX) {
      while (count < queue.length && queue[count].length < COPY_MAX && total + queue[count].length <= COALESCE_MAX) total += queue[count++].length;
    }
    let data: Uint8Array;
    if (count === 1) data = first;
    else {
      data = new Uint8Array(total);
      let at = 0;
      for (let i = 0; i < count; i++) {
        data.set(queue[i], at);
        at += queue[i].length;
      }
    }
    if (count === queue.length) this.#queue = [];
    else queue.splice(0, count);
    this.#queued -= total;
    return data;
  }

  async #closeWrite(): Promise<void> {
    try {
      await this.conn.closeWrite();
    } catch {
      // The peer is gone already (ENOTCONN): our side is finished either way.
    }
    this.#writeDone = true;
    this.#finishIfDone();
  }

  #finishIfDone(): void {
    if (this.#readDone && this.#writeDone) this.#close();
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#close(isClosedError(error) ? undefined : error);
  }

  /** Closes the conn once and tells the connection. */
  #close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    try {
      this.conn.close();
    } catch {
      /* already closed */
    }
    this.#paused = this.#held = false;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
    this.receiver.transportClosed(error);
  }
}

/** Reports an exception thrown by user code the way an uncaught one is (Deno then exits, as Node would). */
function reportUncaught(error: unknown): void {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
  else queueMicrotask(() => {
    throw error;
  });
}
