/**
 * A WHATWG `Request` made from a parsed HTTP/1.1 request head, the way `Deno.serve` hands
 * requests to its handler: what the upgrade hooks and the plain-HTTP fallback receive.
 * @module
 */
import { HandshakeError, headersOf, type RequestHead } from '@wsflow/codec';

/**
 * The request's URL: the request-target resolved against the `Host` the client sent, with
 * the scheme of the listener (`http:`/`https:`, or `ws:`/`wss:` for an upgrade).
 *
 * @throws {HandshakeError} `MALFORMED_HEAD` (400) when no valid URL results
 * @example
 * ```ts
 * urlOfHead(head, 'ws:').href; // 'ws://127.0.0.1:8080/chat?room=1'
 * ```
 */
export function urlOfHead(head: RequestHead, scheme: 'http:' | 'https:' | 'ws:' | 'wss:'): URL {
  const host = head.headers.get('host') ?? '';
  try {
    const url = new URL(head.target, `${scheme}//${host === '' ? 'localhost' : host}`);
    // An absolute-form target keeps its own authority, but not its own scheme.
    if (url.protocol !== scheme) url.protocol = scheme;
    return url;
  } catch {
    throw new HandshakeError('MALFORMED_HEAD', 'The request target and Host do not form a valid URL', 400);
  }
}

/**
 * The head's fields as WHATWG `Headers` (repeated fields kept, in order); see the codec's
 * `headersOf`.
 * @example
 * ```ts
 * headersOfHead(head).get('sec-websocket-protocol'); // 'chat, superchat'
 * ```
 */
export function headersOfHead(head: RequestHead): Headers {
  return headersOf(head.rawHeaders);
}

/**
 * Builds a `Request` from a head (and, for a plain HTTP request, its body).
 *
 * @throws {HandshakeError} `MALFORMED_HEAD` (400) for an unusable URL or method
 * @example
 * ```ts
 * const request = requestOfHead(head, 'http:');
 * request.method; // 'GET'
 * ```
 */
export function requestOfHead(head: RequestHead, scheme: 'http:' | 'https:' | 'ws:' | 'wss:', body?: Uint8Array): Request {
  const url = urlOfHead(head, scheme).href;
  const method = head.method;
  const init: RequestInit = { method };
  if (body !== undefined && body.length > 0 && method !== 'GET' && method !== 'HEAD') init.body = body as Uint8Array<ArrayBuffer>;
  try {
    // The raw pairs straight in: the fast path (a field Headers refuses makes it throw).
    return new Request(url, { ...init, headers: head.rawHeaders });
  } catch {
    try {
      return new Request(url, { ...init, headers: headersOfHead(head) });
    } catch {
      // A method WHATWG refuses (CONNECT, TRACE, TRACK).
      throw new HandshakeError('MALFORMED_HEAD', `Method ${JSON.stringify(method)} is not served`, 400);
    }
  }
}
