/**
 * `handleUpgrade`: the server handshake for one request, for any `node:http`/`node:https`
 * server's `upgrade` event (Express, Fastify, Hono's node server, …), on the shared server
 * engine.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketConnection } from '@wsflow/codec';
import { checkServerOptions, type ServerEngine, type ServerOptions } from '@wsflow/engine';
import { nodeAdapter } from './connection_settings.ts';
import { engineSocketOf, headOfRequest, listenerOf, upgradeEngine } from './node_upgrade.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

/** Receives an accepted connection. Set its handlers (or take its `readable`) synchronously. */
export type ConnectionCallback = (connection: WebSocketConnection, request: IncomingMessage) => void;

/** One engine per options object, so that calls with the same options share slots and checks. */
const engines = new WeakMap<UpgradeOptions, ServerEngine<IncomingMessage>>();

/** The options `handleUpgrade` has no use for: the handler is its callback, node:http reads plain requests. */
const NOT_FOR_HANDLE_UPGRADE = ['handler', 'fetch', 'maxBodySize', 'maxHeadSize', 'onError', 'maxPendingHandshakes', 'backplane', 'publishBackpressure'];

function engineFor(options: UpgradeOptions): ServerEngine<IncomingMessage> {
  let engine = engines.get(options);
  if (engine === undefined) {
    const checked = checkServerOptions('handleUpgrade', options, [], nodeAdapter.deflateEngine, NOT_FOR_HANDLE_UPGRADE);
    engine = upgradeEngine(checked as ServerOptions<IncomingMessage>, 'handleUpgrade');
    engines.set(options, engine);
  }
  return engine;
}

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
 * @throws TypeError (rejects) naming an unknown or invalid option
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
  const engine = engineFor(options);
  const engineSocket = engineSocketOf(socket);
  if (engineSocket === null) return null;
  // A throwing callback rejects this call (the connection still starts), as before the engine.
  let failure: { error: unknown } | undefined;
  const connection = await engine.upgrade(engineSocket, headOfRequest(request), head, request, listenerOf(socket), (pending, accepted) => {
    if (callback === undefined) {
      setImmediate(pending.start);
      return;
    }
    try {
      callback(pending.connection, accepted);
    } catch (error) {
      failure = { error };
    } finally {
      pending.start();
    }
  });
  if (failure !== undefined) throw failure.error;
  return connection;
}
