/**
 * The error of a proxy that refused to open a tunnel.
 * @module
 */

/**
 * An HTTP proxy answered `CONNECT` with something other than 2xx (407: it wants
 * credentials; 403: the target is not allowed; 502: it could not reach the target).
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
