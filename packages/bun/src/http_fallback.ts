/**
 * The `fetch` fallback of {@link serve}: a plain HTTP request (one that does not ask for a
 * WebSocket upgrade) answered by a `(request: Request) => Response` function, as
 * `Bun.serve`'s `fetch` would — one request per connection (`Connection: close`), the
 * body framed and the response serialized by the codec (`requestBodyLength`,
 * `serializeResponse`).
 * @module
 */
import { rejectionBytes, requestBodyLength, serializeResponse, type HandshakeError, type RequestHead } from '@wsflow/codec';
import type { HeadReader } from './head_reader.ts';
import { rejectSocket, respondAndEnd } from './rejection.ts';
import { requestOf } from './request_of.ts';
import type { BunSocketTransport } from './socket_transport.ts';

/** Answers a plain HTTP request. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Default largest request body the fallback reads. */
export const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

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
  let length: number;
  try {
    length = requestBodyLength(head, options.maxBodySize);
  } catch (error) {
    const { status, message } = error as HandshakeError;
    rejectSocket(transport, status, undefined, message);
    return status;
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
    bytes = await serializeResponse(response, head.method);
    status = response.status;
  } catch {
    bytes = rejectionBytes(500);
    status = 500;
  }
  respondAndEnd(transport, bytes);
  return status;
}
