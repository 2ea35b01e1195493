/**
 * `handleUpgrade`: the server handshake for one request, for any `node:http`/`node:https`
 * server's `upgrade` event (Express, Fastify, Hono's node server, …).
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketConnection } from '@wsflow/codec';
import { upgradeSocket } from './server_upgrade.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

/** Receives an accepted connection. Set its handlers (or take its `readable`) synchronously. */
export type ConnectionCallback = (connection: WebSocketConnection, request: IncomingMessage) => void;

/**
 * Completes (or refuses) the WebSocket handshake of a request from a server's `upgrade`
 * event. `head` (bytes that followed the request head) is fed to the connection first.
 * A refused request gets its HTTP error response (400, 403, 426, the hook's status, …) and
 * the socket is ended; a request for another `path` is refused with 400.
 *
 * With a `callback`, the connection starts reading right after the callback returns;
 * without one it starts on the next macrotask, so handlers set after `await` in the same
 * task see every message.
 *
 * @returns the connection, or `null` when the handshake was refused or the socket dropped.
 * @example
 * ```ts
 * const server = http.createServer(app);
 * server.on('upgrade', (req, socket, head) => {
 *   if (new URL(req.url!, 'http://x').pathname !== '/ws') return;
 *   void handleUpgrade(req, socket, head, { path: '/ws' }, (conn) => {
 *     conn.onmessage = (data) => conn.send(data);
 *   });
 * });
 * ```
 */
export async function handleUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  options: UpgradeOptions = {},
  callback?: ConnectionCallback,
): Promise<WebSocketConnection | null> {
  const pending = await upgradeSocket(request, socket, head, options);
  if (pending === null) return null;
  if (callback === undefined) {
    setImmediate(pending.start);
    return pending.connection;
  }
  try {
    callback(pending.connection, request);
  } finally {
    pending.start();
  }
  return pending.connection;
}
