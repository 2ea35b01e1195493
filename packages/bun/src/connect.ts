/**
 * `connect`: a WebSocket client on `Bun.connect`. Bun's part is dialing (TCP, the proxy's
 * `CONNECT` tunnel, TLS); the handshake and the connection are the shared client engine's.
 * @module
 */
import { createClientClasses } from '@wsflow/websocket';
import { openClient, type ClientAdapter, type ClientOptions, type PendingConnection } from '@wsflow/engine';
import { isIpLiteral, type WebSocketConnection } from '@wsflow/codec';
import type { BunTlsOptions, TlsData } from './bun_types.ts';
import { nextMacrotask } from './bun_timers.ts';
import { bunAdapter } from './connection_settings.ts';
import { dial, startTls } from './dial.ts';
import { proxyFromEnvironment } from './proxy_env.ts';
import { openTunnel } from './proxy_tunnel.ts';
import type { BunSocketTransport } from './socket_transport.ts';

/** Options of {@link connect}: the shared {@link ClientOptions}, and TLS. */
export interface ConnectOptions extends ClientOptions {
  /** Trusted CA certificates for `wss:` (e.g. a self-signed server's). Default: Bun's bundled roots. */
  ca?: TlsData | TlsData[];
  /** A client certificate for `wss:`, with `key`. */
  cert?: TlsData | TlsData[];
  /** The client certificate's private key. */
  key?: TlsData | TlsData[];
  /** Refuse servers whose certificate does not verify. Default true; turn off only in tests. */
  rejectUnauthorized?: boolean;
  /** The TLS SNI name (and the name the certificate must match). Default the URL's host (none for an IP address). */
  servername?: string;
  /** Any other TLS options of `Bun.connect` for `wss:`; the ones above win. */
  tls?: BunTlsOptions;
  /** TLS settings for the connection to an `https:` proxy (not the target). */
  proxyTls?: BunTlsOptions;
}

/** Bun's own options of {@link connect}, beside the shared ones. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername', 'tls', 'proxyTls'];

interface BunDialTls {
  target: BunTlsOptions;
  servername: string | undefined;
  proxy: BunTlsOptions | undefined;
}

const bunClientAdapter: ClientAdapter<BunDialTls> = {
  ...bunAdapter,
  proxyFromEnvironment: (url) => proxyFromEnvironment(url),
  async dial(target, tls, track) {
    const trackTransport = (transport: BunSocketTransport): void => track(() => transport.destroy());
    const { host, port } = target;
    let secure: BunTlsOptions | undefined;
    if (target.secure) {
      secure = { ...tls.target };
      const serverName = tls.servername ?? secure.serverName ?? (isIpLiteral(host) ? undefined : host);
      if (serverName !== undefined) secure.serverName = serverName;
    }
    let transport: BunSocketTransport;
    if (target.proxy !== null) {
      const tunnel = await openTunnel(target.proxy, host, port, { track: trackTransport, proxyTls: tls.proxy });
      transport = secure === undefined ? tunnel : await startTls(tunnel, secure, trackTransport);
    } else {
      transport = await dial(host, port, secure, trackTransport);
    }
    target.signal.throwIfAborted();
    transport.hold();
    return transport;
  },
};

function tlsOf(options: ConnectOptions): BunDialTls {
  const picked: BunTlsOptions = { ...options.tls };
  if (options.ca !== undefined) picked.ca = options.ca;
  if (options.cert !== undefined) picked.cert = options.cert;
  if (options.key !== undefined) picked.key = options.key;
  if (options.rejectUnauthorized !== undefined) picked.rejectUnauthorized = options.rejectUnauthorized;
  return { target: picked, servername: options.servername, proxy: options.proxyTls };
}

/**
 * Runs the client handshake and resolves with the connection, not reading yet (for the
 * WHATWG facade, which subscribes before reading starts).
 * @internal
 */
export function openBunClient(url: string | URL, options: ConnectOptions = {}): Promise<PendingConnection> {
  return openClient(url, options, bunClientAdapter, tlsOf(options), 'connect', TLS_OPTIONS);
}

/**
 * Opens a WebSocket connection (`ws://` or `wss://`), through an HTTP proxy when one is
 * given or set in the environment. Resolves once the server's 101 is checked.
 *
 * @throws (rejects) the codec's `HandshakeError` for a refused or invalid handshake,
 *   `ProxyError`, the dial's or TLS's error, a `TimeoutError` after `handshakeTimeout`, the
 *   `signal`'s reason; TypeError naming an unknown option
 * @example
 * ```ts
 * const conn = await connect('ws://127.0.0.1:8080/', { protocols: ['chat'] });
 * conn.onmessage = (data) => console.log(data);
 * conn.send('hello');
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  const pending = await openBunClient(url, options);
  // Reading starts after the caller's `await` resumed, so handlers set right after it see everything.
  nextMacrotask(pending.start);
  return pending.connection;
}

/**
 * The WHATWG `WebSocket` and `WebSocketStream` over `Bun.connect`: the `@wsflow/websocket` facade
 * over this client, as on every runtime (see `createClientClasses` there).
 * @example
 * ```ts
 * const ws = new WebSocket('wss://example.com/chat', { protocols: ['chat'], proxy: false });
 * ```
 */
export const { WebSocket, WebSocketStream } = createClientClasses(openBunClient);
export type WebSocket = InstanceType<typeof WebSocket>;
export type WebSocketStream = InstanceType<typeof WebSocketStream>;
/** The object form of `new WebSocket(url, options)`: this runtime's connect options, `protocols` included. */
export type WebSocketOptions = Omit<ConnectOptions, 'signal'>;
