/**
 * Drives a codec {@link WebSocketConnection} from a Node socket's events: bytes go from
 * `data` events straight into the sans-I/O core, with no stream hop per frame.
 * @module
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketConnection, type ConnectionOptions } from '@wsflow/codec';
import { SocketTransport } from './socket_transport.ts';

/** A connection bound to its socket that does not read yet, so its user can set handlers first. */
export interface PendingConnection {
  readonly connection: WebSocketConnection;
  /** Feeds the bytes that arrived with the handshake, then reads the socket. Idempotent. */
  start(): void;
}

const EMPTY = new Uint8Array(0);

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
  const transport = new SocketTransport(socket);
  const connection = new WebSocketConnection(transport, options);
  let failure: Error | undefined;
  socket.on('error', (error) => {
    failure ??= error;
  });
  socket.once('close', () => connection.transportClosed(failure));
  socket.on('drain', () => connection.drain());
  if (socket.destroyed && socket.closed) queueMicrotask(() => connection.transportClosed(failure));

  let started = false;
  return {
    connection,
    start(): void {
      if (started) return;
      started = true;
      if (socket.destroyed) return;
      const first = initial;
      initial = EMPTY;
      if (first.length > 0) connection.receive(first);
      socket.on('data', (chunk: Uint8Array) => connection.receive(chunk));
      socket.on('end', () => connection.receiveEnd());
      if (!transport.paused) socket.resume();
    },
  };
}
