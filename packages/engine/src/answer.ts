/**
 * Writing a final HTTP answer on a socket (a refusal, or a plain-HTTP response) and
 * letting it go: the answer is sent, the sending side ended, whatever the client still
 * sends discarded, and the socket destroyed if the client lingers.
 * @module
 */
import { type HeaderFieldsInit, type Timers } from '@wsflow/codec';
import { rejectionBytes } from './upgrade_policy.ts';
import { IGNORE_RECEIVER, type EngineSocket } from './engine_socket.ts';

/** Milliseconds an answered socket may linger, half-closed, before it is destroyed. */
export const ANSWER_LINGER = 2000;

/**
 * Sends `response` and ends the socket.
 * @example
 * ```ts
 * answerAndEnd(socket, bytes, adapter.timers);
 * ```
 */
export function answerAndEnd(socket: EngineSocket, response: Uint8Array, timers: Timers): void {
  if (socket.closed) return;
  const handle = timers.setTimeout(() => socket.destroy(), ANSWER_LINGER);
  socket.receiver = { ...IGNORE_RECEIVER, transportClosed: () => timers.clearTimeout(handle) };
  socket.write(response);
  socket.end();
  socket.release();
}

/**
 * Answers with an HTTP error response ({@link rejectionBytes}: a bare 500 for an invalid
 * status or header) and ends the socket.
 * @example
 * ```ts
 * refuseSocket(socket, 403, undefined, 'Origin not allowed', adapter.timers);
 * ```
 */
export function refuseSocket(socket: EngineSocket, status: number, headers: HeaderFieldsInit | undefined, body: string | undefined, timers: Timers): void {
  answerAndEnd(socket, rejectionBytes(status, headers, body), timers);
}
