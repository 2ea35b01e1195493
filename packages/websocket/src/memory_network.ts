/**
 * An in-memory network: servers listen on URLs, and its {@link Dialer} connects to them
 * through a {@link createDuplexPair} with the codec's real client handshake, so every
 * byte of the handshake and every frame goes through the codec both ways.
 * @module
 */
import { clientHandshake, createDuplexPair, type ByteDuplex, type HeaderFieldsInit, type WebSocketConnection } from '@wsflow/codec';
import { settle } from './activity.ts';
import type { DialRequest, Dialer } from './dialer.ts';

/** What dialing tells the listening endpoint about the connection. */
export interface IncomingConnectionInfo {
  /** The URL the client dialed. */
  url: URL;
  /**
   * Settles when the client's side of the opening handshake does. An endpoint tracks it
   * (for `flush()`) once it has answered: the client then checks the answer, with Web
   * Crypto, outside the microtask queue.
   */
  clientHandshake: Promise<unknown>;
}

/** A server on a {@link MemoryNetwork}: it is handed the server end of each new connection. */
export interface MemoryEndpoint {
  /**
   * Takes the server end of a new connection, before the client's request head arrives.
   * @returns a way to drop the connection (the client gave up while connecting)
   */
  acceptConnection(duplex: ByteDuplex, info: IncomingConnectionInfo): { drop(reason: unknown): void };
}

/**
 * Where a URL listens: scheme, host, port and path. The query is not part of it, so a
 * server at `ws://example.test/chat` also receives `ws://example.test/chat?room=1`.
 */
export function endpointKey(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * A set of in-memory servers addressed by URL, and the {@link Dialer} that reaches them.
 * A URL without a server is refused (the dial rejects, so a `WebSocket` fails with 1006).
 *
 * @example
 * ```ts
 * const network = new MemoryNetwork();
 * const server = new TestServer('ws://example.test/', { network });
 * const WebSocket = createWebSocketClass({ dialer: network.dialer });
 * ```
 */
export class MemoryNetwork {
  readonly #endpoints = new Map<string, MemoryEndpoint>();

  /** Dials a server of this network: the codec's client handshake over a duplex pair. */
  readonly dialer: Dialer = (request) => this.#dial(request);

  /**
   * Listens on a URL (its query ignored).
   * @throws Error if another endpoint listens there already
   */
  listen(url: URL, endpoint: MemoryEndpoint): void {
    const key = endpointKey(url);
    if (this.#endpoints.has(key)) throw new Error(`A server already listens on ${key}`);
    this.#endpoints.set(key, endpoint);
  }

  /** Stops listening on a URL, if `endpoint` listens there. */
  unlisten(url: URL, endpoint: MemoryEndpoint): void {
    const key = endpointKey(url);
    if (this.#endpoints.get(key) === endpoint) this.#endpoints.delete(key);
  }

  /** The endpoint listening where `url` leads, if any. */
  lookup(url: URL): MemoryEndpoint | undefined {
    return this.#endpoints.get(endpointKey(url));
  }

  /**
   * Resolves once nothing is moving on any in-memory network: handshakes done, frames
   * delivered, events dispatched. Uses no timer, so it works under fake timers.
   */
  flush(): Promise<void> {
    return settle();
  }

  #dial(request: DialRequest): Promise<WebSocketConnection> {
    const { url, protocols, signal, origin } = request;
    if (signal.aborted) return Promise.reject(signal.reason);
    const endpoint = this.lookup(url);
    if (endpoint === undefined) {
      return Promise.reject(new DOMException(`Connection refused: no server listens on ${endpointKey(url)}`, 'NetworkError'));
    }
    const [client, server] = createDuplexPair();
    let settled!: () => void;
    const clientSettled = new Promise<void>((resolve) => (settled = resolve));
    const handle = endpoint.acceptConnection(server, { url: new URL(url.href), clientHandshake: clientSettled });
    // Extra request fields of the dialer's options (a `WebSocketInit`'s or a `ws` client's `headers`).
    const headers = request.init?.headers;
    const handshake = clientHandshake(client, url, {
      protocols: [...protocols],
      origin,
      headers: typeof headers === 'object' && headers !== null ? (headers as HeaderFieldsInit) : undefined,
    });
    handshake.then(settled, settled);
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = (): void => {
        handle.drop(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      handshake.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    });
    // A handshake that completes after an abort: its connection is dropped.
    handshake.then((conn) => (signal.aborted ? conn.abort() : undefined), () => undefined);
    // Not tracked as a whole: a server may hold the handshake for as long as a test likes.
    return Promise.race([handshake, aborted]);
  }
}

/** The network the package's own `WebSocket` and `WebSocketStream` dial, and test servers listen on by default. */
export const defaultNetwork: MemoryNetwork = new MemoryNetwork();
