/**
 * `connect`: the client side of a WebSocket over `Deno.connect`/`Deno.connectTls`,
 * directly or through an HTTP proxy tunnel. The 101 head is read off the raw conn with the
 * codec's parser; the bytes after it go to the connection first.
 * @module
 */
import { buildClientRequest, clientDeflateOffers, clientNegotiatedExtensions, resolveDeflate, HandshakeDeadline, parseProxyUrl, validateServerResponse, type HeaderFieldsInit, type WebSocketConnection } from '@wsflow/codec';
import { bindConn, type PendingConnection } from './conn_connection.ts';
import { checkTimeout, connectionOptions, DEFAULT_HANDSHAKE_TIMEOUT, defaultDeflateEngine, type ConnectionSettings } from './connection_settings.ts';
import { denoTimers } from './deno_timers.ts';
import { writeAll } from './write_all.ts';
import { proxyFromEnvironment } from './proxy_env.ts';
import { openTunnel } from './proxy_tunnel.ts';
import { readHead } from './read_head.ts';

/**
 * Options of {@link connect}: those of `@wsflow/node`'s `connect`, with Deno's TLS settings
 * (PEM strings) in place of Node's.
 *
 * @example
 * ```ts
 * const options: ConnectOptions = {
 *   protocols: ['chat.v2', 'chat.v1'],
 *   headers: { Authorization: `Bearer ${token}` },
 *   caCerts: [await Deno.readTextFile('ca.pem')],
 *   proxy: 'http://user:secret@proxy.internal:3128',
 *   handshakeTimeout: 5000,
 * };
 * ```
 */
export interface ConnectOptions extends ConnectionSettings {
  /** Subprotocols to offer, in order of preference. Default none. */
  protocols?: string | readonly string[];
  /** Extra request header fields (not the handshake's own). */
  headers?: HeaderFieldsInit;
  /** The `Origin` to send, as a browser would. Default none. */
  origin?: string;
  /** Extra trusted CA certificates (PEM) for `wss:`, e.g. a self-signed server's. Default: the system's roots. */
  caCerts?: string[];
  /** A client certificate chain (PEM) for `wss:` (direct connections only); needs `key`. */
  cert?: string;
  /** The client certificate's private key (PEM). */
  key?: string;
  /**
   * An HTTP proxy to tunnel through with `CONNECT`: `http://[user:pass@]host:port` (Basic
   * credentials) or `https://…` (for `ws:` targets: Deno cannot start TLS inside TLS).
   * `false` connects directly. Default: from the environment (`HTTPS_PROXY` for `wss:`,
   * `HTTP_PROXY` for `ws:`, minus `NO_PROXY`; read only with `--allow-env`).
   */
  proxy?: string | URL | false;
  /** Extra trusted CA certificates (PEM) for an `https:` proxy (not the target). */
  proxyCaCerts?: string[];
  /** Aborts the opening handshake (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The largest 101 response head accepted, in bytes. Default 16 KiB. */
  maxHeadSize?: number;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    /* closed already */
  }
}

/**
 * Opens a client connection that does not read yet (see {@link PendingConnection}).
 * {@link connect} and the {@link WebSocket} class are built on it.
 * @example
 * ```ts
 * const { connection, start } = await openClient('ws://127.0.0.1:8080/');
 * connection.onmessage = (data) => console.log(data);
 * start();
 * ```
 */
export async function openClient(url: string | URL, options: ConnectOptions = {}): Promise<PendingConnection> {
  const deflate = resolveDeflate(options.perMessageDeflate, defaultDeflateEngine);
  const client = buildClientRequest({
    url,
    protocols: options.protocols,
    headers: options.headers,
    origin: options.origin,
    extensions: clientDeflateOffers(deflate),
  });
  const timeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  const proxy =
    options.proxy === false ? null : options.proxy !== undefined ? parseProxyUrl(options.proxy) : proxyFromEnvironment(client.url);
  if ((options.cert === undefined) !== (options.key === undefined)) throw new TypeError('cert and key go together');
  if (proxy !== null && client.secure && proxy.protocol === 'https:') {
    throw new TypeError('A wss: connection through an https: proxy needs TLS inside TLS, which Deno cannot start; use an http: proxy');
  }
  options.signal?.throwIfAborted();

  // The timeout or the caller's abort stops the handshake: it aborts a dial under way
  // (its signal) and closes every conn opened for it.
  const deadline = HandshakeDeadline.forClient(timeout, denoTimers, options.signal);
  return deadline.guard(closeQuietly, async (track) => {
    const { hostname, port } = client;
    let conn: Deno.Conn;
    if (proxy !== null) {
      const tunnel = await openTunnel(proxy, hostname, port, { track, proxyCaCerts: options.proxyCaCerts, signal: deadline.signal });
      if (client.secure) {
        conn = await Deno.startTls(tunnel as Deno.TcpConn, { hostname, caCerts: options.caCerts });
        track(conn);
      } else conn = tunnel;
    } else if (client.secure) {
      const tls = options.cert !== undefined && options.key !== undefined ? { cert: options.cert, key: options.key } : {};
      conn = await Deno.connectTls({ hostname, port, caCerts: options.caCerts, ...tls });
      track(conn);
    } else {
      conn = await Deno.connect({ hostname, port, signal: deadline.signal });
      track(conn);
    }
    // Surface certificate errors as such, before anything is written.
    if (client.secure) await (conn as Deno.TlsConn).handshake();
    await writeAll(conn, new TextEncoder().encode(client.request));
    const { head, rest } = await readHead(conn, 'response', { maxHeadSize: options.maxHeadSize });
    const { protocol, extensions } = await validateServerResponse(head, client);
    const negotiated = clientNegotiatedExtensions(extensions, client.extensions);
    deadline.signal.throwIfAborted();
    return bindConn(conn, connectionOptions(options, 'client', protocol, negotiated.header, negotiated.deflate), rest);
  });
}

/**
 * Opens a WebSocket connection: `ws://host[:port]/path?query` (port 80 by default) or
 * `wss://` (443) over TLS, through an HTTP proxy when one is configured. Resolves once the
 * server accepted the handshake; the connection starts reading on the next macrotask, so
 * set `onmessage` (or take `readable`) right after `await` (messages are kept until then).
 *
 * Needs `--allow-net` (and `--allow-env` for proxy variables to be honoured).
 *
 * @throws {SyntaxError} for a URL that is not `ws:`/`wss:` or has a fragment.
 * @throws {TypeError} for invalid protocols, headers or proxy URL.
 * @throws {HandshakeError} when the server refused (`BAD_STATUS`, its `status` is the HTTP
 *   status) or answered wrongly; {@link ProxyError} when the proxy refused the tunnel;
 *   a `TimeoutError` `DOMException` after `handshakeTimeout`; Deno's errors for the
 *   network (`ConnectionRefused`) and TLS (`InvalidData` for a certificate it does not trust).
 * @example
 * ```ts
 * const conn = await connect('wss://echo.example.com/', { protocols: 'chat' });
 * conn.onmessage = (data) => console.log(data);
 * conn.send('hello');
 * const { closeCode } = await conn.closed;
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  const pending = await openClient(url, options);
  // Reading starts after the caller's `await` resumed, so handlers set right after it
  // (`onping`, `onpong`, `onclose` too, which are not kept for later) see everything.
  setTimeout(pending.start, 0);
  return pending.connection;
}
