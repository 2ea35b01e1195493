/**
 * An in-memory, connected pair of byte duplexes: the bytes written on one side are read on
 * the other, with byte-counted backpressure, like the two ends of a socket. For tests, and
 * for running a client and a server in one process without a network.
 * @module
 */
import type { ByteDuplex } from './duplex.ts';

/** Options of {@link createDuplexPair}. */
export interface DuplexPairOptions {
  /**
   * Bytes each direction holds before writes wait for the reader: the readable side
   * queues up to this many unread bytes (plus one chunk), and the writable side's
   * `desiredSize` counts down from it. Default 64 KiB.
   */
  highWaterMark?: number;
}

/** One direction: a writable whose bytes come out of a readable. */
function pipe(highWaterMark: number): ByteDuplex {
  let source!: ReadableStreamDefaultController<Uint8Array>;
  let sink!: WritableStreamDefaultController;
  /** Wakes a write waiting for the reader to make room. */
  let wake: (() => void) | null = null;
  /** Set once the readable side was cancelled: writes fail with its reason, like a reset socket. */
  let cancelled: { reason: unknown } | null = null;
  const throwIfCancelled = (): void => {
    if (cancelled !== null) throw cancelled.reason;
  };
  const wakeWriter = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        source = controller;
      },
      // Called whenever the queue falls below the high-water mark: room for the writer.
      pull() {
        wakeWriter();
      },
      cancel(reason) {
        cancelled = { reason: reason ?? new TypeError('the reading side was cancelled') };
        sink.error(cancelled.reason);
        wakeWriter();
      },
    },
    { highWaterMark, size: (chunk) => chunk.byteLength },
  );

  const writable = new WritableStream<Uint8Array>(
    {
      start(controller) {
        sink = controller;
      },
      async write(chunk) {
        throwIfCancelled();
        if (!ArrayBuffer.isView(chunk)) throw new TypeError('a byte duplex accepts Uint8Array chunks only');
        if (chunk.byteLength === 0) return;
        // Copied, as a socket copies into the kernel: the writer may reuse its buffer.
        source.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice());
        // Backpressure: the write completes once the reader has made room again.
        while (cancelled === null && (source.desiredSize ?? 1) <= 0) {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        throwIfCancelled();
      },
      close() {
        if (cancelled === null) source.close();
      },
      abort(reason) {
        if (cancelled === null) source.error(reason);
      },
    },
    { highWaterMark, size: (chunk) => chunk.byteLength },
  );

  return { readable, writable };
}

/**
 * Creates two connected {@link ByteDuplex}es: what is written to one's `writable` is read
 * from the other's `readable`, in order, each chunk copied. It behaves like the two ends
 * of a TCP connection:
 *
 * - backpressure in bytes: a write resolves once the bytes are queued for the reader and
 *   the reader's queue is below `highWaterMark`, so a writer that awaits its writes (or
 *   watches `writer.desiredSize`) stalls while the other end does not read;
 * - closing a `writable` ends the other `readable` after the bytes queued (a FIN);
 * - aborting a `writable` errors the other `readable` with the reason, dropping what is
 *   queued (a reset);
 * - cancelling a `readable` errors the other `writable` with the reason: later and
 *   waiting writes reject.
 *
 * @example
 * ```ts
 * const [client, server] = createDuplexPair({ highWaterMark: 16 * 1024 });
 * const [ws, conn] = await Promise.all([
 *   clientHandshake(client, 'ws://localhost/chat'),
 *   serverHandshake(server),
 * ]);
 * ```
 */
export function createDuplexPair(options: DuplexPairOptions = {}): [ByteDuplex, ByteDuplex] {
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
    throw new RangeError(`highWaterMark must be a positive integer, got ${String(highWaterMark)}`);
  }
  const aToB = pipe(highWaterMark);
  const bToA = pipe(highWaterMark);
  return [
    { readable: bToA.readable, writable: aToB.writable },
    { readable: aToB.readable, writable: bToA.writable },
  ];
}
