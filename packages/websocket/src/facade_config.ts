/**
 * The settings a `WebSocket` or `WebSocketStream` class is made with: its dialer, the base
 * URL of relative URLs, the `Origin` it sends and port blocking.
 * @module
 */
import type { Dialer } from './dialer.ts';
import { defaultNetwork } from './memory_network.ts';
import { defaultBaseURL } from './websocket_url.ts';

/** How a class made by `createWebSocketClass` or `createWebSocketStreamClass` connects. */
export interface FacadeOptions {
  /** Opens connections (a runtime's TCP/TLS dialer, or an in-memory network's). */
  dialer: Dialer;
  /**
   * The "API base URL" relative URLs resolve against: a URL, or a function read at each
   * construction. Default: `location.href` where the runtime has one, else none (a
   * relative URL is then a `SyntaxError`).
   */
  baseURL?: string | URL | (() => string | URL | undefined);
  /** The `Origin` the dialer sends. Default: the origin of the base URL, if any. */
  origin?: string | (() => string | undefined);
  /**
   * Fetch's port blocking: a URL on a "bad port" (25, 6667, …) fails the connection
   * (error, then close 1006) without dialing, as in browsers. Default true.
   */
  blockBadPorts?: boolean;
}

/** {@link FacadeOptions} with the defaults applied. */
export interface FacadeConfig {
  dialer: Dialer;
  baseURL: () => string | URL | undefined;
  origin: (base: string | URL | undefined) => string | undefined;
  blockBadPorts: boolean;
}

/** The origin of a base URL, serialized; none for an opaque origin. */
function originOf(base: string | URL | undefined): string | undefined {
  if (base === undefined) return undefined;
  try {
    const origin = new URL(base).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * Applies the defaults to {@link FacadeOptions}.
 * @throws {TypeError} when `dialer` is not a function
 */
export function resolveFacadeConfig(options: FacadeOptions): FacadeConfig {
  if (typeof options?.dialer !== 'function') throw new TypeError('options.dialer must be a function');
  const { baseURL, origin } = options;
  return {
    dialer: options.dialer,
    baseURL: typeof baseURL === 'function' ? baseURL : baseURL === undefined ? defaultBaseURL : () => baseURL,
    origin: typeof origin === 'function' ? () => origin() : origin === undefined ? originOf : () => origin,
    blockBadPorts: options.blockBadPorts ?? true,
  };
}

/** The package's own classes: they dial the default in-memory network. */
export const DEFAULT_FACADE_OPTIONS: FacadeOptions = { dialer: (request) => defaultNetwork.dialer(request) };
