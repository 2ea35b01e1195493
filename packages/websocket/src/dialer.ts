/**
 * The pluggable transport of the facade: how a `WebSocket` or `WebSocketStream` obtains
 * an open connection. The in-memory network of the test server is one dialer; the runtime
 * shims provide TCP/TLS ones and build their `WebSocket` with `createWebSocketClass`.
 * @module
 */
import { isBlockedPort } from './bad_port.ts';
import type { WebSocketConnection } from '@wsflow/codec';

/** What a {@link Dialer} is asked to open. */
export interface DialRequest {
  /** The `ws:`/`wss:` URL record (http(s) already mapped, no fragment). The dialer may keep it. */
  url: URL;
  /** The subprotocols to offer, in order: valid, unique tokens. */
  protocols: readonly string[];
  /**
   * Aborted when the caller gives up before the connection is established (`close()`
   * while connecting, a `WebSocketStream`'s `signal`). The dialer should then drop the
   * attempt and reject; if it resolves anyway, the facade aborts the connection.
   */
  signal: AbortSignal;
  /** The `Origin` to send, as a browser does (the page's origin), if any. */
  origin?: string;
  /**
   * The options object given to the constructor, if any: a `WebSocketInit` (for a
   * `WebSocket` class made with `acceptInit`) or the `WebSocketStreamOptions`. Members other
   * than `protocols` and `signal` are the dialer's own (headers, TLS options, …).
   */
  init?: Readonly<Record<string, unknown>>;
}

/**
 * A connection a dialer hands over before it reads from its transport: the facade
 * subscribes to it, then calls `start()`, so that no message and no protocol error can
 * come before the subscription. (A shim's `bindSocket`-style pending connection fits.)
 */
export interface DialedConnection {
  connection: WebSocketConnection;
  /** Starts reading (feeding the bytes that followed the handshake first). Idempotent. */
  start(): void;
}

/**
 * Opens a WebSocket connection: dials, performs the opening handshake (RFC 6455 §4.1)
 * offering `request.protocols`, and resolves with the open {@link WebSocketConnection} in
 * the client role, whose `protocol` and `extensions` are what the server selected — or,
 * better, with a {@link DialedConnection} not yet reading.
 * Rejects for any failure (refused, handshake rejected, invalid response, aborted); the
 * facade turns every rejection into "fail the WebSocket connection" (error, then close
 * with 1006); the rejection reaches script as the `error` of that ErrorEvent, and its
 * message in the event's `message`.
 *
 * A connection handed over already reading must keep the messages that arrive before
 * its owner subscribes, as `WebSocketConnection` does; a protocol error in that interval
 * is then only inferred (see the README's limits).
 *
 * A plain function rather than `(url, protocols, signal)`: the request can grow (an
 * origin, headers) without breaking dialers, and the negotiated values travel on the
 * connection itself.
 *
 * @example
 * ```ts
 * const dialer: Dialer = async ({ url, protocols, signal }) => {
 *   const tcp = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 80) });
 *   signal.addEventListener('abort', () => tcp.close());
 *   return clientHandshake(tcp, url, { protocols });
 * };
 * const WebSocket = createWebSocketClass({ dialer });
 * ```
 */
export type Dialer = (request: DialRequest) => Promise<WebSocketConnection | DialedConnection>;

/** The connection of a dialer's result, and how to start it (a no-op for a started one). */
export function dialedParts(result: WebSocketConnection | DialedConnection): DialedConnection {
  if ('connection' in result && typeof (result as DialedConnection).start === 'function') return result as DialedConnection;
  return { connection: result as WebSocketConnection, start: () => {} };
}

/**
 * Starts "establish a WebSocket connection" for a `WebSocket` or `WebSocketStream`:
 * returns null when Fetch's "bad port" check blocks the URL (a network error, which fails
 * the connection at once), else the dialer's pending result. A dialer that throws
 * synchronously gives a rejected promise, so both classes handle every failure alike.
 */
export function startDial(
  config: { readonly dialer: Dialer; readonly blockBadPorts: boolean },
  request: DialRequest,
): Promise<WebSocketConnection | DialedConnection> | null {
  if (config.blockBadPorts && isBlockedPort(request.url)) return null;
  try {
    return Promise.resolve(config.dialer(request));
  } catch (error) {
    return Promise.reject(error);
  }
}
