/**
 * A tunnel through an HTTP proxy with `CONNECT` over `Bun.connect`: the dialing and the
 * bytes are Bun's; the request and the check of the answer are the codec's
 * (`connectRequest`, `checkConnectResponse`).
 * @module
 */
import { checkConnectResponse, connectRequest, encodeUtf8, proxyEndpoint } from '@wsflow/codec';
import type { BunTlsOptions } from './bun_types.ts';
import { dial, type TransportTracker } from './dial.ts';
import { HeadReader, headOf } from '@wsflow/engine';
import { IGNORE_RECEIVER } from '@wsflow/engine';
import type { BunSocketTransport } from './socket_transport.ts';

export { authorityOf } from '@wsflow/codec';

/** Options of {@link openTunnel}. */
export interface TunnelOptions {
  /** TLS settings for an `https:` proxy (the connection to the proxy itself). */
  proxyTls?: BunTlsOptions;
  /** Told of each transport opened, so a timeout can drop it. */
  track?: TransportTracker;
  /** The largest CONNECT response head accepted, in bytes. Default 16 KiB. */
  maxHeadSize?: number;
}

/**
 * Opens a TCP (or, for an `https:` proxy, TLS) connection to `proxy`, asks it to
 * `CONNECT` to `host:port` (with Basic credentials from the proxy URL's user info), and
 * resolves with the transport once the proxy answers 2xx: from then on it carries the
 * target's bytes. Start TLS on it for `wss:` (see `startTls`).
 *
 * @throws {ProxyError} when the proxy answers another status, or sends bytes after its
 *   answer (the target cannot have spoken yet).
 * @example
 * ```ts
 * const tunnel = await openTunnel(new URL('http://user:pw@proxy:3128'), 'example.com', 443);
 * const secure = await startTls(tunnel, { serverName: 'example.com' }, () => {});
 * ```
 */
export async function openTunnel(proxy: URL, host: string, port: number, options: TunnelOptions = {}): Promise<BunSocketTransport> {
  const track = options.track ?? (() => {});
  const endpoint = proxyEndpoint(proxy);
  const tls: BunTlsOptions | undefined = endpoint.secure ? { ...options.proxyTls } : undefined;
  if (tls !== undefined && tls.serverName === undefined && endpoint.serverName !== undefined) tls.serverName = endpoint.serverName;
  const transport = await dial(endpoint.host, endpoint.port, tls, track);

  const request = connectRequest(proxy, host, port);
  const reader = new HeadReader(transport, headOf('response', { maxHeadSize: options.maxHeadSize }), 'response');
  transport.write(encodeUtf8(request.head));
  const { head } = await reader.head;
  try {
    checkConnectResponse(head, reader.takeBuffered().reduce((total, chunk) => total + chunk.length, 0), request.authority);
  } catch (error) {
    transport.destroy();
    throw error;
  }
  // Held (not reading) until the next reader takes over.
  transport.receiver = IGNORE_RECEIVER;
  return transport;
}
