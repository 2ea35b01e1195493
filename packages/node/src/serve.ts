/**
 * `serve`: a standalone WebSocket server on its own `node:net` listener (TLS, with `tls`,
 * through `node:tls` on each accepted socket). Node's part is the listener and its
 * sockets; everything between accept and a connection is the shared server engine's.
 * @module
 */
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { ListeningServer, ServerEngine, checkServeOptions, type ServerOptions, type WebSocketServerBase } from '@wsflow/engine';
import { nodeAdapter } from './connection_settings.ts';
import { NodeEngineSocket } from './node_socket.ts';

/** TLS settings of {@link serve}: `node:tls` secure-context options (`key`, `cert`, `ca`, …) and server options. */
export type NodeTlsOptions = SecureContextOptions & Pick<TlsOptions, 'requestCert' | 'rejectUnauthorized' | 'ALPNProtocols' | 'SNICallback'>;

/** Options of {@link serve}: the shared {@link ServerOptions}, and where to listen. */
export interface ServeOptions extends ServerOptions {
  /** The TCP port; default 0, a free port chosen by the OS (read it from `port`). */
  port?: number;
  /** The address to listen on. Default `127.0.0.1` (loopback only: pass `0.0.0.0` or `::` to expose). */
  host?: string;
  /** TLS settings (`key`, `cert`, …) to serve `wss://`. Default: none, plain `ws://`. */
  tls?: NodeTlsOptions;
  /**
   * Share the port with other processes listening on it with `reusePort` too (`SO_REUSEPORT`):
   * the kernel spreads incoming connections across them, so N worker processes serve one
   * port. Node >= 22.12 / 23.1 on Linux (elsewhere refused or without load balancing). Default `false`.
   */
  reusePort?: boolean;
}

/** A listening WebSocket server: the same on every runtime, plus Node's listener. */
export interface WebSocketServer extends WebSocketServerBase {
  /** The underlying `net.Server`. */
  readonly listener: NetServer;
  /** The address listened on. */
  readonly address: AddressInfo;
}

type Builtin = <T>(id: string) => T;

/**
 * A built-in module, loaded without reading all its exports (`process.getBuiltinModule`,
 * Node 20.16+): an ES import of `node:tls` or `node:net` is cheap, but this keeps the shim's
 * module graph free of them until a server starts.
 */
async function builtin<T>(id: string): Promise<T> {
  const getBuiltin = (process as { getBuiltinModule?: Builtin }).getBuiltinModule;
  if (typeof getBuiltin === 'function') return getBuiltin<T>(id);
  return (await import(id)) as T;
}

/** Whether `net.Server.listen` knows `reusePort` (Node 22.12+, 23.1+; older versions ignore it silently). */
function nodeHasReusePort(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

const noop = (): void => {};

/**
 * Starts a standalone WebSocket server and resolves once it listens. Accepted connections
 * go to `handler`, or to whoever iterates the server; plain HTTP requests to `fetch`
 * (default 426). The handshake timeout covers the TLS handshake, reading the request head,
 * the `authorize` hook and the 101.
 *
 * @throws TypeError naming an unknown or invalid option; RangeError for an out-of-range one
 * @example
 * ```ts
 * const server = await serve({
 *   port: 8080,
 *   handler: (conn) => {
 *     conn.onmessage = (data) => conn.send(data);
 *   },
 * });
 * console.log(`listening on ${server.url}`);
 * // or: for await (const { connection, request } of server) { … }
 * await server.close();
 * ```
 */
export async function serve(options: ServeOptions = {}): Promise<WebSocketServer> {
  const checked = checkServeOptions(options, nodeAdapter.deflateEngine);
  const { port = 0, host = '127.0.0.1', tls, reusePort } = checked;
  if (reusePort === true && !nodeHasReusePort(process.versions.node)) {
    throw new TypeError(`serve: option "reusePort" needs Node 22.12+ or 23.1+ (this is Node ${process.versions.node})`);
  }
  const net = await builtin<typeof import('node:net')>('node:net');
  let wrap: (raw: Socket) => Socket = (raw) => raw;
  if (tls !== undefined) {
    const tlsModule = await builtin<typeof import('node:tls')>('node:tls');
    const secureContext = tlsModule.createSecureContext(tls);
    const { requestCert, rejectUnauthorized, ALPNProtocols, SNICallback } = tls;
    wrap = (raw) => {
      raw.on('error', noop); // reported through the TLS socket
      return new tlsModule.TLSSocket(raw, { isServer: true, secureContext, requestCert, rejectUnauthorized, ALPNProtocols, SNICallback });
    };
  }
  const sockets = new Set<Socket>();
  let engine: ServerEngine | undefined;
  // Open sockets (the TLS socket over each raw one), kept until they close, to destroy at shutdown.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (raw) => {
    engine!.accept(new NodeEngineSocket(wrap(raw), sockets));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(reusePort === true ? { port, host, reusePort } : { port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Past listen, an accept failure (out of file descriptors) is Node's to retry; never a crash.
  server.on('error', (error) => console.error('wsflow: the listener failed:', error));
  const address = server.address() as AddressInfo;
  const authority = `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  engine = new ServerEngine(checked, nodeAdapter, { secure: tls !== undefined, authority });
  return new NodeServer(server, address, engine, sockets, engine.urlFor(authority));
}

class NodeServer extends ListeningServer implements WebSocketServer {
  readonly listener: NetServer;
  readonly address: AddressInfo;
  readonly #sockets: Set<Socket>;

  constructor(listener: NetServer, address: AddressInfo, engine: ServerEngine, sockets: Set<Socket>, url: string) {
    super(engine, url);
    this.listener = listener;
    this.address = address;
    this.#sockets = sockets;
  }

  get port(): number {
    return this.address.port;
  }

  protected async stopListening(closed: Promise<void>): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    await closed;
    // Sockets still lingering (refused, or answered by fetch) go too.
    for (const socket of this.#sockets) socket.destroy();
    await stopped;
  }
}
