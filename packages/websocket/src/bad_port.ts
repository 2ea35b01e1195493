/**
 * Port blocking (Fetch Standard, "Port blocking"): the ports a user agent refuses to
 * fetch from, because a cross-protocol request to them could be abused.
 *
 * The WebSockets Standard establishes a connection through Fetch with the URL's scheme
 * set to `http`/`https`, so a `ws:`/`wss:` URL on a bad port makes the fetch return a
 * network error, which fails the WebSocket connection: the constructor does not throw,
 * the `WebSocket` fires `error` then `close` (1006). (An older version of the HTML
 * Standard threw a "SecurityError" from the constructor; the current text does not.)
 * @module
 */

/** Fetch Standard, "bad port": the table's first column. */
const BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * Whether a port is a bad port (Fetch Standard).
 *
 * @example
 * ```ts
 * isBadPort(25);   // true (smtp)
 * isBadPort(8080); // false
 * ```
 */
export function isBadPort(port: number): boolean {
  return BAD_PORTS.has(port);
}

/**
 * Fetch's "should request be blocked due to a bad port" for a WebSocket URL: its port,
 * when it has one (a default port is null, never bad), is a bad port.
 *
 * @example
 * ```ts
 * isBlockedPort(new URL('ws://example.com:6667/')); // true (irc)
 * isBlockedPort(new URL('wss://example.com/'));     // false (443)
 * ```
 */
export function isBlockedPort(url: URL): boolean {
  return url.port !== '' && isBadPort(Number(url.port));
}
