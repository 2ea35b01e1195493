/**
 * `connect`: the client side of a WebSocket over Node's TCP/TLS, directly or through an
 * HTTP proxy tunnel. The 101 head is read off the raw socket with the codec's parser.
 * @module
 */
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { buildClientRequest, clientDeflateOffers, clientNegotiatedExtensions, resolveDeflate, HandshakeDeadline, parseProxyUrl, validateServerResponse, type HeaderFieldsInit, type WebSocketConnection } from '@wsflow/codec';
import { checkTimeout, connectionOptions, DEFAULT_HANDSHAKE_TIMEOUT, defaultDeflateEngine, type ConnectionSettings } from './connection_settings.ts';
import { dialTcp, dialTls } from './dial.ts';
import { nodeTimers } from './node_timers.ts';
import { proxyFromEnvironment } from './proxy_env.ts';
import { openTunnel } from './proxy_tunnel.ts';
import { readResponseHead } from './read_head.ts';
import { bindSocket, type PendingConnection } from './socket_connection.ts';

/**
 * Options of {@link connect}.
 *
 * @example
 * ```ts
 * const options: ConnectOptions = {
 *   protocols: ['chat.v2', 'chat.v1'],
 *   headers: { Authorization: `Bearer ${token}` },
 *   ca: readFileSync('ca.pem'),
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
  /** Trusted CA certificates for `wss:` (e.g. a self-signed server's). Default: Node's bundled roots. */
  ca?: TlsConnectionOptions['ca'];
  /** A client certificate for `wss:`. */
  cert?: TlsConnectionOptions['cert'];
  /** The client certificate's private key. */
  key?: TlsConnectionOptions['key'];
  /** Refuse servers whose certificate does not verify. Default true; turn off only in tests. */
  rejectUnauthorized?: boolean;
  /** The TLS SNI name. Default the URL's host (none for an IP address). */
  servername?: string;
  /** Any other `tls.connect` options for `wss:`. */
  tls?: TlsConnectionOptions;
  /**
   * An HTTP proxy to tunnel through with `CONNECT`: `http://[user:pass@]host:port` (Basic
   * credentials) or `https://…`. `false` connects directly. Default: from the environment
   * (`HTTPS_PROXY` for `wss:`, `HTTP_PROXY` for `ws:`, minus `NO_PROXY`; see
   * {@link proxyFromEnvironment}).
   */
  proxy?: string | URL | false;
  /** TLS settings for the connection to an `https:` proxy (not the target). */
  proxyTls?: TlsConnectionOptions;
  /** Aborts the opening handshake (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The largest 101 response head accepted, in bytes. Default 16 KiB. */
  maxHeadSize?: number;
}

const noop = (): void => {};

function tlsOptionsOf(options: ConnectOptions, hostname: string): TlsConnectionOptions {
  const picked: TlsConnectionOptions = { ...options.tls };
  if (options.ca !== undefined) picked.ca = options.ca;
  if (options.cert !== undefined) picked.cert = options.cert;
  if (options.key !== undefined) picked.key = options.key;
  if (options.rejectUnauthorized !== undefined) picked.rejectUnauthorized = options.rejectUnauthorized;
  // SNI carries host names only (RFC 6066 §3).
  picked.servername = options.servername ?? picked.servername ?? (isIP(hostname) === 0 ? hostname : undefined);
  return picked;
}

/**
 * Opens a client connection that does not read yet (see {@link PendingConnection}).
 * {@link connect} and the {@link WebSocket} class are built on it.
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

  // The timeout or the caller's abort stops the handshake and destroys every socket opened for it.
  const deadline = HandshakeDeadline.forClient(timeout, nodeTimers, options.signal);
  return deadline.guard(
    (socket: Socket) => socket.destroy(),
    async (guard) => {
      const track = (socket: Socket): void => {
        // Until the connection owns it, an error must reject the handshake, not crash the process.
        socket.on('error', noop);
        guard(socket);
      };
      const tlsOptions = tlsOptionsOf(options, client.hostname);
      let socket: Socket;
      if (proxy !== null) {
        const tunnel = await openTunnel(proxy, client.hostname, client.port, { track, proxyTls: options.proxyTls });
        socket = client.secure ? await dialTls({ ...tlsOptions, socket: tunnel, host: client.hostname }, track) : tunnel;
      } else if (client.secure) {
        socket = await dialTls({ ...tlsOptions, host: client.hostname, port: client.port }, track);
      } else {
        socket = await dialTcp(client.hostname, client.port, track);
      }
      socket.write(client.request, 'latin1');
      const { head, rest } = await readResponseHead(socket, { maxHeadSize: options.maxHeadSize });
      const { protocol, extensions } = await validateServerResponse(head, client);
      const negotiated = clientNegotiatedExtensions(extensions, client.extensions);
      deadline.signal.throwIfAborted();
      return bindSocket(socket, connectionOptions(options, 'client', protocol, negotiated.header, negotiated.deflate), rest);
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
 *   a `TimeoutError` `DOMException` after `handshakeTimeout`; a socket error (`ECONNREFUSED`, TLS).
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
  setImmediate(pending.start);
  return pending.connection;
}
