/**
 * Answering a refused handshake: an HTTP error response, then the socket's end.
 * @module
 */
import { buildRejection, type HeaderFieldsInit } from '@wsflow/codec';
import { unrefTimeout } from './bun_timers.ts';
import { IGNORE_RECEIVER, type BunSocketTransport } from './socket_transport.ts';

/** Milliseconds a refused socket may linger, half-closed, before it is dropped. */
export const REJECTION_LINGER = 2000;

/**
 * Writes an HTTP response (head and body, bytes) and ends the socket; what the client
 * still sends is discarded, and the socket is dropped if the client lingers.
 *
 * @example
 * ```ts
 * respondAndEnd(transport, new TextEncoder().encode(buildRejection(403)));
 * ```
 */
export function respondAndEnd(transport: BunSocketTransport, response: Uint8Array): void {
  if (transport.closed) return;
  const cancel = unrefTimeout(() => transport.destroy(), REJECTION_LINGER);
  transport.receiver = { ...IGNORE_RECEIVER, transportClosed: cancel };
  transport.write(response);
  transport.end();
  transport.release();
}

/**
 * Refuses a handshake with an HTTP error response (built by the codec's `buildRejection`)
 * and ends the socket. An invalid status or header (from a user's hook) becomes a bare 500.
 *
 * @example
 * ```ts
 * rejectSocket(transport, 401, { 'WWW-Authenticate': 'Bearer' }, 'Sign in first');
 * ```
 */
export function rejectSocket(transport: BunSocketTransport, status: number, headers?: HeaderFieldsInit, body?: string): void {
  let response: string;
  try {
    response = buildRejection(status, headers, body);
  } catch {
    response = buildRejection(500);
  }
  respondAndEnd(transport, new TextEncoder().encode(response));
}
