/**
 * A tunnel through an HTTP proxy with `CONNECT` over Node's `net`/`tls`: the dialing and
 * the bytes are Node's; the request and the check of the answer are the codec's
 * (`connectRequest`, `checkConnectResponse`).
 * @module
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { checkConnectResponse, connectRequest, proxyEndpoint } from '@wsflow/codec';
import { dialTcp, dialTls, type SocketTracker } from './dial.ts';
import { readResponseHead } from './read_head.ts';

export { authorityOf } from '@wsflow/codec';

/** Options of {@link openTunnel}. */
export interface TunnelOptions {
  /** TLS settings for an `https:` proxy (the connection to the proxy itself). */
  proxyTls?: TlsConnectionOptions;
  /** Told of each socket opened, so a timeout can destroy it. */
  track?: SocketTracker;
}

/**
 * Opens a TCP (or, for an `https:` proxy, TLS) connection to `proxy`, asks it to
 * `CONNECT` to `host:port` (with Basic credentials from the proxy URL's user info), and
 * resolves with the socket once the proxy answers 2xx: from then on it carries the
 * target's bytes. Start TLS on it for `wss:`.
 *
 * @throws {ProxyError} when the proxy answers another status, or sends bytes after its
 *   answer (the target cannot have spoken yet).
 * @example
 * ```ts
 * const socket = await openTunnel(new URL('http://user:pw@proxy:3128'), 'example.com', 443);
 * const secure = tls.connect({ socket, servername: 'example.com' });
 * ```
 */
export async function openTunnel(proxy: URL, host: string, port: number, options: TunnelOptions = {}): Promise<Socket> {
  const track = options.track ?? (() => {});
  const endpoint = proxyEndpoint(proxy);
  const socket = endpoint.secure
    ? await dialTls({ ...options.proxyTls, host: endpoint.host, port: endpoint.port, servername: endpoint.serverName }, track)
    : await dialTcp(endpoint.host, endpoint.port, track);
  const request = connectRequest(proxy, host, port);
  socket.write(request.head, 'latin1');
  const { head, rest } = await readResponseHead(socket);
  try {
    checkConnectResponse(head, rest.length, request.authority);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return socket;
}
