/**
 * Reads one HTTP/1.1 head (a request or a response) off a `Deno.Conn` with the codec's
 * incremental parser, keeping the bytes that followed it.
 * @module
 */
import { HttpHeadParser, type HttpHeadKind, type HttpHeadOf, type HttpHeadOptions } from '@wsflow/codec';

/** Bytes asked for per read while a head arrives: a typical head fits in one. */
const HEAD_READ_SIZE = 16 * 1024;

/** A head and the bytes that arrived after it in the same read. */
export interface HeadAndRest<K extends HttpHeadKind> {
  head: HttpHeadOf<K>;
  /** Bytes after the head (early frames, a request body), maybe empty; a fresh buffer's view. */
  rest: Uint8Array;
}

/** The conn ended before a complete head arrived. */
export class HeadIncompleteError extends Error {
  /** Bytes received before the end (0: the peer sent nothing). */
  readonly bytesReceived: number;

  constructor(bytesReceived: number) {
    super('The connection closed before a complete HTTP head arrived');
    this.name = 'HeadIncompleteError';
    this.bytesReceived = bytesReceived;
  }
}

/**
 * Reads the next head from `conn`. Each read goes into a fresh buffer, so `rest` may be
 * handed to a connection that keeps views (`mutableInput`).
 *
 * @throws {HandshakeError} `MALFORMED_HEAD`, `BAD_HTTP_VERSION` or `HEAD_TOO_LARGE` (with the status to answer)
 * @throws {HeadIncompleteError} when the conn ends first; a read error as thrown by Deno
 * @example
 * ```ts
 * const { head, rest } = await readHead(conn, 'request');
 * head.headers.get('upgrade'); // 'websocket'
 * ```
 */
export async function readHead<K extends HttpHeadKind>(conn: Deno.Conn, kind: K, options: HttpHeadOptions = {}): Promise<HeadAndRest<K>> {
  const parser = new HttpHeadParser(kind, options);
  let received = 0;
  for (;;) {
    const buffer = new Uint8Array(HEAD_READ_SIZE);
    const n = await conn.read(buffer);
    if (n === null) throw new HeadIncompleteError(received);
    received += n;
    const result = parser.push(buffer.subarray(0, n));
    if (result !== null) return { head: result.head, rest: result.rest };
  }
}
