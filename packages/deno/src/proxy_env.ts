/**
 * Proxy selection from Deno's environment; the rules live in `@wsflow/codec`. Variables
 * are read only where `--allow-env` (or `--allow-env=HTTPS_PROXY,…`) grants them, so the
 * client never triggers a permission prompt.
 * @module
 */
import { proxyFromEnvironment as fromEnvironment, type ProxyEnvironment } from '@wsflow/engine';

/** The variables proxy selection reads, in both spellings (lower case wins, as in curl), and REQUEST_METHOD (CGI: HTTP_PROXY is then ignored). */
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY', 'REQUEST_METHOD'] as const;

/**
 * The proxy variables of Deno's environment that this process may read; one it may not
 * read counts as unset.
 * @example
 * ```ts
 * denoProxyEnvironment(); // { HTTPS_PROXY: 'http://proxy:3128' } under --allow-env
 * ```
 */
export function denoProxyEnvironment(): ProxyEnvironment {
  const env: Record<string, string> = {};
  for (const variable of PROXY_VARIABLES) {
    try {
      if (Deno.permissions.querySync({ name: 'env', variable }).state !== 'granted') continue;
      const value = Deno.env.get(variable);
      if (value !== undefined) env[variable] = value;
    } catch {
      /* not readable: unset */
    }
  }
  return env;
}

/**
 * The proxy for a WebSocket URL according to `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` in
 * `env` (default: Deno's environment, see {@link denoProxyEnvironment}), or `null` for a
 * direct connection.
 * @example
 * ```ts
 * proxyFromEnvironment(new URL('wss://example.com/'), { HTTPS_PROXY: 'http://proxy:3128' });
 * ```
 */
export function proxyFromEnvironment(url: URL, env: ProxyEnvironment = denoProxyEnvironment()): URL | null {
  return fromEnvironment(url, env);
}
