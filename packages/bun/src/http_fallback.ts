/**
 * The `fetch` fallback of {@link serve}: a plain HTTP request (one that does not ask for a
 * WebSocket upgrade) answered by a `(request: Request) => Response` function, as
 * `Bun.serve`'s `fetch` would — one request per connection (`Connection: close`).
 * @module
 */
import { buildRejection, serializeResponseHead, type RequestHead } from '@wsflow/codec';
import type { HeadReader } from './head_reader.ts';
import { rejectSocket, respondAndEnd } from './rejection.ts';
import { requestOf } from './request_of.ts';
import type { BunSocketTransport } from './socket_transport.ts';

/** Answers a plain HTTP request. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Default largest request body the fallback reads. */
export const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

/** Fields that describe this connection or the body's framing: the fallback writes its own. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/** Options of {@link answerHttp}. */
export interface HttpFallbackOptions {
  fetch: FetchHandler;
  /** The largest request body read, in bytes (413 beyond). */
  maxBodySize: number;
  /** Whether the listener speaks TLS (the request URL is then `https:`). */
  secure: boolean;
  /** `host:port` of the listener, for requests without a usable `Host`. */
  authority: string;
}

/** Reads exactly `length` body bytes: those already buffered, then more from the socket. */
function readBody(transport: BunSocketTransport, reader: HeadReader<'request'>, length: number): Promise<Uint8Array> {
  const body = new Uint8Array(length);
  let have = 0;
  const take = (chunk: Uint8Array): boolean => {
    const n = Math.min(chunk.length, length - have);
    body.set(chunk.subarray(0, n), have);
    have += n;
    return have === length;
  };
  for (const chunk of reader.takeBuffered()) if (take(chunk)) return Promise.resolve(body);
  return new Promise((resolve, reject) => {
    transport.receiver = {
      receive: (chunk) => {
        if (have < length && take(chunk)) {
          transport.hold();
          resolve(body);
        }
      },
      receiveEnd: () => reject(new Error('The request body ended early')),
      transportClosed: () => reject(new Error('The connection closed during the request body')),
      drain: () => {},
    };
    transport.release();
  });
}

/** The response head and body as bytes, with `Content-Length` and `Connection: close`. */
async function responseBytes(response: Response, method: string): Promise<Uint8Array> {
  const fields: Array<[string, string]> = [];
  for (const [name, value] of response.headers) {
    if (HOP_BY_HOP.has(name) || name === 'set-cookie') continue;
    fields.push([name, value]);
  }
  for (const cookie of response.headers.getSetCookie()) fields.push(['set-cookie', cookie]);
  const bodiless = method === 'HEAD' || response.status === 204 || response.status === 304 || response.status < 200;
  const body = bodiless ? new Uint8Array(0) : new Uint8Array(await response.arrayBuffer());
  if (!bodiless) fields.push(['content-length', String(body.length)]);
  fields.push(['connection', 'close']);
  const reason = /^[\t\x20-\x7e]*$/.test(response.statusText) ? response.statusText : undefined;
  const head = new TextEncoder().encode(serializeResponseHead({ status: response.status, reason: reason || undefined, headers: fields }));
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

/**
 * Answers one plain HTTP request with the `fetch` function: reads a `Content-Length` body
 * (chunked request bodies get 411, bodies over `maxBodySize` 413), calls `fetch`, writes
 * its response and ends the socket. A throw, a rejection or an invalid response is a 500.
 * @returns the status answered
 * @example
 * ```ts
 * await answerHttp(transport, reader, head, { fetch: () => new Response('hi'), maxBodySize: 1 << 20, secure: false, authority });
 * ```
 */
export async function answerHttp(
  transport: BunSocketTransport,
  reader: HeadReader<'request'>,
  head: RequestHead,
  options: HttpFallbackOptions,
): Promise<number> {
  if (head.headers.has('transfer-encoding')) {
    rejectSocket(transport, 411, undefined, 'Send the body with a Content-Length');
    return 411;
  }
  const lengthField = head.headers.get('content-length') ?? '0';
  if (!/^\d{1,15}$/.test(lengthField)) {
    rejectSocket(transport, 400, undefined, 'Invalid Content-Length');
    return 400;
  }
  const length = Number(lengthField);
  if (length > options.maxBodySize) {
    rejectSocket(transport, 413, undefined, 'Request body too large');
    return 413;
  }
  let request: Request;
  try {
    const body = length > 0 ? await readBody(transport, reader, length) : undefined;
    request = requestOf(head, options.secure, options.authority, body);
  } catch (error) {
    if (transport.closed) return 0;
    rejectSocket(transport, 400, undefined, error instanceof TypeError ? 'Invalid request' : 'Incomplete request');
    return 400;
  }
  let bytes: Uint8Array;
  let status: number;
  try {
    const response = await options.fetch(request);
    if (!(response instanceof Response)) throw new TypeError('fetch must return a Response');
    bytes = await responseBytes(response, head.method);
    status = response.status;
  } catch {
    bytes = new TextEncoder().encode(buildRejection(500));
    status = 500;
  }
  respondAndEnd(transport, bytes);
  return status;
}
