/**
 * A tunnel through an HTTP proxy with `CONNECT` (RFC 9110 §9.3.6), the way WebSocket
 * clients cross proxies (RFC 6455 §4.1 item 2 note).
 * @module
 */
import { isIPv6, type Socket } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { serializeRequestHead } from '@wsflow/codec';
import { dialTcp, dialTls, type SocketTracker } from './dial.ts';
import { ProxyError } from './proxy_error.ts';
import { readResponseHead } from './read_head.ts';

/** Options of {@link openTunnel}. */
export interface TunnelOptions {
  /** TLS settings for an `https:` proxy (the connection to the proxy itself). */
  proxyTls?: TlsConnectionOptions;
  /** Told of each socket opened, so a timeout can destroy it. */
  track?: SocketTracker;
}

/**
 * `host:port` as a CONNECT target and `Host` value (RFC 9110 §9.3.6 authority-form), IPv6
 * literals in brackets.
 * @example
 * ```ts
 * authorityOf('example.com', 443); // 'example.com:443'
 * authorityOf('::1', 8080);        // '[::1]:8080'
 * ```
 */
export function authorityOf(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The `Proxy-Authorization` value for a proxy URL's credentials (RFC 7617 Basic, UTF-8). */
function basicCredentials(proxy: URL): string {
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
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
  const proxyHost = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = proxy.protocol === 'https:';
  const proxyPort = proxy.port === '' ? (secure ? 443 : 80) : Number(proxy.port);
  const socket = secure
    ? await dialTls({ ...options.proxyTls, host: proxyHost, port: proxyPort, servername: isIPv6(proxyHost) || /^[\d.]+$/.test(proxyHost) ? undefined : proxyHost }, track)
    : await dialTcp(proxyHost, proxyPort, track);

  const authority = authorityOf(host, port);
  const headers: Array<[string, string]> = [['Host', authority]];
  if (proxy.username !== '' || proxy.password !== '') headers.push(['Proxy-Authorization', basicCredentials(proxy)]);
  socket.write(serializeRequestHead({ method: 'CONNECT', target: authority, headers }), 'latin1');

  const { head, rest } = await readResponseHead(socket);
  if (head.status < 200 || head.status > 299) {
    socket.destroy();
    throw new ProxyError(head.status, `The proxy refused to open a tunnel to ${authority}: ${head.status} ${head.reason}`.trimEnd());
  }
  if (rest.length > 0) {
    socket.destroy();
    throw new ProxyError(0, 'The proxy sent bytes after its CONNECT response, before the request');
  }
  return socket;
}
