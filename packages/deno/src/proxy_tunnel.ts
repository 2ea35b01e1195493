/**
 * A tunnel through an HTTP proxy with `CONNECT` over `Deno.connect`/`Deno.connectTls`: the
 * dialing and the bytes are Deno's; the request and the check of the answer are the
 * codec's (`connectRequest`, `checkConnectResponse`).
 * @module
 */
import { checkConnectResponse, connectRequest, proxyEndpoint } from '@wsflow/codec';
import { writeAll } from './write_all.ts';
import { readHead } from './read_head.ts';

export { authorityOf } from '@wsflow/codec';

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
  const { host: hostname, port: proxyPort, secure } = proxyEndpoint(proxy);
  const conn: Deno.Conn = await (secure
    ? Deno.connectTls({ hostname, port: proxyPort, caCerts: options.proxyCaCerts })
    : Deno.connect({ hostname, port: proxyPort, signal: options.signal }));
  options.track?.(conn);

  const request = connectRequest(proxy, host, port);
  await writeAll(conn, new TextEncoder().encode(request.head));
  const { head, rest } = await readHead(conn, 'response');
  try {
    checkConnectResponse(head, rest.length, request.authority);
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}
