/**
 * Which HTTP proxy a WebSocket URL goes through, by the conventional environment
 * variables: `HTTPS_PROXY` for `wss:`, `HTTP_PROXY` for `ws:`, and `NO_PROXY` exceptions
 * (each in lower or upper case; lower case wins, as in curl).
 * @module
 */

/** Environment variables, as `process.env` or `Deno.env.toObject()`. */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

function variable(env: ProxyEnvironment, name: string): string | undefined {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The port a URL connects to, with the default of its scheme. */
function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'wss:' || url.protocol === 'https:' ? 443 : 80;
}

/** Splits a `NO_PROXY` entry into host and optional port: `host`, `host:port`, `[v6]:port`, bare v6. */
function splitEntry(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1], port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && entry.indexOf(':') === colon && /^\d+$/.test(entry.slice(colon + 1))) {
    return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
  }
  return { host: entry, port: undefined };
}

/**
 * Whether `NO_PROXY` exempts a URL. Entries are separated by commas or whitespace and
 * compared case-insensitively: `*` exempts everything; `example.com` or `.example.com`
 * (or `*.example.com`) exempt that host and its subdomains; `host:port` only that port;
 * IP literals match exactly (IPv6 with or without brackets). CIDR ranges are not supported.
 *
 * @example
 * ```ts
 * isProxyExempt(new URL('ws://api.example.com/'), '.example.com'); // true
 * isProxyExempt(new URL('ws://localhost:8080/'), 'localhost:9090'); // false
 * ```
 */
export function isProxyExempt(url: URL, noProxy: string): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = effectivePort(url);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const split = splitEntry(entry);
    if (split.port !== undefined && split.port !== port) continue;
    const name = split.host.replace(/^\*?\./, '');
    if (name === '') continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * The proxy for a WebSocket URL according to the environment, or `null` for a direct
 * connection: `https_proxy`/`HTTPS_PROXY` for `wss:`, `http_proxy`/`HTTP_PROXY` for `ws:`,
 * unless `no_proxy`/`NO_PROXY` exempts the host. A value without a scheme is taken as
 * `http://`.
 *
 * @throws {TypeError} when the variable is not a valid `http:` or `https:` URL.
 * @example
 * ```ts
 * proxyFromEnvironment(new URL('wss://example.com/'), { HTTPS_PROXY: 'http://proxy:3128' });
 * // URL { href: 'http://proxy:3128/' }
 * ```
 */
export function proxyFromEnvironment(url: URL, env: ProxyEnvironment): URL | null {
  const value = variable(env, url.protocol === 'wss:' ? 'https_proxy' : 'http_proxy');
  if (value === undefined) return null;
  const noProxy = variable(env, 'no_proxy');
  if (noProxy !== undefined && isProxyExempt(url, noProxy)) return null;
  return parseProxyUrl(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
}

/**
 * Parses a proxy URL: `http://[user:pass@]host[:port]` (or `https://` for TLS to the proxy).
 * @throws {TypeError} for an invalid URL or another scheme (the message never repeats the
 *   URL, which may hold a password).
 * @example
 * ```ts
 * parseProxyUrl('http://user:secret@proxy.internal:3128').port; // '3128'
 * parseProxyUrl('socks5://proxy:1080');                         // throws TypeError
 * ```
 */
export function parseProxyUrl(proxy: string | URL): URL {
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    // The value may hold a password: it stays out of the message.
    throw new TypeError('Invalid proxy URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`A proxy URL must use http: or https:, not ${url.protocol}`);
  }
  return url;
}
