/**
 * `serve`: a WebSocket server on its own `Deno.listen` (or, with `cert` and `key`,
 * `Deno.listenTls`) listener, reading each request head itself with the codec's parser.
 * Requests that are not WebSocket upgrades get 426, or go to a fetch-style `fallback`.
 * @module
 */
import {
  CloseCode,
  HandshakeDeadline,
  HandshakeError,
  HandshakeSlots,
  UPGRADE_REQUIRED,
  dropCode,
  isWebSocketUpgrade,
  serializeClosePayload,
  targetPath,
  checkBufferedAmountLimit,
  checkMaxPendingHandshakes,
  type CloseOptions,
  type PendingHandshakeSettings,
  type RequestHead,
  type WebSocketConnection,
} from '@wsflow/codec';
import { AcceptedQueue, type AcceptedConnection, type ConnectionHandler } from './accepted_queue.ts';
import { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT } from './connection_settings.ts';
import { denoTimers, unrefTimeout } from './deno_timers.ts';
import { rejectConn } from './http_answer.ts';
import { answerPlainRequest, DEFAULT_MAX_BODY_SIZE, type FetchFallback } from './http_fallback.ts';
import { HeadIncompleteError, readHead } from './read_head.ts';
import { requestOfHead } from './request_of.ts';
import { upgradeConn } from './server_upgrade.ts';
import type { RejectionInfo, UpgradeOptions } from './upgrade_options.ts';

/** Options of {@link serve}. */
export interface ServeOptions extends UpgradeOptions, PendingHandshakeSettings {
  /** The TCP port; default 0, a free port chosen by the OS (read it from `port`). */
  port?: number;
  /** The address to listen on. Default `127.0.0.1` (loopback only: pass `0.0.0.0` or `::` to expose). */
  host?: string;
  /** The certificate chain (PEM) to serve `wss://` with `Deno.listenTls`; needs `key`. */
  cert?: string;
  /** The certificate's private key (PEM); needs `cert`. */
  key?: string;
  /** Called with each accepted connection. Without it, iterate the server. */
  handler?: ConnectionHandler;
  /**
   * Answers requests that are not WebSocket upgrades (and upgrades for another `path`),
   * like a `Deno.serve` handler: one request per conn, its body (with `Content-Length`, at
   * most `maxBodySize`) read first, the `Response` buffered and sent with `Content-Length`
   * and `Connection: close`, all within `handshakeTimeout`. Default: answer 426.
   */
  fallback?: FetchFallback;
  /** The largest request body read for `fallback`, in bytes (413 above). Default 1 MiB. */
  maxBodySize?: number;
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

/**
 * Starts a WebSocket server and resolves once it listens. Accepted connections go to
 * `handler`, or to whoever iterates the server. The handshake timeout covers reading the
 * request head, the `authorize` hook and the 101.
 *
 * @throws whatever `Deno.listen`/`Deno.listenTls` throws (`AddrInUse`, `NotCapable` without `--allow-net`)
 * @throws RangeError for an invalid `handshakeTimeout`, `maxPendingHandshakes`,
 *   `maxBufferedAmount` or `bufferedAmountPolicy`; TypeError for `cert` without `key` or the reverse
 * @example
 * ```ts
 * const server = await serve({
 *   port: 8080,
 *   handler: (conn) => {
 *     conn.onmessage = (data) => conn.send(data);
 *   },
 *   fallback: () => new Response('try a WebSocket client\n'),
 * });
 * console.log(`listening on ${server.url}`);
 * // or: for await (const { connection, request } of server) { … }
 * await server.close();
 * ```
 */
// deno-lint-ignore require-await
export async function serve(options: ServeOptions = {}): Promise<WebSocketServer> {
  const { port = 0, host = '127.0.0.1', cert, key } = options;
  checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  checkMaxPendingHandshakes(options.maxPendingHandshakes);
  checkBufferedAmountLimit(options);
  if ((cert === undefined) !== (key === undefined)) throw new TypeError('cert and key go together');
  const listener: Deno.Listener =
    cert !== undefined && key !== undefined ? Deno.listenTls({ port, hostname: host, cert, key }) : Deno.listen({ port, hostname: host });
  return new DenoWebSocketServer(listener, { ...options }, cert !== undefined);
}

class DenoWebSocketServer implements WebSocketServer {
  readonly listener: Deno.Listener;
  readonly addr: Deno.NetAddr;
  readonly url: string;
  readonly #options: ServeOptions;
  readonly #secure: boolean;
  readonly #timeout: number;
  readonly #queue: AcceptedQueue;
  /** Conns from accept until their 101 (or answer, or drop), oldest first, under `maxPendingHandshakes`. */
  readonly #pending: HandshakeSlots;
  /** Aborted (with `'SHUTTING_DOWN'`) by close(): every handshake's deadline follows it. */
  readonly #shutdown = new AbortController();
  #closing: Promise<void> | null = null;

