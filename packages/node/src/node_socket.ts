/**
 * A Node socket (`net.Socket`, or a `tls.TLSSocket` over one) as the engines drive it: its
 * events go to the current receiver, through listeners shared by every socket (one
 * function each, not a closure per socket).
 * @module
 */
import type { Socket } from 'node:net';
import { IGNORE_RECEIVER, type EngineSocket, type SocketReceiver } from '@wsflow/engine';

const kEngineSocket = Symbol('wsflow.engineSocket');
const kRegistry = Symbol('wsflow.registry');

type Carrier = Socket & { [kEngineSocket]?: NodeEngineSocket; [kRegistry]?: Set<Socket> };

function onData(this: Carrier, chunk: Uint8Array): void {
  this[kEngineSocket]!.receiver.receive(chunk);
}

function onEnd(this: Carrier): void {
  this[kEngineSocket]!.receiver.receiveEnd();
}

function onDrain(this: Carrier): void {
  this[kEngineSocket]!.receiver.drain();
}

function onError(this: Carrier, error: Error): void {
  this[kEngineSocket]!.failure ??= error;
}

function onClose(this: Carrier): void {
  // The one `close` listener also takes the socket out of its server's set: a second
  // listener would cost an array, a once-wrapper and its context per idle connection.
  this[kRegistry]?.delete(this);
  const socket = this[kEngineSocket]!;
  socket.closed = true;
  socket.receiver.transportClosed(socket.failure);
}

/**
 * Wraps `socket` for the engines: it is held (not reading) until the engine has set a
 * receiver and released it; then it reads into the current receiver (which the engines
 * swap), pauses while the receiver or the engine asks, and reports its close once.
 *
 * @example
 * ```ts
 * server.on('connection', (socket) => engine.accept(new NodeEngineSocket(socket)));
 * ```
 */
export class NodeEngineSocket implements EngineSocket {
  receiver: SocketReceiver = IGNORE_RECEIVER;
  /** The first error the socket reported. */
  failure: Error | undefined = undefined;
  /** Whether the socket has closed. */
  closed = false;
  readonly #socket: Socket;
  #paused = false;
  /** Held from the start: nothing is read until the engine has set a receiver and released it. */
  #held = true;

  /** @param registry a set the socket is kept in until it closes (a server's open sockets) */
  constructor(socket: Socket, registry?: Set<Socket>) {
    this.#socket = socket;
    (socket as Carrier)[kEngineSocket] = this;
    if (registry !== undefined) {
      registry.add(socket);
      (socket as Carrier)[kRegistry] = registry;
    }
    socket.pause();
    // Frames are whole when written: Nagle would only delay them. Idle sockets are the heartbeat's business.
    socket.setNoDelay?.(true);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('drain', onDrain);
    socket.on('error', onError);
    socket.on('close', onClose);
    if (socket.destroyed && socket.closed) queueMicrotask(() => onClose.call(socket as Carrier));
  }

  /** The peer's address, looked up once (each `socket.remoteAddress` read is a getpeername call). */
  get remoteAddress(): string | undefined {
    return (this.#remoteAddress ??= this.#socket.remoteAddress ?? '') || undefined;
  }

  #remoteAddress: string | undefined = undefined;

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  write(chunk: Uint8Array): void {
    const socket = this.#socket;
    if (!socket.destroyed && !socket.writableEnded) socket.write(chunk);
  }

  writev(chunks: Uint8Array[]): void {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return;
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
  }

  end(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  pause(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#paused = false;
    if (!this.#held) this.#socket.resume();
  }

  hold(): void {
    this.#held = true;
    this.#socket.pause();
  }

  release(): void {
    this.#held = false;
    if (!this.#paused) this.#socket.resume();
  }
}
