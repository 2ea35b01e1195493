/**
 * Binds a WebSocket connection to a socket whose head was read, without reading yet: the
 * user sets handlers (or takes `readable`) first, then `start()` feeds what arrived early
 * and lets bytes flow.
 * @module
 */
import { WebSocketConnection, type ByteTransport, type ConnectionOptions } from '@wsflow/codec';
import type { EngineSocket } from './engine_socket.ts';
import type { HeadLeftovers } from './head_reader.ts';

/** A connection bound to its socket that does not read yet. */
export interface PendingConnection<C extends WebSocketConnection = WebSocketConnection> {
  readonly connection: C;
  /** Feeds what arrived after the head and starts reading; idempotent. */
  start(): void;
}

/** Tells `connection` its transport closed, in a microtask. */
function closeLater(connection: WebSocketConnection, error: unknown): void {
  queueMicrotask(() => connection.transportClosed(error));
}

/**
 * Makes the connection of a socket whose head `reader` read (the 101 or its request is
 * written already, or queued before anything the connection writes), with `make` (a
 * server's makes its {@link ServerConnection}s; default: a plain `WebSocketConnection`).
 * @example
 * ```ts
 * const pending = bindConnection(socket, options, reader);
 * pending.connection.onmessage = (data) => pending.connection.send(data);
 * pending.start();
 * ```
 */
export function bindConnection<C extends WebSocketConnection = WebSocketConnection>(
  socket: EngineSocket,
  options: ConnectionOptions,
  reader: HeadLeftovers,
  make: (transport: ByteTransport, options: ConnectionOptions) => C = (transport, o) => new WebSocketConnection(transport, o) as C,
): PendingConnection<C> {
  const connection = make(socket, options);
  const buffered = reader.takeBuffered();
  let peerEnded = reader.ended;
  socket.receiver = {
    receive: (chunk) => void buffered.push(chunk),
    receiveEnd: () => {
      peerEnded = true;
    },
    transportClosed: (error) => connection.transportClosed(error),
    drain: () => connection.drain(),
  };
  // Read off the reader now: no closure here may hold it (or the handshake it read) for
  // the connection's life.
  if (reader.closed) closeLater(connection, reader.closeError);

  let started = false;
  return {
    connection,
    start(): void {
      if (started) return;
      started = true;
      if (socket.closed) return;
      socket.receiver = connection;
      try {
        for (const chunk of buffered.splice(0)) connection.receive(chunk);
        if (peerEnded) connection.receiveEnd();
      } finally {
        socket.release();
      }
    },
  };
}
