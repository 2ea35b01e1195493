/**
 * `serve`: a WebSocket server on its own `Deno.listen` (or, with `tls`, `Deno.listenTls`)
 * listener. Deno's part is the listener, its accept loop and its conns; everything between
 * accept and a connection is the shared server engine's.
 * @module
 */
import { ListeningServer, ServerEngine, checkServeOptions, type ServerOptions, type WebSocketServerBase } from '@wsflow/engine';
import { setNoDelay } from './conn_settings.ts';
import { ConnTransport } from './conn_transport.ts';
import { denoAdapter } from './connection_settings.ts';
import { unrefTimeout } from './deno_timers.ts';

/** The certificate and key to serve `wss://` with. */
export interface DenoTlsOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The certificate's private key, PEM. */
  key: string;
}

/** Options of {@link serve}: the shared {@link ServerOptions}, and where to listen. */
export interface ServeOptions extends ServerOptions {
  /** The TCP port; default 0, a free port chosen by the OS (read it from `port`). */
  port?: number;
  /** The address to listen on. Default `127.0.0.1` (loopback only: pass `0.0.0.0` or `::` to expose). */
  host?: string;
  /** The certificate and key (PEM) to serve `wss://` with `Deno.listenTls`. Default: plain `ws://`. */
  tls?: DenoTlsOptions;
  /**
   * Share the port with other processes listening on it with `reusePort` too (`SO_REUSEPORT`):
   * the kernel spreads incoming connections across them, so N worker processes serve one
   * port. Linux only; in Deno 2.9 it needs the `--unstable-net` flag (plain and TLS listeners alike). Default `false`.
   */
  reusePort?: boolean;
}

/** A listening WebSocket server: the same on every runtime, plus Deno's listener. */
export interface WebSocketServer extends WebSocketServerBase {
  /** The underlying listener. */
  readonly listener: Deno.Listener;
  /** The address listened on. */
  readonly addr: Deno.NetAddr;
}

/**
 * Starts a WebSocket server and resolves once it listens. Accepted connections go to
 * `handler`, or to whoever iterates the server; plain HTTP requests to `fetch` (default
 * 426). The handshake timeout covers reading the request head, the `authorize` hook and
 * the 101.
 *
 * @throws whatever `Deno.listen`/`Deno.listenTls` throws (`AddrInUse`, `NotCapable` without `--allow-net`)
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
  const checked = checkServeOptions(options, denoAdapter.deflateEngine);
  const { port = 0, host = '127.0.0.1', tls, reusePort } = checked;
  if (reusePort === true) {
    // Deno ignores SO_REUSEPORT off Linux (the second listener would fail with AddrInUse),
    // and gates it behind --unstable-net (Deno.listenDatagram exists only with that flag).
    if (Deno.build.os !== 'linux') throw new TypeError(`serve: option "reusePort" is supported by Deno on Linux only (this is ${Deno.build.os})`);
    if (typeof (Deno as unknown as { listenDatagram?: unknown }).listenDatagram !== 'function') {
      throw new TypeError('serve: option "reusePort" needs Deno\'s --unstable-net flag');
    }
  }
  const reuse = reusePort === true ? { reusePort: true } : {};
  if (tls !== undefined && (typeof tls.cert !== 'string' || typeof tls.key !== 'string')) throw new TypeError('serve: option "tls" needs a PEM "cert" and "key"');
  const listener: Deno.Listener =
    tls !== undefined ? Deno.listenTls({ port, hostname: host, cert: tls.cert, key: tls.key, ...reuse })
      : Deno.listen({ port, hostname: host, ...reuse });
  return new DenoWebSocketServer(listener, checked, tls !== undefined);
}

class DenoWebSocketServer extends ListeningServer implements WebSocketServer {
  readonly listener: Deno.Listener;
  readonly addr: Deno.NetAddr;
  readonly #engine: ServerEngine;
  #stopped = false;

  constructor(listener: Deno.Listener, options: ServeOptions, secure: boolean) {
    const addr = listener.addr as Deno.NetAddr;
    const hostname = addr.hostname.includes(':') ? `[${addr.hostname}]` : addr.hostname;
    const authority = `${hostname}:${addr.port}`;
    const engine = new ServerEngine(options, denoAdapter, { secure, authority });
    super(engine, engine.urlFor(authority));
    this.listener = listener;
    this.addr = addr;
    this.#engine = engine;
    void this.#acceptLoop();
  }

  get port(): number {
    return this.addr.port;
  }

  protected stopListening(closed: Promise<void>): Promise<void> {
    this.#stopped = true;
    try {
      this.listener.close();
    } catch {
      /* closed already */
    }
    return closed;
  }

  async #acceptLoop(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      let conn: Deno.Conn;
      try {
        conn = await this.listener.accept();
        failures = 0;
      } catch (error) {
        if (this.#stopped || error instanceof Deno.errors.BadResource) return;
        // A transient failure (out of file descriptors): back off, then try again.
        await new Promise((resolve) => unrefTimeout(() => resolve(undefined), Math.min(1000, 10 * 2 ** failures++)));
        continue;
      }
      setNoDelay(conn);
      // The engine starts reading once it has set its receiver.
      this.#engine.accept(new ConnTransport(conn));
    }
  }
}
