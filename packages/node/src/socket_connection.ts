/**
 * Drives a codec {@link WebSocketConnection} from a Node socket's events: bytes go from
 * `data` events straight into the sans-I/O core, with no stream hop per frame.
 *
 * The socket's listeners are shared by every connection (module-level functions that find
 * the connection through a symbol property on the socket), so an open connection costs
 * no closures: idle servers hold many of them.
 * @module
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketConnection, type ConnectionOptions } from '@wsflow/codec';
import { SocketTransport } from './socket_transport.ts';

/** A connection bound to its socket that does not read yet, so its user can set handlers first. */
export interface PendingConnection {
  readonly connection: WebSocketConnection;
  /** Keeps the connection in `registry` until it closes, without a promise per connection. */
  track(registry: Set<WebSocketConnection>): void;
  /** Feeds the bytes that arrived with the handshake, then reads the socket. Idempotent. */
  start(): void;
}

const EMPTY = new Uint8Array(0);

/** Where a bound socket keeps its binding. */
const kBinding = Symbol('wsflow.binding');

interface BoundSocket extends Duplex {
  [kBinding]?: SocketBinding;
}

/**
 * The codec's buffers (split payloads gathered, frames written) are written whole before
 * use: no need to zero-fill them. Small ones come from Node's pool, and a Buffer goes to
 * the socket as is (a plain `Uint8Array` would be converted on every write).
 */
const allocate = (size: number): Uint8Array => Buffer.allocUnsafe(size);

/** The transport of one bound socket, with what its shared listeners need. */
class SocketBinding extends SocketTransport {
  connection!: WebSocketConnection;
  /** The first error the socket reported, passed on when it closes. */
  failure: Error | undefined = undefined;
  /** A set of open connections (an endpoint's) this one leaves once closed. */
  registry: Set<WebSocketConnection> | null = null;

  /** The socket is closed: settle the connection and leave the registry. Idempotent. */
  closed(): void {
    this.connection.transportClosed(this.failure);
    this.#leave();
  }

  override destroy(): void {
    super.destroy();
    // The connection aborts: it settles `closed` right after this returns. Leave the registry
    // after that (where a `closed.then` would have), not before its `onclose` runs.
    if (this.registry !== null) queueMicrotask(() => this.#leave());
  }

  #leave(): void {
    const registry = this.registry;
    if (registry === null) return;
    this.registry = null;
    registry.delete(this.connection);
  }
}

function onError(this: BoundSocket, error: Error): void {
  const binding = this[kBinding];
  if (binding !== undefined) binding.failure ??= error;
}

function onClose(this: BoundSocket): void {
  this[kBinding]?.closed();
}

function onDrain(this: BoundSocket): void {
  this[kBinding]?.connection.drain();
}

function onData(this: BoundSocket, chunk: Uint8Array): void {
  this[kBinding]!.connection.receive(chunk);
}

function onEnd(this: BoundSocket): void {
  this[kBinding]?.connection.receiveEnd();
}

/**
 * Binds a socket that finished the opening handshake to a new connection. Closing and
 * errors are watched at once; reading starts with {@link PendingConnection.start}, which
 * first feeds `initial` (bytes that followed the handshake head in the same read, never lost).
 *
 * @example
 * ```ts
 * const { connection, start } = bindSocket(socket, { role: 'server', timers: nodeTimers }, head);
 * connection.onmessage = (data) => connection.send(data);
 * start();
 * ```
 */
export function bindSocket(socket: Duplex, options: ConnectionOptions, head: Uint8Array = EMPTY): PendingConnection {
  // Held only until start(): the upgrade's head buffer pins the whole request otherwise.
  let initial: Uint8Array = head;
  // Frames are whole when written: Nagle would only delay them. Idle sockets are the heartbeat's business.
  (socket as Partial<Socket>).setNoDelay?.(true);
  (socket as Partial<Socket>).setTimeout?.(0);
  const binding = new SocketBinding(socket);
  const connection = new WebSocketConnection(binding, options.allocate === undefined ? { ...options, allocate } : options);
  binding.connection = connection;
  const bound = socket as BoundSocket;
  bound[kBinding] = binding;
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.on('drain', onDrain);
  if (socket.destroyed && socket.closed) queueMicrotask(() => binding.closed());

  let started = false;
  return {
    connection,
    track: (registry) => trackConnection(socket, connection, registry),
    start(): void {
      if (started) return;
      started = true;
      if (socket.destroyed) return;
      const first = initial;
      initial = EMPTY;
      if (first.length > 0) connection.receive(first);
      socket.on('data', onData);
      socket.on('end', onEnd);
      if (!binding.paused) socket.resume();
    },
  };
}

/**
 * Keeps `connection` in `registry` until it closes, like
 * `registry.add(connection); connection.closed.then(() => registry.delete(connection))`
 * without a promise and a closure per connection.
 * @internal for endpoints; not exported from the package
 */
export function trackConnection(socket: Duplex, connection: WebSocketConnection, registry: Set<WebSocketConnection>): void {
  registry.add(connection);
  const binding = (socket as BoundSocket)[kBinding];
  if (binding !== undefined && binding.connection === connection && connection.state !== 'closed') {
    binding.registry = registry;
    return;
  }
  void connection.closed.then(() => registry.delete(connection));
}
