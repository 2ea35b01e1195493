/**
 * `connect`: a WebSocket client on `Deno.connect`/`Deno.connectTls`/`Deno.startTls`.
 * Deno's part is dialing (TCP, the proxy's `CONNECT` tunnel, TLS); the handshake and the
 * connection are the shared client engine's.
 * @module
 */
import { createClientClasses } from '@wsflow/websocket';
import { openClient, type ClientAdapter, type ClientOptions, type PendingConnection } from '@wsflow/engine';
import type { WebSocketConnection } from '@wsflow/codec';
import { setNoDelay } from './conn_settings.ts';
import { ConnTransport } from './conn_transport.ts';
import { denoAdapter } from './connection_settings.ts';
import { proxyFromEnvironment } from './proxy_env.ts';
import { openTunnel } from './proxy_tunnel.ts';

/** TLS settings of an `https:` proxy. */
export interface DenoProxyTlsOptions {
  /** Certificate authorities to trust for the proxy (PEM). */
  ca?: string | readonly string[];
}

/** Options of {@link connect}: the shared {@link ClientOptions}, and TLS. */
export interface ConnectOptions extends ClientOptions {
  /** Certificate authorities to trust for `wss://` (PEM), beside Deno's defaults. */
  ca?: string | readonly string[];
  /** A client certificate (PEM), with `key`. */
  cert?: string;
  /** The client certificate's private key (PEM). */
  key?: string;
  /** TLS settings for an `https:` proxy. */
  proxyTls?: DenoProxyTlsOptions;
}

/** Deno's own options of {@link connect}, beside the shared ones. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'proxyTls'];

interface DenoDialTls {
  caCerts: string[] | undefined;
  clientCert: { cert: string; key: string } | undefined;
  proxyCaCerts: string[] | undefined;
}

function list(value: string | readonly string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : [...value];
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    /* closed already */
  }
}

const denoClientAdapter: ClientAdapter<DenoDialTls> = {
  ...denoAdapter,
  proxyFromEnvironment: (url) => proxyFromEnvironment(url),
  async dial(target, tls, track) {
    const { host: hostname, port, proxy, signal } = target;
    if (proxy !== null && target.secure && proxy.protocol === 'https:') {
      throw new TypeError('A wss: connection through an https: proxy needs TLS inside TLS, which Deno cannot start; use an http: proxy');
    }
    const trackConn = (conn: Deno.Conn): void => track(() => closeQuietly(conn));
    let conn: Deno.Conn;
    if (proxy !== null) {
      const tunnel = await openTunnel(proxy, hostname, port, { track: trackConn, proxyCaCerts: tls.proxyCaCerts, signal });
      if (target.secure) {
        conn = await Deno.startTls(tunnel as Deno.TcpConn, { hostname, caCerts: tls.caCerts });
        trackConn(conn);
      } else conn = tunnel;
    } else if (target.secure) {
      conn = await Deno.connectTls({ hostname, port, caCerts: tls.caCerts, ...tls.clientCert });
      trackConn(conn);
    } else {
      conn = await Deno.connect({ hostname, port, signal });
      trackConn(conn);
    }
    // Surface certificate errors as such, before anything is written.
    if (target.secure) await (conn as Deno.TlsConn).handshake();
    setNoDelay(conn);
    // Not reading until the engine has set its receiver and released it.
    return new ConnTransport(conn);
  },
};

function tlsOf(options: ConnectOptions): DenoDialTls {
  if ((options.cert === undefined) !== (options.key === undefined)) throw new TypeError('connect: options "cert" and "key" go together');
  return {
    caCerts: list(options.ca),
    clientCert: options.cert !== undefined && options.key !== undefined ? { cert: options.cert, key: options.key } : undefined,
    proxyCaCerts: list(options.proxyTls?.ca),
  };
}

/**
 * Runs the client handshake and resolves with the connection, not reading yet (for the
 * WHATWG facade, which subscribes before reading starts).
 * @internal
 */
export function openDenoClient(url: string | URL, options: ConnectOptions = {}): Promise<PendingConnection> {
  return openClient(url, options, denoClientAdapter, tlsOf(options), 'connect', TLS_OPTIONS);
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
  const pending = await openDenoClient(url, options);
  // Reading starts after the caller's `await` resumed, so handlers set right after it see everything.
  setTimeout(pending.start, 0);
  return pending.connection;
}

/**
 * The WHATWG `WebSocket` and `WebSocketStream` over `Deno.connect`/`Deno.connectTls`: the `@wsflow/websocket` facade
 * over this client, as on every runtime (see `createClientClasses` there).
 * @example
 * ```ts
 * const ws = new WebSocket('wss://example.com/chat', { protocols: ['chat'], proxy: false });
 * ```
 */
// Typed explicitly: JSR refuses an exported binding whose type must be inferred ("slow type").
const classes: ReturnType<typeof createClientClasses> = createClientClasses(openDenoClient);
export const WebSocket: typeof classes.WebSocket = classes.WebSocket;
export const WebSocketStream: typeof classes.WebSocketStream = classes.WebSocketStream;
export type WebSocket = InstanceType<typeof WebSocket>;
export type WebSocketStream = InstanceType<typeof WebSocketStream>;
/** The object form of `new WebSocket(url, options)`: this runtime's connect options, `protocols` included. */
export type WebSocketOptions = Omit<ConnectOptions, 'signal'>;
