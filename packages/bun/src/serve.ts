/**
 * `serve`: a standalone WebSocket server on `Bun.listen` (TCP, or TLS with `tls`). Bun's
 * part is the listener and its sockets; everything between accept and a connection is the
 * shared server engine's.
 * @module
 */
import { ServerEngine, checkServerOptions, type AcceptedConnection, type ServerOptions } from '@wsflow/engine';
import type { CloseOptions, WebSocketConnection } from '@wsflow/codec';
import { bunRuntime, type BunListener, type BunTlsOptions } from './bun_types.ts';
import { bunAdapter } from './connection_settings.ts';
import { BunSocketTransport, transportHandlers } from './socket_transport.ts';

/** Options of {@link serve}: the shared {@link ServerOptions}, and where to listen. */
export interface ServeOptions extends ServerOptions {
  /** The TCP port; default 0, a free port chosen by the OS (read it from `port`). */
  port?: number;
  /** The address to listen on. Default `127.0.0.1` (loopback only: pass `0.0.0.0` or `::` to expose). */
  host?: string;
  /** TLS settings (`key`, `cert`, …) to serve `wss://`. Default: none, plain `ws://`. */
  tls?: BunTlsOptions;
}

/** A listening WebSocket server. */
export interface WebSocketServer extends AsyncIterable<AcceptedConnection> {
  /** The underlying `Bun.listen` listener. */
  readonly listener: BunListener;
  /** The address listened on. */
  readonly hostname: string;
  /** The port listened on. */
  readonly port: number;
  /** The URL clients connect to, e.g. `ws://127.0.0.1:41234/`. */
  readonly url: string;
  /** The open connections (handshake done, not yet closed). */
  readonly connections: ReadonlySet<WebSocketConnection>;
  /** Sockets accepted whose handshake is under way (at most `maxPendingHandshakes`). */
  readonly pendingHandshakes: number;
  /**
   * Stops listening, drops handshakes under way, closes every connection gracefully
   * (default 1001 Going Away) and resolves once all are closed (each within its `closeTimeout`).
   * @throws RangeError for a close code that may not be sent (before closing anything)
   */
  close(options?: CloseOptions): Promise<void>;
}

/** The options only `serve` has, beside the shared server options. */
const LISTEN_OPTIONS = ['port', 'host', 'tls'];

/**
 * Starts a WebSocket server and resolves once it listens. Accepted connections go to
 * `handler`, or to whoever iterates the server; plain HTTP requests to `fetch` (default
 * 426). The handshake timeout covers reading the request head, the `authorize` hook and
 * the 101.
 *
 * @throws TypeError naming an unknown or invalid option; RangeError for an out-of-range one
 * @example
 * ```ts
 * const server = await serve({
 *   port: 8080,
 *   handler: (conn) => {
 *     conn.onmessage = (data) => conn.send(data);
 *   },
 *   fetch: () => new Response('try a WebSocket client\n'),
 * });
 * console.log(`listening on ${server.url}`);
 * await server.close();
 * ```
 */
// deno-lint-ignore require-await
export async function serve(options: ServeOptions = {}): Promise<WebSocketServer> {
  const checked = checkServerOptions('serve', options, LISTEN_OPTIONS, bunAdapter.deflateEngine);
  return new ListeningServer(checked);
}

class ListeningServer implements WebSocketServer {
  readonly listener: BunListener;
  readonly url: string;
  readonly #engine: ServerEngine;
  #closing: Promise<void> | null = null;

  constructor(options: ServeOptions) {
    let engine: ServerEngine | undefined;
    this.listener = bunRuntime().listen<BunSocketTransport>({
      hostname: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      tls: options.tls,
      allowHalfOpen: true,
      socket: {
        ...transportHandlers,
        open: (socket) => engine!.accept(new BunSocketTransport(socket)),
      },
    });
    const host = this.listener.hostname.includes(':') ? `[${this.listener.hostname}]` : this.listener.hostname;
    const authority = `${host}:${this.listener.port}`;
    this.#engine = engine = new ServerEngine(options, bunAdapter, { secure: options.tls !== undefined, authority });
    this.url = engine.urlFor(authority);
  }

  get hostname(): string {
    return this.listener.hostname;
  }

  get port(): number {
    return this.listener.port;
  }

  get connections(): ReadonlySet<WebSocketConnection> {
    return this.#engine.connections;
  }

  get pendingHandshakes(): number {
    return this.#engine.pendingHandshakes;
  }

  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection> {
    return this.#engine[Symbol.asyncIterator]();
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const closed = this.#engine.close(options); // throws first for a bad close code
    this.listener.stop(false);
    const closing = closed.then(() => {
      // Sockets still lingering (refused, or answered by fetch) go too.
      this.listener.stop(true);
    });
    this.#closing = closing;
    return closing;
  }
}
