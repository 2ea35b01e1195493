/**
 * `serve`: a standalone WebSocket server on `Bun.listen` (TCP, or TLS with `tls`). Bun's
 * part is the listener and its sockets; everything between accept and a connection is the
 * shared server engine's.
 * @module
 */
import { ListeningServer, ServerEngine, checkServeOptions, type ServerOptions, type WebSocketServerBase } from '@wsflow/engine';
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
  /**
   * Share the port with other processes listening on it with `reusePort` too (`SO_REUSEPORT`):
   * the kernel spreads incoming connections across them, so N worker processes serve one
   * port. Linux only (elsewhere the option is refused or has no load balancing). Default `false`.
   */
  reusePort?: boolean;
}

/** A listening WebSocket server: the same on every runtime, plus Bun's listener. */
export interface WebSocketServer extends WebSocketServerBase {
  /** The underlying `Bun.listen` listener. */
  readonly listener: BunListener;
  /** The address listened on. */
  readonly hostname: string;
}

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
  return new BunServer(checkServeOptions(options, bunAdapter.deflateEngine));
}

class BunServer extends ListeningServer implements WebSocketServer {
  readonly listener: BunListener;

  constructor(options: ServeOptions) {
    let engine: ServerEngine | undefined;
    const listener = bunRuntime().listen<BunSocketTransport>({
      hostname: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      tls: options.tls,
      ...(options.reusePort === true ? { reusePort: true } : {}),
      allowHalfOpen: true,
      socket: {
        ...transportHandlers,
        open: (socket) => engine!.accept(new BunSocketTransport(socket)),
      },
    });
    const host = listener.hostname.includes(':') ? `[${listener.hostname}]` : listener.hostname;
    const authority = `${host}:${listener.port}`;
    engine = new ServerEngine(options, bunAdapter, { secure: options.tls !== undefined, authority });
    super(engine, engine.urlFor(authority));
    this.listener = listener;
  }

  get hostname(): string {
    return this.listener.hostname;
  }

  get port(): number {
    return this.listener.port;
  }

  protected async stopListening(closed: Promise<void>): Promise<void> {
    this.listener.stop(false);
    await closed;
    // Sockets still lingering (refused, or answered by fetch) go too.
    this.listener.stop(true);
  }
}
