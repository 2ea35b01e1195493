/**
 * A tunnel through an HTTP proxy with `CONNECT` (RFC 9110 §9.3.6), the way WebSocket
 * clients cross proxies (RFC 6455 §4.1 item 2 note).
 * @module
 */
import { encodeUtf8, serializeRequestHead } from '@wsflow/codec';
import type { BunTlsOptions } from './bun_types.ts';
import { dial, type TransportTracker } from './dial.ts';
import { HeadReader } from './head_reader.ts';
import { ProxyError } from './proxy_error.ts';
import { IGNORE_RECEIVER, type BunSocketTransport } from './socket_transport.ts';

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
 * `host:port` as a CONNECT target and `Host` value (RFC 9110 §9.3.6 authority-form), IPv6
 * literals in brackets.
 * @example
 * ```ts
 * authorityOf('example.com', 443); // 'example.com:443'
 * authorityOf('::1', 8080);        // '[::1]:8080'
 * ```
 */
export function authorityOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether a host is an IP literal (SNI carries host names only, RFC 6066 §3). */
export function isIpLiteral(host: string): boolean {
  return host.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/** base64 of bytes, without Node's Buffer. */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The `Proxy-Authorization` value for a proxy URL's credentials (RFC 7617 Basic, UTF-8). */
function basicCredentials(proxy: URL): string {
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${base64(encodeUtf8(`${user}:${password}`))}`;
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
  const proxyHost = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = proxy.protocol === 'https:';
  const proxyPort = proxy.port === '' ? (secure ? 443 : 80) : Number(proxy.port);
  const tls: BunTlsOptions | undefined = secure ? { ...options.proxyTls } : undefined;
  if (tls !== undefined && tls.serverName === undefined && !isIpLiteral(proxyHost)) tls.serverName = proxyHost;
  const transport = await dial(proxyHost, proxyPort, tls, track);

  const authority = authorityOf(host, port);
  const headers: Array<[string, string]> = [['Host', authority]];
  if (proxy.username !== '' || proxy.password !== '') headers.push(['Proxy-Authorization', basicCredentials(proxy)]);
  const reader = new HeadReader(transport, 'response', { maxHeadSize: options.maxHeadSize });
  transport.write(encodeUtf8(serializeRequestHead({ method: 'CONNECT', target: authority, headers })));

  const { head } = await reader.head;
  if (head.status < 200 || head.status > 299) {
    transport.destroy();
    throw new ProxyError(head.status, `The proxy refused to open a tunnel to ${authority}: ${head.status} ${head.reason}`.trimEnd());
  }
  if (reader.takeBuffered().length > 0) {
    transport.destroy();
    throw new ProxyError(0, 'The proxy sent bytes after its CONNECT response, before the request');
  }
  // Held (not reading) until the next reader takes over.
  transport.receiver = IGNORE_RECEIVER;
  return transport;
}
