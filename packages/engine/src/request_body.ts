/**
 * How long a plain HTTP request's body is, for servers that read one request per
 * connection for a fetch-style fallback: only `Content-Length` framing (RFC 9112 §6.2), no
 * chunked coding.
 * @module
 */
import { HandshakeError } from '@wsflow/codec';
import type { RequestHead } from '@wsflow/codec';

/**
 * The length of a request's body: its `Content-Length`, 0 without one.
 *
 * @param max the largest body accepted, in bytes
 * @throws {HandshakeError} with the status to answer: 411 for a `Transfer-Encoding` (a
 *   chunked body), 400 for a `Content-Length` that is not one decimal number, 413 above `max`
 * @example
 * ```ts
 * requestBodyLength(head, 1 << 20); // 8 for `Content-Length: 8`
 * ```
 */
export function requestBodyLength(head: RequestHead, max: number): number {
  if (head.headers.get('transfer-encoding') !== undefined) {
    throw new HandshakeError('MALFORMED_HEAD', 'Send the request body with a Content-Length', 411);
  }
  const field = head.headers.get('content-length');
  if (field === undefined) return 0;
  if (!/^\d{1,15}$/.test(field)) throw new HandshakeError('MALFORMED_HEAD', 'Content-Length must be one decimal number', 400);
  const length = Number(field);
  if (length > max) throw new HandshakeError('HEAD_TOO_LARGE', `The request body exceeds ${max} bytes`, 413);
  return length;
}
