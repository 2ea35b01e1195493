/**
 * `attach`: WebSocket endpoints on an existing `node:http`/`node:https` server, next to
 * whatever else it serves.
 * @module
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { CloseOptions } from '@wsflow/codec';
import { WebSocketEndpoint, type EndpointOptions } from './endpoint.ts';
import { refuseUpgrade } from './node_upgrade.ts';

/** A server WebSocket endpoints can be attached to. */
export type UpgradableServer = HttpServer | HttpsServer;

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** One `upgrade` listener per server, dispatching to its endpoints by path. */
class Dispatcher {
  readonly endpoints: AttachedEndpoint[] = [];
  readonly listener: UpgradeListener;

  constructor(server: UpgradableServer) {
    this.listener = (request, socket, head) => {
      const endpoint = this.endpoints.find((candidate) => candidate.matches(request));
      if (endpoint !== undefined) {
        void endpoint.handleUpgrade(request, socket, head);
        return;
      }
      // Another listener may own this path; if there is none, do not leave the client hanging.
      if (server.listenerCount('upgrade') > 1) return;
      refuseUpgrade(socket, 400, 'No WebSocket endpoint at this path');
    };
  }
}

const dispatchers = new WeakMap<UpgradableServer, Dispatcher>();

/**
 * A {@link WebSocketEndpoint} attached to a server; closing it detaches it too.
 *
 * @example
 * ```ts
 * const endpoint = new AttachedEndpoint(server, { path: '/live' }); // same as attach(server, …)
 * for await (const { connection } of endpoint) connection.send('welcome');
 * ```
 */
export class AttachedEndpoint extends WebSocketEndpoint {
  /** The server it is attached to. */
  readonly server: UpgradableServer;

  constructor(server: UpgradableServer, options: EndpointOptions = {}, where = 'attach', extra: readonly string[] = [], without?: readonly string[]) {
    super(options, where, extra, without);
    this.server = server;
    let dispatcher = dispatchers.get(server);
    if (dispatcher === undefined) {
      dispatcher = new Dispatcher(server);
      dispatchers.set(server, dispatcher);
      server.on('upgrade', dispatcher.listener);
    }
    const path = options.path;
    if (dispatcher.endpoints.some((other) => other.options.path === path)) {
      throw new Error(path === undefined ? 'An endpoint for every path is already attached' : `An endpoint for ${path} is already attached`);
    }
    // Exact paths first, so a catch-all endpoint only gets what no other one claims.
    if (path === undefined) dispatcher.endpoints.push(this);
    else dispatcher.endpoints.unshift(this);
  }

  /** Stops taking upgrades from the server (open connections stay open). Idempotent. */
  detach(): void {
    const dispatcher = dispatchers.get(this.server);
    if (dispatcher === undefined) return;
    const at = dispatcher.endpoints.indexOf(this);
    if (at >= 0) dispatcher.endpoints.splice(at, 1);
    if (dispatcher.endpoints.length === 0) {
      this.server.off('upgrade', dispatcher.listener);
      dispatchers.delete(this.server);
    }
  }

  /** Detaches, then closes every connection gracefully (see {@link WebSocketEndpoint.close}). */
  override close(options?: CloseOptions): Promise<void> {
    this.detach();
    return super.close(options);
  }
}

/**
 * Serves WebSocket upgrades on an existing `node:http` or `node:https` server (so on
 * Express, Fastify or Hono's node server: pass the underlying `http.Server`). Requests for
 * another `path` are left to the server's other `upgrade` listeners, or refused with 400
 * when there are none. Several endpoints (different paths) may share a server.
 *
 * @example
 * ```ts
 * const server = http.createServer(app).listen(8080);
 * const ws = attach(server, {
 *   path: '/ws',
 *   handler: (conn, req) => {
 *     conn.onmessage = (data) => conn.send(data);
 *   },
 * });
 * // later
 * await ws.close(); // 1001 to every client, then detached
 * ```
 */
export function attach(server: UpgradableServer, options: EndpointOptions = {}): AttachedEndpoint {
  return new AttachedEndpoint(server, options);
}
