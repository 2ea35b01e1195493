/**
 * Plain HTTP on the WebSocket port: a request that is not a WebSocket upgrade goes to a
 * fetch-style handler (`(request) => Response`, as `Deno.serve` takes), and its
 * `Response` is written back as HTTP/1.1 with `Content-Length` and `Connection: close`
 * (the codec's `serializeResponse`).
 * One request per conn; request bodies need a `Content-Length` (no chunked coding).
 * @module
 */
import { HandshakeError, requestBodyLength, serializeResponse, type RequestHead } from '@wsflow/codec';
import { rejectConn, sendAndClose } from './http_answer.ts';
import { requestOfHead } from './request_of.ts';

/** What the fallback learns besides the request (as `Deno.ServeHandlerInfo`). */
export interface FallbackInfo {
  /** The peer's address. */
  remoteAddr: Deno.Addr;
}

/**
 * Answers plain HTTP requests (not WebSocket upgrades) on a WebSocket server's port.
 *
 * @example
 * ```ts
 * const fallback: FetchFallback = (request) =>
 *   new URL(request.url).pathname === '/health' ? new Response('ok') : new Response('not found', { status: 404 });
 * ```
 */
export type FetchFallback = (request: Request, info: FallbackInfo) => Response | Promise<Response>;

/** Default largest request body read for the fallback, in bytes. */
export const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

/** Where a plain request arrived. */
export interface PlainRequestContext {
  /** Whether the conn is TLS (`https:` URLs). */
  secure: boolean;
  remoteAddr: Deno.Addr;
  /** The largest request body accepted (413 above). */
  maxBodySize: number;
}

/**
 * Reads a request's body (exactly its `Content-Length` octets, starting with `rest`).
 * @throws {HandshakeError} 411 for a chunked body, 400 for a bad length or an early end, 413 over `max`
 */
async function readBody(conn: Deno.Conn, head: RequestHead, rest: Uint8Array, max: number): Promise<Uint8Array> {
  const length = requestBodyLength(head, max);
  const body = new Uint8Array(length);
  let at = Math.min(length, rest.length);
  body.set(rest.subarray(0, at));
  while (at < length) {
    const n = await conn.read(body.subarray(at));
    if (n === null) throw new HandshakeError('MALFORMED_HEAD', 'The connection closed before the request body ended', 400);
    at += n;
  }
  return body;
}

/**
 * Answers one plain HTTP request with `fallback` and closes the conn. A refused body gets
 * 400/411/413, an unusable request 400, a fallback that throws (or returns something that
 * is not a `Response`, or one HTTP/1.1 cannot carry) 500, after logging the error with
 * `console.error` as `Deno.serve` does. Never rejects.
 * @returns the status answered, or 0 when the conn was gone first
 * @example
 * ```ts
 * await answerPlainRequest(conn, head, rest, (request) => new Response('hello'), { secure: false, remoteAddr, maxBodySize: 1 << 20 });
 * ```
 */
export async function answerPlainRequest(
  conn: Deno.Conn,
  head: RequestHead,
  rest: Uint8Array,
  fallback: FetchFallback,
  context: PlainRequestContext,
): Promise<number> {
  let request: Request;
  try {
    const body = await readBody(conn, head, rest, context.maxBodySize);
    request = requestOfHead(head, context.secure ? 'https:' : 'http:', body);
  } catch (error) {
    if (!(error instanceof HandshakeError)) {
      try {
        conn.close();
      } catch {
        /* closed already */
      }
      return 0;
    }
    await rejectConn(conn, error.status, undefined, error.message);
    return error.status;
  }
  let bytes: Uint8Array;
  let status: number;
  try {
    const response = await fallback(request, { remoteAddr: context.remoteAddr });
    if (!(response instanceof Response)) throw new TypeError('The fallback must return a Response');
    status = response.status;
    bytes = await serializeResponse(response, head.method);
  } catch (error) {
    // As Deno.serve does by default with a handler's exception: log it, answer 500.
    console.error('wsflow: the HTTP fallback failed:', error);
    await rejectConn(conn, 500);
    return 500;
  }
  await sendAndClose(conn, bytes);
  return status;
}
