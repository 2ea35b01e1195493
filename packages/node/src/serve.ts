/**
 * `serve`: a standalone WebSocket server on its own `node:http` (or, with `tls`,
 * `node:https`) listener.
 * @module
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { CloseOptions, WebSocketConnection } from '@wsflow/codec';
import { AttachedEndpoint, type UpgradableServer } from './attach.ts';
import { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT } from './connection_settings.ts';
import type { AcceptedConnection, EndpointOptions } from './endpoint.ts';
import { plainHttpListener } from './plain_http.ts';
import type { FetchHandler } from '@wsflow/engine';

/** Options of {@link serve}. */
export interface ServeOptions extends EndpointOptions {
  /** The TCP port; default 0, a free port chosen by the OS (read it from `port`). */
  port?: number;
  /** The address to listen on. Default `127.0.0.1` (loopback only: pass `0.0.0.0` or `::` to expose). */
  host?: string;
  /**
   * TLS settings (`key`, `cert`, `ca`, …) to serve `wss://` through `node:https`.
   * Default: none, plain `ws://`.
   */
  tls?: HttpsServerOptions;
  /**
   * Answers plain HTTP requests (not WebSocket upgrades), like a `Deno.serve`/`Bun.serve`
   * handler, with a WHATWG `Request` (body read first, at most `maxBodySize`). Default: 426.
   */
  fetch?: FetchHandler;
  /** The largest request body read for `fetch`, in bytes (413 above). Default 1 MiB. */
  maxBodySize?: number;
}

/** A listening standalone WebSocket server. */
export interface WebSocketServer extends AsyncIterable<AcceptedConnection> {
  /** The underlying `http.Server` or `https.Server`. */
  readonly server: UpgradableServer;
  /** The endpoint taking its upgrades. */
  readonly endpoint: AttachedEndpoint;
  /** The address listened on. */
  readonly address: AddressInfo;
  /** The port listened on. */
  readonly port: number;
  /** The URL clients connect to, e.g. `ws://127.0.0.1:41234/`. */
  readonly url: string;
  /** The open connections. */
  readonly connections: ReadonlySet<WebSocketConnection>;
  /** Sockets accepted whose handshake is under way (at most `maxPendingHandshakes`). */
  readonly pendingHandshakes: number;
  /**
   * Stops listening, closes every connection gracefully (default 1001) and resolves once
   * all sockets are closed.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * `node:http`, loaded when a server starts rather than imported: an ES
 * import of `node:http` reads every export, and its lazy ones (`WebSocket`, `MessageEvent`, …)
 * load undici and with it http2, zlib, worker_threads and web streams — over a megabyte of
 * heap that a WebSocket server never uses, yet every full garbage collection walks.
 * `process.getBuiltinModule` (Node 20.16+) loads a module without reading its exports.
 */
async function loadHttp(): Promise<typeof import('node:http')> {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof getBuiltin === 'function') return getBuiltin('node:http') as typeof import('node:http');
  return import('node:http');
}

/** `node:https`, loaded like {@link loadHttp}, only for a `wss://` server. */
async function loadHttps(): Promise<typeof import('node:https')> {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof getBuiltin === 'function') return getBuiltin('node:https') as typeof import('node:https');
  return import('node:https');
}


/**
 * Starts a standalone WebSocket server and resolves once it listens. Accepted connections
 * go to `handler`, or to whoever iterates the server. Plain HTTP requests get 426.
 * The handshake timeout covers both Node's reading of the request head and the
 * `authorize` hook.
 *
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
  const { port = 0, host = '127.0.0.1', tls } = options;
  const handshakeTimeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  // Node checks these every connectionsCheckingInterval: a slow request head is the raw
  // phase of the handshake, so it gets the same budget.
  const timeouts = {
    headersTimeout: handshakeTimeout,
    requestTimeout: handshakeTimeout,
    connectionsCheckingInterval: Math.min(30_000, Math.max(1000, Math.floor(handshakeTimeout / 2))),
  };
  let endpoint: AttachedEndpoint | undefined;
  const plain = plainHttpListener({
    fetch: options.fetch,
    maxBodySize: options.maxBodySize,
    secure: tls !== undefined,
    authority: () => {
      const address = server.address() as AddressInfo;
      return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    },
    report: (error, context) => endpoint!.report(error, context),
    reject: (status, code, request, error) => endpoint!.rejected({ status, code, error, request }),
  });
  const server: UpgradableServer =
    tls === undefined
      ? (await loadHttp()).createServer(timeouts, plain)
      : (await loadHttps()).createServer({ ...tls, ...timeouts, handshakeTimeout: Math.min(tls.handshakeTimeout ?? handshakeTimeout, handshakeTimeout) }, plain);
  endpoint = new AttachedEndpoint(server, options, 'serve', ['port', 'host', 'tls'], []);
  countPendingHandshakes(server, endpoint, tls !== undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    endpoint.detach();
    throw error;
  }
  return new ListeningServer(server, endpoint, tls !== undefined);
}

/**
 * Counts every socket the server accepts as a pending handshake (`maxPendingHandshakes`):
 * from TCP accept (so the TLS handshake and the request head are covered) until the 101 or
 * its close. Under TLS the upgrade comes on the TLS socket: it takes over the raw socket's
 * slot, found by the peer's address and port (both sockets report the same ones).
 */
function countPendingHandshakes(server: UpgradableServer, endpoint: AttachedEndpoint, secure: boolean): void {
  if (!secure) {
    server.on('connection', (socket: Socket) => endpoint.admitPendingSocket(socket));
    return;
  }
  // Raw sockets in their TLS handshake, by peer address and port.
  const handshaking = new Map<string, { raw: Socket; forget: () => void }>();
  const keyOf = (socket: Socket): string => `${socket.remoteAddress}|${socket.remotePort}`;
  server.on('connection', (raw: Socket) => {
    endpoint.admitPendingSocket(raw);
    if (raw.remotePort === undefined) return; // gone already
    const key = keyOf(raw);
    const forget = (): void => {
      if (handshaking.get(key)?.raw === raw) handshaking.delete(key);
    };
    handshaking.set(key, { raw, forget });
    raw.once('close', forget);
  });
  server.on('secureConnection', (socket: Socket) => {
    const key = keyOf(socket);
    const entry = handshaking.get(key);
    if (entry === undefined) return;
    handshaking.delete(key);
    entry.raw.off('close', entry.forget);
    endpoint.adoptPendingSocket(entry.raw, socket);
  });
}

class ListeningServer implements WebSocketServer {
  readonly server: UpgradableServer;
  readonly endpoint: AttachedEndpoint;
  readonly address: AddressInfo;
  readonly url: string;
  #closing: Promise<void> | null = null;

  constructor(server: UpgradableServer, endpoint: AttachedEndpoint, secure: boolean) {
    this.server = server;
    this.endpoint = endpoint;
    this.address = server.address() as AddressInfo;
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address;
    this.url = `${secure ? 'wss' : 'ws'}://${host}:${this.address.port}${endpoint.options.path ?? '/'}`;
  }

  get port(): number {
    return this.address.port;
  }

  get connections(): ReadonlySet<WebSocketConnection> {
    return this.endpoint.connections;
  }

  get pendingHandshakes(): number {
    return this.endpoint.pendingHandshakes;
  }

  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection> {
    return this.endpoint[Symbol.asyncIterator]();
  }

  close(options?: CloseOptions): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const server = this.server;
    const closed = this.endpoint.close(options); // throws first for a bad close code
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    this.#closing = closed.then(async () => {
      server.closeAllConnections();
      await stopped;
    });
    return this.#closing;
  }
}
