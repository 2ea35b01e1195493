/**
 * `serve`: a WebSocket server on its own `Deno.listen` (or, with `tls`, `Deno.listenTls`)
 * listener. Deno's part is the listener, its accept loop and its conns; everything between
 * accept and a connection is the shared server engine's.
 * @module
 */
import { ServerEngine, checkServerOptions, type AcceptedConnection, type ServerOptions } from '@wsflow/engine';
import type { CloseOptions, WebSocketConnection } from '@wsflow/codec';
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
}

/** A listening WebSocket server. */
export interface WebSocketServer extends AsyncIterable<AcceptedConnection> {
  /** The underlying listener. */
  readonly listener: Deno.Listener;
  /** The address listened on. */
  readonly addr: Deno.NetAddr;
  /** The port listened on. */
  readonly port: number;
  /** The URL clients connect to, e.g. `ws://127.0.0.1:41234/`. */
  readonly url: string;
  /** The open connections. */
  readonly connections: ReadonlySet<WebSocketConnection>;
  /** Conns accepted whose handshake is under way (at most `maxPendingHandshakes`). */
  readonly pendingHandshakes: number;
  /**
   * Stops listening, drops handshakes under way, closes every connection gracefully
   * (default 1001) and resolves once all are closed (each within its `closeTimeout`).
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
  const checked = checkServerOptions('serve', options, LISTEN_OPTIONS, denoAdapter.deflateEngine);
  const { port = 0, host = '127.0.0.1', tls } = checked;
  if (tls !== undefined && (typeof tls.cert !== 'string' || typeof tls.key !== 'string')) throw new TypeError('serve: option "tls" needs a PEM "cert" and "key"');
  const listener: Deno.Listener =
    tls !== undefined ? Deno.listenTls({ port, hostname: host, cert: tls.cert, key: tls.key }) : Deno.listen({ port, hostname: host });
  return new DenoWebSocketServer(listener, checked, tls !== undefined);
}

class DenoWebSocketServer implements WebSocketServer {
  readonly listener: Deno.Listener;
  readonly addr: Deno.NetAddr;
  readonly url: string;
  readonly #engine: ServerEngine;
  #stopped = false;
  #closing: Promise<void> | null = null;

  constructor(listener: Deno.Listener, options: ServeOptions, secure: boolean) {
    this.listener = listener;
    this.addr = listener.addr as Deno.NetAddr;
    const hostname = this.addr.hostname.includes(':') ? `[${this.addr.hostname}]` : this.addr.hostname;
    const authority = `${hostname}:${this.addr.port}`;
    this.#engine = new ServerEngine(options, denoAdapter, { secure, authority });
    this.url = this.#engine.urlFor(authority);
    void this.#acceptLoop();
  }

  get port(): number {
    return this.addr.port;
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
    const closing = this.#engine.close(options); // throws first for a bad close code
    this.#stopped = true;
    try {
      this.listener.close();
    } catch {
      /* closed already */
    }
    this.#closing = closing;
    return closing;
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
