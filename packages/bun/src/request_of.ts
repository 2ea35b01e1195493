/**
 * A parsed request head as the WHATWG `Request` that handlers and hooks see (what
 * `Bun.serve` would hand them: an `http:`/`https:` URL, the header fields, no body).
 * @module
 */
import { headersOf, type RequestHead } from '@wsflow/codec';

/**
 * The URL a request head asks for: its `Host` and target under `http:`/`https:` (or
 * `ws:`/`wss:` with `scheme`), falling back to `authority` when `Host` is missing or invalid.
 * @example
 * ```ts
 * urlOf(head, 'ws', '127.0.0.1:8080').href; // 'ws://example.com/chat?room=1'
 * ```
 */
export function urlOf(head: RequestHead, scheme: 'http' | 'https' | 'ws' | 'wss', authority: string): URL {
  const target = head.target.startsWith('/') ? head.target : '/';
  const host = head.headers.get('host');
  if (host !== undefined && host !== '') {
    try {
      const url = new URL(`${scheme}://${host}${target}`);
      if (url.host !== '') return url;
    } catch {
      /* an invalid Host: use the listener's address */
    }
  }
  try {
    return new URL(`${scheme}://${authority}${target}`);
  } catch {
    return new URL(`${scheme}://${authority}/`);
  }
}

/**
 * The WHATWG `Request` for a parsed head (`GET` upgrade requests and the plain HTTP requests
 * of the `fetch` fallback alike).
 * @example
 * ```ts
 * const request = requestOf(head, false, '127.0.0.1:8080');
 * new URL(request.url).pathname; // '/chat'
 * ```
 */
export function requestOf(head: RequestHead, secure: boolean, authority: string, body?: Uint8Array): Request {
  const init: RequestInit = { method: head.method, headers: headersOf(head.rawHeaders) };
  if (body !== undefined && body.length > 0 && head.method !== 'GET' && head.method !== 'HEAD') init.body = body as Uint8Array<ArrayBuffer>;
  return new Request(urlOf(head, secure ? 'https' : 'http', authority), init);
}
