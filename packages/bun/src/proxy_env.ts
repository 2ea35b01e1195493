/**
 * Proxy selection from Bun's environment; the rules live in `@wsflow/codec`.
 * @module
 */
import { proxyFromEnvironment as fromEnvironment, type ProxyEnvironment } from '@wsflow/engine';
import { bunRuntime } from './bun_types.ts';

/**
 * The proxy for a WebSocket URL according to `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` in
 * `env` (default `Bun.env`), or `null` for a direct connection.
 * @example
 * ```ts
 * proxyFromEnvironment(new URL('wss://example.com/'), { HTTPS_PROXY: 'http://proxy:3128' });
 * ```
 */
export function proxyFromEnvironment(url: URL, env: ProxyEnvironment = bunRuntime().env): URL | null {
  return fromEnvironment(url, env);
}
