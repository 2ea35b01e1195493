/**
 * A connection bound to its socket that does not read yet, so that its owner can set
 * handlers first, and the hand-over from a handshake's {@link HeadReader} to it.
 * @module
 */
import { WebSocketConnection, type ConnectionOptions } from '@wsflow/codec';
import type { HeadReader } from './head_reader.ts';
import type { BunSocketTransport } from './socket_transport.ts';

/** A connection bound to its socket that does not read yet. */
export interface PendingConnection {
  readonly connection: WebSocketConnection;
  /** Feeds the bytes that arrived with the handshake, then reads the socket. Idempotent. */
  start(): void;
}

/**
 * Binds a transport whose opening handshake `reader` just read to a new connection. The
 * socket's closing and drains reach the connection at once; bytes (those that followed the
 * handshake head, and any arriving meanwhile) wait for {@link PendingConnection.start},
 * which feeds them in order and then reads on.
 *
 * @example
 * ```ts
 * const { connection, start } = bindConnection(transport, connectionOptions(settings, 'client', protocol), reader);
 * connection.onmessage = (data) => console.log(data);
 * start();
 * ```
 */
export function bindConnection(transport: BunSocketTransport, options: ConnectionOptions, reader: HeadReader<'request' | 'response'>): PendingConnection {
  const connection = new WebSocketConnection(transport, options);
  const buffered = reader.takeBuffered();
  let peerEnded = reader.ended;
  transport.receiver = {
    receive: (chunk) => void buffered.push(chunk),
    receiveEnd: () => {
      peerEnded = true;
    },
    transportClosed: (error) => connection.transportClosed(error),
    drain: () => connection.drain(),
  };
  if (reader.closed) queueMicrotask(() => connection.transportClosed(reader.closeError));

  let started = false;
  return {
    connection,
    start(): void {
      if (started) return;
      started = true;
      if (transport.closed) return;
      transport.receiver = connection;
      try {
        for (const chunk of buffered.splice(0)) connection.receive(chunk);
        if (peerEnded) connection.receiveEnd();
      } finally {
        transport.release();
      }
    },
  };
}
