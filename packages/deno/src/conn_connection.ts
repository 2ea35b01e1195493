/**
 * Binds a `Deno.Conn` that finished the opening handshake to a codec
 * {@link WebSocketConnection}, read by a {@link ConnTransport}.
 * @module
 */
import { WebSocketConnection, type ConnectionOptions } from '@wsflow/codec';
import { ConnTransport } from './conn_transport.ts';

/** A connection bound to its conn that does not read yet, so its user can set handlers first. */
export interface PendingConnection {
  readonly connection: WebSocketConnection;
  /** Feeds the bytes that arrived with the handshake, then reads the conn. Idempotent. */
  start(): void;
}

const EMPTY = new Uint8Array(0);

/**
 * Turns off Nagle's algorithm on a TCP conn: frames are whole when written, so delaying
 * them would only add latency. (A TLS conn does not expose the option.)
 */
export function setNoDelay(conn: Deno.Conn): void {
  const tcp = conn as Partial<Deno.TcpConn>;
  try {
    tcp.setNoDelay?.(true);
  } catch {
    /* closed already: the read will tell */
  }
}

/**
 * Binds a conn past the opening handshake to a new connection. Reading starts with
 * {@link PendingConnection.start}, which first feeds `initial` (bytes that followed the
 * handshake head in the same read, never lost). `preface` (the server's 101 response) is
 * written first, so that anything the connection sends queues behind it.
 *
 * @example
 * ```ts
 * const { connection, start } = bindConn(conn, connectionOptions({}, 'server', ''), rest);
 * connection.onmessage = (data) => connection.send(data);
 * start();
 * ```
 */
export function bindConn(conn: Deno.Conn, options: ConnectionOptions, initial: Uint8Array = EMPTY, preface?: Uint8Array): PendingConnection {
  setNoDelay(conn);
  const transport = new ConnTransport(conn);
  if (preface !== undefined) transport.write(preface);
  const connection = new WebSocketConnection(transport, options);
  transport.attach(connection);
  return {
    connection,
    start: () => transport.start(initial),
  };
}
