/**
 * `connect`: a WebSocket client on `node:net`/`node:tls`. Node's part is dialing (TCP, the
 * proxy's `CONNECT` tunnel, TLS); the handshake and the connection are the shared client
 * engine's.
 * @module
 */
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { createClientClasses } from '@wsflow/websocket';
import { openClient, type ClientAdapter, type ClientOptions, type PendingConnection } from '@wsflow/engine';
import type { WebSocketConnection } from '@wsflow/codec';
import { nodeAdapter } from './connection_settings.ts';
import { dialTcp, dialTls } from './dial.ts';
import { NodeEngineSocket } from './node_socket.ts';
import { proxyFromEnvironment } from './proxy_env.ts';
import { openTunnel } from './proxy_tunnel.ts';

/** Options of {@link connect}: the shared {@link ClientOptions}, and TLS. */
export interface ConnectOptions extends ClientOptions {
  /** Certificate authorities to trust for `wss://` (PEM), instead of Node's defaults. */
  ca?: TlsConnectionOptions['ca'];
  /** A client certificate (PEM), with `key`. */
  cert?: TlsConnectionOptions['cert'];
  /** The client certificate's private key (PEM). */
  key?: TlsConnectionOptions['key'];
  /** Whether to refuse a server certificate that does not verify. Default true. */
  rejectUnauthorized?: boolean;
  /** The name sent for SNI and checked in the certificate. Default: the URL's host name (none for an IP address). */
  servername?: string;
  /** Any other `tls.connect` options; `ca`, `cert`, `key`, `rejectUnauthorized` and `servername` above win. */
  tls?: TlsConnectionOptions;
  /** `tls.connect` options for an `https:` proxy. */
  proxyTls?: TlsConnectionOptions;
}

/** Node's own options of {@link connect}, beside the shared ones. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername', 'tls', 'proxyTls'];

/** What Node dials with: the target's TLS options and the proxy's. */
interface NodeDialTls {
  target: TlsConnectionOptions;
  proxy: TlsConnectionOptions | undefined;
}

const noop = (): void => {};

const nodeClientAdapter: ClientAdapter<NodeDialTls> = {
  ...nodeAdapter,
  proxyFromEnvironment: (url) => proxyFromEnvironment(url),
  async dial(target, tls, track) {
    const trackSocket = (socket: Socket): void => {
      // Until the connection owns it, an error must reject the handshake, not crash the process.
      socket.on('error', noop);
      track(() => socket.destroy());
    };
    const { host, port } = target;
    // SNI carries host names only (RFC 6066 §3).
    const tlsOptions: TlsConnectionOptions = { ...tls.target, servername: tls.target.servername ?? (isIP(host) === 0 ? host : undefined) };
    let socket: Socket;
    if (target.proxy !== null) {
      const tunnel = await openTunnel(target.proxy, host, port, { track: trackSocket, proxyTls: tls.proxy });
      socket = target.secure ? await dialTls({ ...tlsOptions, socket: tunnel, host }, trackSocket) : tunnel;
    } else if (target.secure) {
      socket = await dialTls({ ...tlsOptions, host, port }, trackSocket);
    } else {
      socket = await dialTcp(host, port, trackSocket);
    }
    return new NodeEngineSocket(socket);
  },
};

function tlsOf(options: ConnectOptions): NodeDialTls {
  const picked: TlsConnectionOptions = { ...options.tls };
  if (options.ca !== undefined) picked.ca = options.ca;
  if (options.cert !== undefined) picked.cert = options.cert;
  if (options.key !== undefined) picked.key = options.key;
  if (options.rejectUnauthorized !== undefined) picked.rejectUnauthorized = options.rejectUnauthorized;
  if (options.servername !== undefined) picked.servername = options.servername;
  return { target: picked, proxy: options.proxyTls };
}

/**
 * Runs the client handshake and resolves with the connection, not reading yet (for the
 * WHATWG facade, which subscribes before reading starts).
 * @internal
 */
export function openNodeClient(url: string | URL, options: ConnectOptions = {}): Promise<PendingConnection> {
  return openClient(url, options, nodeClientAdapter, tlsOf(options), 'connect', TLS_OPTIONS);
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
  const pending = await openNodeClient(url, options);
  // Reading starts after the caller's `await` resumed, so handlers set right after it see everything.
  setImmediate(pending.start);
  return pending.connection;
}

/**
 * The WHATWG `WebSocket` and `WebSocketStream` over Node's `net`/`tls`: the `@wsflow/websocket` facade
 * over this client, as on every runtime (see `createClientClasses` there).
 * @example
 * ```ts
 * const ws = new WebSocket('wss://example.com/chat', { protocols: ['chat'], proxy: false });
 * ```
 */
export const { WebSocket, WebSocketStream } = createClientClasses(openNodeClient);
export type WebSocket = InstanceType<typeof WebSocket>;
export type WebSocketStream = InstanceType<typeof WebSocketStream>;
/** The object form of `new WebSocket(url, options)`: this runtime's connect options, `protocols` included. */
export type WebSocketOptions = Omit<ConnectOptions, 'signal'>;
