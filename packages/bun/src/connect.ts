/**
 * `connect`: the client side of a WebSocket over Bun's TCP/TLS (`Bun.connect`), directly or
 * through an HTTP proxy tunnel. The 101 head is read off the raw socket with the codec's parser.
 * @module
 */
import { buildClientRequest, clientDeflateOffers, clientNegotiatedExtensions, resolveDeflate, encodeUtf8, HandshakeDeadline, isIpLiteral, parseProxyUrl, validateServerResponse, type HeaderFieldsInit, type WebSocketConnection } from '@wsflow/codec';
import type { BunTlsOptions, TlsData } from './bun_types.ts';
import { bunTimers, nextMacrotask } from './bun_timers.ts';
import { checkTimeout, connectionOptions, DEFAULT_HANDSHAKE_TIMEOUT, defaultDeflateEngine, type ConnectionSettings } from './connection_settings.ts';
import { dial, startTls } from './dial.ts';
import { HeadReader, bindConnection, type PendingConnection } from '@wsflow/engine';
import { proxyFromEnvironment } from './proxy_env.ts';
import { openTunnel } from './proxy_tunnel.ts';
import type { BunSocketTransport } from './socket_transport.ts';

/**
 * Options of {@link connect}.
 *
 * @example
 * ```ts
 * const options: ConnectOptions = {
 *   protocols: ['chat.v2', 'chat.v1'],
 *   headers: { Authorization: `Bearer ${token}` },
 *   ca: Bun.file('ca.pem'),
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
  /** Trusted CA certificates for `wss:` (e.g. a self-signed server's). Default: Bun's bundled roots. */
  ca?: TlsData | TlsData[];
  /** A client certificate for `wss:`. */
  cert?: TlsData | TlsData[];
  /** The client certificate's private key. */
  key?: TlsData | TlsData[];
  /** Refuse servers whose certificate does not verify. Default true; turn off only in tests. */
  rejectUnauthorized?: boolean;
  /** The TLS SNI name (and the name the certificate must match). Default the URL's host (none for an IP address). */
  servername?: string;
  /** Any other TLS options of `Bun.connect` for `wss:`. */
  tls?: BunTlsOptions;
  /**
   * An HTTP proxy to tunnel through with `CONNECT`: `http://[user:pass@]host:port` (Basic
   * credentials) or `https://…`. `false` connects directly. Default: from the environment
   * (`HTTPS_PROXY` for `wss:`, `HTTP_PROXY` for `ws:`, minus `NO_PROXY`; see
   * {@link proxyFromEnvironment}).
   */
  proxy?: string | URL | false;
  /** TLS settings for the connection to an `https:` proxy (not the target). */
  proxyTls?: BunTlsOptions;
  /** Aborts the opening handshake (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The largest 101 response head accepted, in bytes. Default 16 KiB. */
  maxHeadSize?: number;
}

function tlsOptionsOf(options: ConnectOptions, hostname: string): BunTlsOptions {
  const picked: BunTlsOptions = { ...options.tls };
  if (options.ca !== undefined) picked.ca = options.ca;
  if (options.cert !== undefined) picked.cert = options.cert;
  if (options.key !== undefined) picked.key = options.key;
  if (options.rejectUnauthorized !== undefined) picked.rejectUnauthorized = options.rejectUnauthorized;
  const serverName = options.servername ?? picked.serverName ?? (isIpLiteral(hostname) ? undefined : hostname);
  if (serverName !== undefined) picked.serverName = serverName;
  return picked;
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
  options.signal?.throwIfAborted();

  // The timeout or the caller's abort stops the handshake and drops every transport opened for it.
  const deadline = HandshakeDeadline.forClient(timeout, bunTimers, options.signal);
  return deadline.guard(
    (transport: BunSocketTransport) => transport.destroy(),
    async (track) => {
      const tls = client.secure ? tlsOptionsOf(options, client.hostname) : undefined;
      let transport: BunSocketTransport;
      if (proxy !== null) {
        const tunnel = await openTunnel(proxy, client.hostname, client.port, { track, proxyTls: options.proxyTls });
        transport = tls === undefined ? tunnel : await startTls(tunnel, tls, track);
      } else {
        transport = await dial(client.hostname, client.port, tls, track);
      }
      deadline.signal.throwIfAborted();
      const reader = new HeadReader(transport, 'response', { maxHeadSize: options.maxHeadSize });
      transport.write(encodeUtf8(client.request));
      const { head } = await reader.head;
      const { protocol, extensions } = await validateServerResponse(head, client);
      const negotiated = clientNegotiatedExtensions(extensions, client.extensions);
      deadline.signal.throwIfAborted();
      return bindConnection(transport, connectionOptions(options, 'client', protocol, negotiated.header, negotiated.deflate), reader);
    },
  );
}

/**
 * Opens a WebSocket connection: `ws://host[:port]/path?query` (port 80 by default) or
 * `wss://` (443) over TLS, through an HTTP proxy when one is configured. Resolves once the
 * server accepted the handshake; the connection starts reading on the next macrotask, so
 * set `onmessage` (or take `readable`) right after `await`.
 *
 * @throws {SyntaxError} for a URL that is not `ws:`/`wss:` or has a fragment.
 * @throws {TypeError} for invalid protocols, headers or proxy URL.
 * @throws {HandshakeError} when the server refused (`BAD_STATUS`, its `status` is the HTTP
 *   status) or answered wrongly; {@link ProxyError} when the proxy refused the tunnel;
 *   a `TimeoutError` `DOMException` after `handshakeTimeout`; Bun's socket or TLS error
 *   (`ECONNREFUSED`, a certificate that does not verify).
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
  nextMacrotask(pending.start);
  return pending.connection;
}
