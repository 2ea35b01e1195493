/**
 * Answers a plain HTTP request with the server's `fetch` handler: the body (with
 * `Content-Length`, at most `maxBodySize`) is read off the socket, the `Response`
 * buffered and sent with `Content-Length` and `Connection: close`.
 * @module
 */
import { HandshakeError, ServerHandshake, type RequestHead, type Timers } from '@wsflow/codec';
import { requestBodyLength } from './request_body.ts';
import { serializeResponse } from './http_response.ts';
import { answerAndEnd, refuseSocket } from './answer.ts';
import type { EngineSocket } from './engine_socket.ts';
import type { HeadLeftovers } from './head_reader.ts';
import { requestOf } from './request_url.ts';
import type { ErrorContext, FetchHandler } from './server_options.ts';

/** How one plain request is answered. */
export interface PlainHttpContext {
  fetch: FetchHandler;
  maxBodySize: number;
  secure: boolean;
  authority: string;
  timers: Timers;
  report: (error: unknown, context: ErrorContext) => void;
}

/** What became of a plain request: the status answered (0: none, the socket went away) and why. */
export interface PlainHttpOutcome {
  status: number;
  /** The `HandshakeError` behind a 4xx answered before `fetch` ran. */
  error?: HandshakeError;
}

function readBody(socket: EngineSocket, reader: HeadLeftovers, length: number): Promise<Uint8Array> {
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
    socket.receiver = {
      receive: (chunk) => {
        if (have < length && take(chunk)) {
          socket.hold();
          resolve(body);
        }
      },
      receiveEnd: () => reject(new HandshakeError('MALFORMED_HEAD', 'The request body ended early', 400)),
      transportClosed: () => reject(new Error('The connection closed during the request body')),
      drain: () => {},
    };
    socket.release();
  });
}

/**
 * Reads the body, runs `fetch` and writes its answer. A `fetch` that throws or returns
 * something other than a `Response` is answered 500 and reported (`source: 'fetch'`).
 * @example
 * ```ts
 * const { status } = await answerPlainRequest(socket, reader, head, context);
 * ```
 */
export async function answerPlainRequest(socket: EngineSocket, reader: HeadLeftovers, head: RequestHead, context: PlainHttpContext): Promise<PlainHttpOutcome> {
  let request: Request;
  try {
    const length = requestBodyLength(head, context.maxBodySize);
    const body = length > 0 ? await readBody(socket, reader, length) : undefined;
    request = requestOf(head, context.secure, context.authority, body);
  } catch (error) {
    if (socket.closed) return { status: 0 };
    if (!(error instanceof HandshakeError)) {
      socket.destroy();
      return { status: 0 };
    }
    refuseSocket(socket, ServerHandshake.refusalOf(error), context.timers);
    return { status: error.status, error };
  }
  let bytes: Uint8Array;
  let status: number;
  try {
    const response = await context.fetch(request, { remoteAddress: socket.remoteAddress });
    if (!(response instanceof Response)) throw new TypeError('fetch must return a Response');
    bytes = await serializeResponse(response, head.method);
    status = response.status;
  } catch (error) {
    context.report(error, { source: 'fetch', remoteAddress: socket.remoteAddress });
    bytes = ServerHandshake.refuse(500, 'FETCH_FAILED').response;
    status = 500;
  }
  answerAndEnd(socket, bytes, context.timers);
  return { status };
}
