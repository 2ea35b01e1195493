/**
 * Node's `IncomingMessage` as a codec request head, so that `attach` and `handleUpgrade`
 * build their URL the way every server does.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHead } from '@wsflow/codec';

/**
 * The request's method, target and fields as a {@link RequestHead} (repeated fields joined).
 * @example
 * ```ts
 * requestUrl(headOfRequest(request), 'ws', '127.0.0.1:8080');
 * ```
 */
export function headOfRequest(request: IncomingMessage): RequestHead {
  const distinct = request.headersDistinct;
  const raw = request.rawHeaders;
  const rawHeaders: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) rawHeaders.push([raw[i], raw[i + 1]]);
  return {
    kind: 'request',
    method: request.method ?? 'GET',
    target: request.url ?? '/',
    version: 'HTTP/1.1',
    headers: { get: (name: string) => distinct[name]?.join(', ') },
    rawHeaders,
  } as RequestHead;
}
