/**
 * A tunnel through an HTTP proxy with `CONNECT` (RFC 9110 §9.3.6), the way WebSocket
 * clients cross proxies (RFC 6455 §4.1 item 2 note), over `Deno.connect`/`Deno.connectTls`.
 * @module
 */
import { serializeRequestHead } from '@wsflow/codec';
import { writeAll } from './http_answer.ts';
import { ProxyError } from './proxy_error.ts';
import { readHead } from './read_head.ts';

/** Receives each conn opened, the moment it exists, so a timeout or abort can close it. */
export type ConnTracker = (conn: Deno.Conn) => void;

/** Options of {@link openTunnel}. */
export interface TunnelOptions {
  /** Extra trusted CA certificates (PEM) for an `https:` proxy. */
  proxyCaCerts?: string[];
  /** Told of each conn opened. */
  track?: ConnTracker;
  /** Aborts dialing the proxy (TCP only: `Deno.connectTls` takes no signal). */
  signal?: AbortSignal;
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

/** The `Proxy-Authorization` value for a proxy URL's credentials (RFC 7617 Basic, UTF-8). */
function basicCredentials(proxy: URL): string {
  const bytes = new TextEncoder().encode(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/**
 * Opens a TCP (or, for an `https:` proxy, TLS) connection to `proxy`, asks it to
 * `CONNECT` to `host:port` (with Basic credentials from the proxy URL's user info), and
 * resolves with the conn once the proxy answers 2xx: from then on it carries the target's
 * bytes. Start TLS on it (`Deno.startTls`) for `wss:` — possible over a TCP conn only.
 *
 * @throws {ProxyError} when the proxy answers another status, or sends bytes after its
 *   answer (the target cannot have spoken yet).
 * @example
 * ```ts
 * const conn = await openTunnel(new URL('http://user:pw@proxy:3128'), 'example.com', 443);
 * const secure = await Deno.startTls(conn as Deno.TcpConn, { hostname: 'example.com' });
 * ```
 */
export async function openTunnel(proxy: URL, host: string, port: number, options: TunnelOptions = {}): Promise<Deno.Conn> {
  const proxyHost = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = proxy.protocol === 'https:';
  const proxyPort = proxy.port === '' ? (secure ? 443 : 80) : Number(proxy.port);
  const dialing = secure
    ? Deno.connectTls({ hostname: proxyHost, port: proxyPort, caCerts: options.proxyCaCerts })
    : Deno.connect({ hostname: proxyHost, port: proxyPort, signal: options.signal });
  const conn: Deno.Conn = await dialing;
  options.track?.(conn);

  const authority = authorityOf(host, port);
  const headers: Array<[string, string]> = [['Host', authority]];
  if (proxy.username !== '' || proxy.password !== '') headers.push(['Proxy-Authorization', basicCredentials(proxy)]);
  await writeAll(conn, new TextEncoder().encode(serializeRequestHead({ method: 'CONNECT', target: authority, headers })));

  const { head, rest } = await readHead(conn, 'response');
  if (head.status < 200 || head.status > 299) {
    conn.close();
    throw new ProxyError(head.status, `The proxy refused to open a tunnel to ${authority}: ${head.status} ${head.reason}`.trimEnd());
  }
  if (rest.length > 0) {
    conn.close();
    throw new ProxyError(0, 'The proxy sent bytes after its CONNECT response, before the request');
  }
  return conn;
}
