/**
 * Ending a conn after an HTTP answer (a refused handshake, a 426, the fallback's
 * response): write it, half-close, discard what the client still sends until it hangs up
 * (closing with unread input would reset the conn and could destroy the answer in flight),
 * and close — within a bounded linger.
 * @module
 */
import { rejectionBytes, type HeaderFieldsInit } from '@wsflow/codec';
import { unrefTimeout } from './deno_timers.ts';

/** Milliseconds a conn may linger after an answer before it is closed anyway. */
export const ANSWER_LINGER = 2000;

/** Reads discarded while lingering: enough for a client that keeps sending, still bounded. */
const MAX_DISCARD_READS = 1024;

/**
 * Writes all of `bytes`, looping over partial writes.
 * @example
 * ```ts
 * await writeAll(conn, new TextEncoder().encode(request));
 * ```
 */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(at === 0 ? bytes : bytes.subarray(at));
}

/**
 * Writes `bytes`, half-closes, discards input until the client closes (at most
 * {@link ANSWER_LINGER} ms), then closes the conn. Never rejects.
 * @example
 * ```ts
 * await sendAndClose(conn, new TextEncoder().encode('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
 * ```
 */
export async function sendAndClose(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      /* closed already */
    }
  };
  const timer = unrefTimeout(close, ANSWER_LINGER);
  try {
    await writeAll(conn, bytes);
    await conn.closeWrite();
    const sink = new Uint8Array(16 * 1024);
    for (let i = 0; i < MAX_DISCARD_READS && !closed; i++) {
      if ((await conn.read(sink)) === null) break;
    }
  } catch {
    /* the client is gone, or the linger expired: nothing more to do */
  } finally {
    clearTimeout(timer);
    close();
  }
}

/**
 * Answers with an HTTP error response (see the codec's `rejectionBytes`: `Connection:
 * close`, `Content-Length`, a plain-text body) and closes the conn. An invalid status or
 * header (from an upgrade hook) becomes a bare 500. Never rejects.
 * @example
 * ```ts
 * await rejectConn(conn, 401, { 'WWW-Authenticate': 'Bearer' }, 'Sign in first');
 * ```
 */
export function rejectConn(conn: Deno.Conn, status: number, headers?: HeaderFieldsInit, body?: string): Promise<void> {
  return sendAndClose(conn, rejectionBytes(status, headers, body));
}
