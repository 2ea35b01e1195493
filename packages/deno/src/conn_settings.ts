/**
 * Deno conn settings the shim applies to every socket it hands the engines.
 * @module
 */

/**
 * Turns off Nagle's algorithm on a TCP conn: frames are whole when written, so delaying
 * them would only add latency. (A TLS conn does not expose the option.)
 */
export function setNoDelay(conn: Deno.Conn): void {
  const tcp = conn as Partial<Deno.TcpConn>;
  try {
    tcp.setNoDelay?.(true);
  } catch {
    /* closed already: the read will tell */
  }
}
