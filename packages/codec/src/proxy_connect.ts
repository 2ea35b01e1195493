/**
 * The protocol of a tunnel through an HTTP proxy with `CONNECT` (RFC 9110 §9.3.6), the way
 * WebSocket clients cross proxies (RFC 6455 §4.1 item 2 note): where the proxy is, the
 * request to send it, and what its answer must be. Sans-I/O: a shim dials, writes the
 * request, reads the response head with `HttpHeadParser` and checks it here.
 * @module
 */
import type { ResponseHead } from './http_head.ts';
import { serializeRequestHead } from './http_head.ts';
import { basicCredentials } from './basic_credentials.ts';

/**
 * An HTTP proxy answered `CONNECT` with something other than 2xx (407: it wants
 * credentials; 403: the target is not allowed; 502: it could not reach the target), or
 * answered in a way no tunnel can follow.
 *
 * @example
 * ```ts
 * try { await connect('wss://example.com/', { proxy: 'http://proxy:3128' }); }
 * catch (e) { if (e instanceof ProxyError && e.status === 407) askForCredentials(); }
 * ```
 */
export class ProxyError extends Error {
  /** The proxy's status code, or 0 when its answer was not a valid tunnel. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ProxyError';
    this.status = status;
  }
}

/**
 * Whether a host (as a URL's `hostname`, IPv6 without brackets) is an IP literal rather than
 * a name: TLS SNI carries names only (RFC 6066 §3).
 * @example
 * ```ts
 * isIpLiteral('10.0.0.1'); // true
 * isIpLiteral('::1');      // true
 * isIpLiteral('proxy');    // false
 * ```
 */
export function isIpLiteral(host: string): boolean {
  return host.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
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

/** Where a proxy listens, as a shim dials it. */
export interface ProxyEndpoint {
  /** The host to dial (an IPv6 literal without brackets). */
  host: string;
  /** The port: the URL's, else 443 for `https:` and 80 for `http:`. */
  port: number;
  /** Whether to speak TLS to the proxy itself (an `https:` proxy URL). */
  secure: boolean;
  /** The TLS SNI name for a secure proxy: its host, or none for an IP literal. */
  serverName: string | undefined;
}

/**
 * Where to dial a proxy given by URL.
 * @example
 * ```ts
 * proxyEndpoint(new URL('https://proxy.internal')); // { host: 'proxy.internal', port: 443, secure: true, serverName: 'proxy.internal' }
 * ```
 */
export function proxyEndpoint(proxy: URL): ProxyEndpoint {
  const host = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = proxy.protocol === 'https:';
  const port = proxy.port === '' ? (secure ? 443 : 80) : Number(proxy.port);
  return { host, port, secure, serverName: isIpLiteral(host) ? undefined : host };
}

/**
 * The `Proxy-Authorization` value for a proxy URL's user info (RFC 7617 Basic, the
 * percent-decoded `user:password` in UTF-8), or `undefined` when it has none.
 * @example
 * ```ts
 * proxyAuthorization(new URL('http://user:p%40ss@proxy:3128')); // 'Basic dXNlcjpwQHNz'
 * ```
 */
export function proxyAuthorization(proxy: URL): string | undefined {
  return basicCredentials(proxy);
}

/** A CONNECT request to write to a proxy. */
export interface ConnectRequest {
  /** The target as `host:port` (for messages). */
  authority: string;
  /** The request head, ending in CRLF CRLF (ASCII: encode it as is). */
  head: string;
}

/**
 * The CONNECT request asking `proxy` for a tunnel to `host:port`: `Host` set to the target,
 * with Basic `Proxy-Authorization` from the proxy URL's user info.
 * @example
 * ```ts
 * connectRequest(new URL('http://proxy:3128'), 'example.com', 443).head;
 * // 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
 * ```
 */
export function connectRequest(proxy: URL, host: string, port: number): ConnectRequest {
  const authority = authorityOf(host, port);
  const headers: Array<[string, string]> = [['Host', authority]];
  const credentials = proxyAuthorization(proxy);
  if (credentials !== undefined) headers.push(['Proxy-Authorization', credentials]);
  return { authority, head: serializeRequestHead({ method: 'CONNECT', target: authority, headers }) };
}

/**
 * Checks the proxy's answer to a CONNECT: a 2xx, and nothing after it (the target cannot
 * have spoken before the client's request).
 *
 * @param extraBytes how many bytes arrived after the response head
 * @throws {ProxyError} with the proxy's status for another status; with 0 for early bytes
 * @example
 * ```ts
 * const { head, rest } = await readResponseHead(socket);
 * checkConnectResponse(head, rest.length, request.authority);
 * ```
 */
export function checkConnectResponse(head: ResponseHead, extraBytes: number, authority: string): void {
  if (head.status < 200 || head.status > 299) {
    throw new ProxyError(head.status, `The proxy refused to open a tunnel to ${authority}: ${head.status} ${head.reason}`.trimEnd());
  }
  if (extraBytes > 0) throw new ProxyError(0, 'The proxy sent bytes after its CONNECT response, before the request');
}
