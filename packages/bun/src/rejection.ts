/**
 * Answering a refused handshake: an HTTP error response, then the socket's end.
 * @module
 */
import { rejectionBytes, type HeaderFieldsInit } from '@wsflow/codec';
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
 * respondAndEnd(transport, rejectionBytes(403));
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
 * Refuses a handshake with an HTTP error response (the codec's `rejectionBytes`) and ends
 * the socket. An invalid status or header (from a user's hook) becomes a bare 500.
 *
 * @example
 * ```ts
 * rejectSocket(transport, 401, { 'WWW-Authenticate': 'Bearer' }, 'Sign in first');
 * ```
 */
export function rejectSocket(transport: BunSocketTransport, status: number, headers?: HeaderFieldsInit, body?: string): void {
  respondAndEnd(transport, rejectionBytes(status, headers, body));
}
