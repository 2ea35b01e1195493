/**
 * Plain HTTP on Node's `serve`: a request that is not a WebSocket upgrade goes to the
 * shared `fetch` handler as a WHATWG `Request` (the URL built as on every runtime, the body
 * read up to `maxBodySize`), and its `Response` is written back; without `fetch`, 426.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_MAX_BODY_SIZE, requestOf, type ErrorContext, type FetchHandler } from '@wsflow/engine';
import { HandshakeError, UPGRADE_REQUIRED, requestBodyLength, type RequestHead } from '@wsflow/codec';

/** What the plain-HTTP listener needs of its server. */
export interface PlainHttpSettings {
  fetch: FetchHandler | undefined;
  maxBodySize: number | undefined;
  secure: boolean;
  authority: () => string;
  report: (error: unknown, context: ErrorContext) => void;
  /** Tells `onReject` of a request answered with an error status. */
  reject: (status: number, code: string, request: IncomingMessage, error?: unknown) => void;
}

/** Node's request as a codec request head. */
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

async function readBody(request: IncomingMessage, length: number): Promise<Uint8Array> {
  const body = new Uint8Array(length);
  let at = 0;
  for await (const chunk of request as AsyncIterable<Uint8Array>) {
    const n = Math.min(chunk.length, length - at);
    body.set(chunk.subarray(0, n), at);
    at += n;
  }
  if (at < length) throw new HandshakeError('MALFORMED_HEAD', 'The request body ended early', 400);
  return body;
}

function answer(response: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { ...headers, Connection: 'close', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * The `request` listener of Node's `serve`.
 * @example
 * ```ts
 * http.createServer(plainHttpListener(settings));
 * ```
 */
export function plainHttpListener(settings: PlainHttpSettings): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const fetch = settings.fetch;
    if (fetch === undefined) {
      answer(response, UPGRADE_REQUIRED.status, UPGRADE_REQUIRED.headers, UPGRADE_REQUIRED.body);
      settings.reject(UPGRADE_REQUIRED.status, 'UPGRADE_REQUIRED', request);
      return;
    }
    void (async () => {
      const head = headOfRequest(request);
      let webRequest: Request;
      try {
        const length = requestBodyLength(head, settings.maxBodySize ?? DEFAULT_MAX_BODY_SIZE);
        webRequest = requestOf(head, settings.secure, settings.authority(), length > 0 ? await readBody(request, length) : undefined);
      } catch (error) {
        if (error instanceof HandshakeError) {
          answer(response, error.status, error.headers, error.message);
          settings.reject(error.status, error.code, request, error);
        } else response.destroy();
        return;
      }
      const remoteAddress = request.socket.remoteAddress;
      try {
        const result = await fetch(webRequest, { remoteAddress });
        if (!(result instanceof Response)) throw new TypeError('fetch must return a Response');
        const body = request.method === 'HEAD' ? undefined : new Uint8Array(await result.arrayBuffer());
        const headers: Array<[string, string]> = [];
        for (const [name, value] of result.headers) if (name !== 'set-cookie' && name !== 'content-length' && name !== 'connection' && name !== 'transfer-encoding') headers.push([name, value]);
        for (const cookie of result.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
        headers.push(['connection', 'close']);
        if (body !== undefined) headers.push(['content-length', String(body.length)]);
        response.writeHead(result.status, result.statusText, headers.flat());
        response.end(body);
      } catch (error) {
        settings.report(error, { source: 'fetch', remoteAddress });
        answer(response, 500, {}, '');
      }
    })();
  };
}