  constructor(listener: Deno.Listener, options: ServeOptions, secure: boolean) {
    this.listener = listener;
    this.addr = listener.addr as Deno.NetAddr;
    this.#options = options;
    this.#secure = secure;
    this.#timeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
    this.#queue = new AcceptedQueue(options.handler);
    this.#pending = new HandshakeSlots(checkMaxPendingHandshakes(options.maxPendingHandshakes));
    const hostname = this.addr.hostname.includes(':') ? `[${this.addr.hostname}]` : this.addr.hostname;
    this.url = `${secure ? 'wss' : 'ws'}://${hostname}:${this.addr.port}${options.path ?? '/'}`;
    void this.#acceptLoop();
  }

  get port(): number {
    return this.addr.port;
  }

  get connections(): ReadonlySet<WebSocketConnection> {
    return this.#queue.connections;
  }

  get pendingHandshakes(): number {
    return this.#pending.size;
  }

  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection> {
    return this.#queue[Symbol.asyncIterator]();
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const closeCode = options.closeCode ?? CloseCode.GoingAway;
    const reason = options.reason ?? '';
    serializeClosePayload(closeCode, reason); // throws before anything was closed
    try {
      this.listener.close();
    } catch {
      /* closed already */
    }
    this.#shutdown.abort('SHUTTING_DOWN');
    this.#queue.end();
    const open = [...this.#queue.connections];
    for (const connection of open) connection.close({ closeCode, reason });
    this.#closing = Promise.all(open.map((connection) => connection.closed)).then(() => undefined);
    return this.#closing;
  }

  async #acceptLoop(): Promise<void> {
    let failures = 0;
    while (!this.#shutdown.signal.aborted) {
      let conn: Deno.Conn;
      try {
        conn = await this.listener.accept();
        failures = 0;
      } catch (error) {
        if (this.#shutdown.signal.aborted || error instanceof Deno.errors.BadResource) return;
        // A transient failure (out of file descriptors): back off, then try again.
        await new Promise((resolve) => unrefTimeout(() => resolve(undefined), Math.min(1000, 10 * 2 ** failures++)));
        continue;
      }
      void this.#handle(conn);
    }
  }

  #reject(info: RejectionInfo): void {
    this.#options.onReject?.(info);
  }

  /** One conn from accept to an open connection, an HTTP answer, or a drop. Never rejects. */
  async #handle(conn: Deno.Conn): Promise<void> {
    const shutdown = this.#shutdown.signal;
    if (shutdown.aborted) {
      conn.close();
      return;
    }
    const options = this.#options;
    // Reading the head, the hook and the 101 all race one deadline; dropping closes the conn.
    const deadline = HandshakeDeadline.forServer(this.#timeout, denoTimers, shutdown);
    const signal = deadline.signal;
    // Counted until the handshake is decided; past the cap the oldest pending one is dropped.
    const slot = this.#pending.admit(() => deadline.stop('EVICTED'));
    const onAbort = (): void => {
      try {
        conn.close();
      } catch {
        /* closed already */
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let head: RequestHead;
      let rest: Uint8Array;
      try {
        ({ head, rest } = await readHead(conn, 'request', { maxHeadSize: options.maxHeadSize }));
      } catch (error) {
        if (error instanceof HandshakeError && !signal.aborted) {
          this.#reject({ status: error.status, code: error.code, error, request: undefined });
          await rejectConn(conn, error.status, undefined, error.message);
          return;
        }
        onAbort();
        // A conn that closes without sending anything (a port probe) is not a refused upgrade.
        if (signal.aborted || !(error instanceof HeadIncompleteError) || error.bytesReceived > 0) {
          this.#reject({ status: 0, code: signal.aborted ? dropCode(signal) : 'SOCKET_CLOSED', error, request: undefined });
        }
        return;
      }

      const upgrade = isWebSocketUpgrade(head);
      const pathMatches = options.path === undefined || targetPath(head.target) === options.path;
      const fallback = options.fallback;
      if (fallback !== undefined && (!upgrade || !pathMatches)) {
        const status = await answerPlainRequest(conn, head, rest, fallback, {
          secure: this.#secure,
          remoteAddr: conn.remoteAddr,
          maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
        });
        if (status === 0 && signal.aborted) this.#reject({ status: 0, code: dropCode(signal), request: undefined });
        return;
      }

      let request: Request;
      try {
        request = requestOfHead(head, this.#secure ? 'https:' : 'http:');
      } catch (error) {
        const status = error instanceof HandshakeError ? error.status : 400;
        this.#reject({ status, code: error instanceof HandshakeError ? error.code : 'MALFORMED_HEAD', error, request: undefined });
        await rejectConn(conn, status, undefined, error instanceof Error ? error.message : undefined);
        return;
      }
      if (!upgrade) {
        this.#reject({ status: UPGRADE_REQUIRED.status, code: 'NOT_UPGRADE', request });
        await rejectConn(conn, UPGRADE_REQUIRED.status, UPGRADE_REQUIRED.headers, UPGRADE_REQUIRED.body);
        return;
      }
      const accepted = await upgradeConn(conn, head, rest, request, options, {
        secure: this.#secure,
        remoteAddr: conn.remoteAddr,
        signal,
      });
      signal.removeEventListener('abort', onAbort);
      if (accepted !== null) this.#queue.deliver(accepted.pending, accepted.request);
    } finally {
      slot.release();
      deadline.dispose();
      signal.removeEventListener('abort', onAbort);
    }
  }
}
