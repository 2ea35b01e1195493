/**
 * The codec's {@link ByteTransport} over a Node `net.Socket` (or `tls.TLSSocket`).
 * @module
 */
import type { Duplex } from 'node:stream';
import type { ByteTransport } from '@wsflow/codec';

/**
 * A {@link ByteTransport} writing to a Node socket (any `Duplex` will do). Writes after the socket ended or was
 * destroyed are dropped (the connection is closing then anyway); several buffers are
 * written corked, so Node hands them to the kernel in one `writev`.
 *
 * @example
 * ```ts
 * const transport = new SocketTransport(socket);
 * const conn = new WebSocketConnection(transport, { role: 'client', timers: nodeTimers });
 * socket.on('data', (chunk) => conn.receive(chunk));
 * ```
 */
export class SocketTransport implements ByteTransport {
  /** The socket written to. */
  readonly socket: Duplex;
  #paused = false;

  constructor(socket: Duplex) {
    this.socket = socket;
  }

  /** Whether the connection asked to stop reading (read backpressure). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Bytes Node holds that the kernel has not taken yet. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  write(chunk: Uint8Array): void {
    if (this.#writable()) this.socket.write(chunk);
  }

  writev(chunks: Uint8Array[]): void {
    if (!this.#writable()) return;
    const socket = this.socket;
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
  }

  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.#paused = true;
    this.socket.pause();
  }

  resume(): void {
    this.#paused = false;
    this.socket.resume();
  }

  #writable(): boolean {
    return !this.socket.destroyed && !this.socket.writableEnded;
  }
}
