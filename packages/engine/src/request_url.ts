/**
 * The one way a server turns a request head into the URL its hooks and handlers see, on
 * every runtime.
 * @module
 */
import { HandshakeError, headersOf, isValidHost, type RequestHead } from '@wsflow/codec';

/** The scheme of the URL: `ws:`/`wss:` for upgrades, `http:`/`https:` for plain HTTP. */
export type UrlScheme = 'http' | 'https' | 'ws' | 'wss';

/**
 * The request's URL (RFC 9112 §3.3). An origin-form target (`/chat?room=1`) is resolved
 * against the `Host` field, which must be a valid `uri-host [":" port]` (a `Host` holding
 * `/`, `?`, `#`, `@` or whitespace would move the path or the query); without a `Host`,
 * against the listener's own `authority`. An absolute-form target
 * (`http://example.com/chat`) gives its own authority, path and query (RFC 9112 §3.2.2:
 * the `Host` field is then ignored). The scheme is always the listener's.
 *
 * @throws {HandshakeError} `BAD_HOST` (400) for an invalid `Host`; `BAD_TARGET` (400) for a
 *   target in authority-form or asterisk-form, or one that forms no URL
 * @example
 * ```ts
 * requestUrl(head, 'ws', '127.0.0.1:8080').href; // 'ws://example.com/chat?room=1'
 * ```
 */
export function requestUrl(head: RequestHead, scheme: UrlScheme, authority: string): URL {
  const target = head.target;
  if (target.startsWith('/')) {
    const host = head.headers.get('host');
    if (host !== undefined && host !== '' && !isValidHost(host)) {
      throw new HandshakeError('BAD_HOST', 'The Host field is not a valid host and port', 400);
    }
    try {
      return new URL(`${scheme}://${host === undefined || host === '' ? authority : host}${target}`);
    } catch {
      throw new HandshakeError('BAD_TARGET', 'The request target does not form a URL', 400);
    }
  }
  let absolute: URL;
  try {
    absolute = new URL(target);
  } catch {
    throw new HandshakeError('BAD_TARGET', 'The request target is neither a path nor an absolute URL', 400);
  }
  if (absolute.host === '' || absolute.username !== '' || absolute.password !== '' || !/^(?:https?|wss?):$/.test(absolute.protocol)) {
    throw new HandshakeError('BAD_TARGET', 'An absolute request target must be an http(s) or ws(s) URL with a host and no user info', 400);
  }
  return new URL(`${scheme}://${absolute.host}${absolute.pathname}${absolute.search}`);
}

/**
 * A WHATWG `Request` for the head (with its body, for plain HTTP), with the URL of
 * {@link requestUrl} under an `http:`/`https:` scheme, as `Deno.serve` and `Bun.serve`
 * hand to their handlers.
 *
 * @throws {HandshakeError} as {@link requestUrl}; `BAD_METHOD` (400) for a method WHATWG
 *   refuses (`CONNECT`, `TRACE`, `TRACK`)
 * @example
 * ```ts
 * const request = requestOf(head, false, '127.0.0.1:8080');
 * request.headers.get('upgrade'); // 'websocket'
 * ```
 */
export function requestOf(head: RequestHead, secure: boolean, authority: string, body?: Uint8Array): Request {
  const url = requestUrl(head, secure ? 'https' : 'http', authority);
  const init: RequestInit = { method: head.method, headers: headersOf(head.rawHeaders) };
  if (body !== undefined && body.length > 0 && head.method !== 'GET' && head.method !== 'HEAD') init.body = body as Uint8Array<ArrayBuffer>;
  try {
    return new Request(url, init);
  } catch {
    throw new HandshakeError('BAD_METHOD', `Method ${JSON.stringify(head.method)} is not served`, 400);
  }
}
