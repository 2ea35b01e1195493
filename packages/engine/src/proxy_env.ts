/**
 * Which HTTP proxy a WebSocket URL goes through, by the conventional environment
 * variables: `HTTPS_PROXY` for `wss:`, `HTTP_PROXY` for `ws:`, and `NO_PROXY` exceptions
 * (each in lower or upper case; lower case wins, as in curl; in a CGI environment the
 * uppercase `HTTP_PROXY` is ignored, since a request can set it: "httpoxy").
 * @module
 */

/** Environment variables, as `process.env` or `Deno.env.toObject()`. */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

function variable(env: ProxyEnvironment, name: string): string | undefined {
  const lower = env[name.toLowerCase()];
  // "httpoxy": a CGI server passes a request's `Proxy:` header as HTTP_PROXY, so there the
  // uppercase name is the client's to set; only the lowercase one is read (as curl and Go do).
  const value = lower ?? (name.toLowerCase() === 'http_proxy' && isCgi(env) ? undefined : env[name.toUpperCase()]);
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Whether the process runs as a CGI script: the CGI server sets `REQUEST_METHOD` (RFC 3875 §4.1.12). */
function isCgi(env: ProxyEnvironment): boolean {
  const method = env.REQUEST_METHOD;
  return method !== undefined && method !== '';
}

/** The port a URL connects to, with the default of its scheme. */
function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'wss:' || url.protocol === 'https:' ? 443 : 80;
}

/** Splits a `NO_PROXY` entry into host and optional port: `host`, `host:port`, `[v6]:port`, bare v6. */
function splitEntry(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]*)\](\/\d+)?(?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1] + (bracketed[2] ?? ''), port: bracketed[3] === undefined ? undefined : Number(bracketed[3]) };
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && entry.indexOf(':') === colon && /^\d+$/.test(entry.slice(colon + 1))) {
    return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
  }
  return { host: entry, port: undefined };
}

/** An IP address as its octets: 4 for IPv4, 16 for IPv6. */
type IpOctets = Uint8Array;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The octets of a dotted-quad IPv4 address (each part 0–255), or null. */
function ipv4Octets(text: string): IpOctets | null {
  const m = IPV4.exec(text);
  if (m === null) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? Uint8Array.from(parts) : null;
}

/**
 * The octets of an IPv6 address in any spelling (`0:0:0:0:0:0:0:1`, `::1`, with an IPv4
 * tail, any case), or null. The URL parser does the reading: its serialisation is the
 * canonical one (RFC 5952 compression, hex pieces only), which is then expanded.
 */
function ipv6Octets(text: string): IpOctets | null {
  if (!/^[0-9a-f:.]+$/i.test(text) || !text.includes(':')) return null;
  let canonical: string;
  try {
    canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  return canonicalIpv6Octets(canonical);
}

/** Expands a canonical IPv6 serialisation (hex pieces, at most one `::`). */
function canonicalIpv6Octets(canonical: string): IpOctets {
  const [head, tail] = canonical.split('::') as [string, string | undefined];
  const pieces = (part: string): number[] => (part === '' ? [] : part.split(':').map((piece) => parseInt(piece, 16)));
  const first = pieces(head);
  const last = tail === undefined ? [] : pieces(tail);
  const all = [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
  const out = new Uint8Array(16);
  all.forEach((piece, i) => {
    out[2 * i] = piece >> 8;
    out[2 * i + 1] = piece & 0xff;
  });
  return out;
}

/** The octets of a URL's host when it is an IP address (the URL parser has made it canonical), else null. */
function hostOctets(hostname: string): IpOctets | null {
  if (hostname.startsWith('[')) return canonicalIpv6Octets(hostname.slice(1, -1).toLowerCase());
  return ipv4Octets(hostname);
}

/** Whether the first `bits` bits of two addresses of the same family are equal. */
function samePrefix(a: IpOctets, b: IpOctets, bits: number): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (a[i] !== b[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (a[i] & mask) === (b[i] & mask);
}

/** An IP entry (`addr` or `addr/bits`) as a prefix, or null when the entry is not an IP address. */
function ipEntry(host: string): { octets: IpOctets; bits: number } | null {
  const slash = host.indexOf('/');
  const address = slash === -1 ? host : host.slice(0, slash);
  const octets = ipv4Octets(address) ?? ipv6Octets(address);
  if (octets === null) return null;
  const max = octets.length * 8;
  if (slash === -1) return { octets, bits: max };
  const bitsText = host.slice(slash + 1);
  // A bad prefix length makes the entry match nothing (never everything).
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  return { octets, bits: bits <= max ? bits : -1 };
}

/**
 * A host name as compared: ASCII (IDN names in their punycode form, as the URL parser
 * writes them), lower case, without the trailing dot of a fully qualified name; null when
 * it is no valid host.
 */
function asciiName(name: string): string | null {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '' || bare.includes('/')) return null;
  try {
    return new URL(`http://${bare}/`).hostname;
  } catch {
    return null;
  }
}

/**
 * Whether `NO_PROXY` exempts a URL. Entries are separated by commas or whitespace:
 * - `*` exempts everything;
 * - a name, `example.com` or `.example.com` (or `*.example.com`), exempts that host and
 *   its subdomains. Names compare in ASCII (an IDN entry matches the punycode host),
 *   case-insensitively and without a trailing dot (`example.com.` is `example.com`);
 * - an IP address exempts that address only, however spelled (`0:0:0:0:0:0:0:1` is
 *   `::1`; IPv6 with or without brackets), and `addr/bits` (CIDR) the addresses it covers.
 *   An IP host is matched by IP entries only, never by a name suffix: `.0.0.1` does not
 *   exempt `127.0.0.1`, as in curl;
 * - `host:port` (`[v6]:port`) only that port.
 * Host names are not resolved: `localhost` does not exempt `127.0.0.1`.
 *
 * @example
 * ```ts
 * isProxyExempt(new URL('ws://api.example.com/'), '.example.com'); // true
 * isProxyExempt(new URL('ws://localhost:8080/'), 'localhost:9090'); // false
 * isProxyExempt(new URL('ws://10.1.2.3/'), '10.0.0.0/8');          // true
 * isProxyExempt(new URL('ws://127.0.0.1/'), '.0.0.1');             // false
 * ```
 */
export function isProxyExempt(url: URL, noProxy: string): boolean {
  const hostname = url.hostname.toLowerCase();
  const ip = hostOctets(hostname);
  const host = ip === null ? (hostname.endsWith('.') ? hostname.slice(0, -1) : hostname) : '';
  const port = effectivePort(url);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const split = splitEntry(entry);
    if (split.port !== undefined && split.port !== port) continue;
    const range = ipEntry(split.host);
    if (range !== null) {
      if (ip !== null && range.bits >= 0 && samePrefix(ip, range.octets, range.bits)) return true;
      continue;
    }
    if (ip !== null) continue;
    const name = asciiName(split.host.replace(/^\*?\./, ''));
    if (name === null) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * The proxy for a WebSocket URL according to the environment, or `null` for a direct
 * connection: `https_proxy`/`HTTPS_PROXY` for `wss:`, `http_proxy`/`HTTP_PROXY` for `ws:`,
 * unless `no_proxy`/`NO_PROXY` exempts the host (see {@link isProxyExempt}). A value without
 * a scheme is taken as `http://`. When `REQUEST_METHOD` is set (the process is a CGI script),
 * uppercase `HTTP_PROXY` is ignored: a CGI server puts the request's `Proxy:` header there.
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
