/**
 * A WHATWG-style response (a fetch `Response`, or anything with its status, headers and
 * body) as HTTP/1.1 bytes, for servers that answer plain HTTP on a WebSocket port with a
 * fetch-style handler: one response per connection, framed by `Content-Length`
 * (RFC 9112 §6), then `Connection: close` (RFC 9112 §9.6).
 * @module
 */
import { serializeResponseHead } from '@wsflow/codec';

/** The part of a fetch `Response` that {@link serializeResponse} reads. */
export interface ResponseLike {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Response fields that describe the connection or the body's framing, which the serializer
 * writes itself (RFC 9110 §7.6.1), and `Set-Cookie`, written one line per cookie.
 */
const OWN_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'set-cookie',
]);

/** A reason phrase HTTP/1.1 can carry (RFC 9112 §4): HTAB, SP and visible ASCII. */
const REASON = /^[\t\x20-\x7e]*$/;

/**
 * Whether a response to `method` with `status` has no body: a `HEAD` answer, 1xx, 204 and
 * 304 (RFC 9110 §6.4.1).
 */
function isBodyless(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/**
 * A response as HTTP/1.1 bytes: the status line (its `statusText`, or the registered
 * phrase when that is empty or not ASCII), its fields minus the ones describing the
 * connection or framing, each `Set-Cookie` on its own line, `Content-Length`, `Connection:
 * close`, then the body. No body for `HEAD`, 1xx, 204 and 304; no `Content-Length` for
 * 1xx, 204 and 304 (RFC 9110 §8.6), and for `HEAD` the one the response states, if any (the
 * length a `GET` would have had).
 *
 * @param method the request's method (a `HEAD` answer carries no body)
 * @throws {TypeError} for a field HTTP/1.1 cannot carry (non-ASCII, CR/LF)
 * @example
 * ```ts
 * await serializeResponse(new Response('ok'), 'GET');
 * // 'HTTP/1.1 200 OK\r\ncontent-type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
 * ```
 */
export async function serializeResponse(response: ResponseLike, method: string): Promise<Uint8Array> {
  const { status, headers } = response;
  const bodyless = isBodyless(method, status);
  let body: Uint8Array;
  if (bodyless) {
    body = new Uint8Array(0);
    await response.body?.cancel();
  } else body = new Uint8Array(await response.arrayBuffer());
  const fields: Array<[string, string]> = [];
  for (const [name, value] of headers) if (!OWN_FIELDS.has(name)) fields.push([name, value]);
  for (const cookie of headers.getSetCookie()) fields.push(['set-cookie', cookie]);
  if (status >= 200 && status !== 204 && status !== 304) {
    const length = method === 'HEAD' ? headers.get('content-length') : String(body.length);
    if (length !== null) fields.push(['Content-Length', length]);
  }
  fields.push(['Connection', 'close']);
  const reason = response.statusText !== '' && REASON.test(response.statusText) ? response.statusText : undefined;
  const head = new TextEncoder().encode(serializeResponseHead({ status, reason, headers: fields }));
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}
