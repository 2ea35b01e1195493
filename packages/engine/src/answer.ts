/**
 * Writing a final HTTP answer on a socket (a refusal, or a plain-HTTP response) and
 * letting it go: the answer is sent, the sending side ended, whatever the client still
 * sends discarded, and the socket destroyed if the client lingers.
 * @module
 */
import type { HandshakeRefusal, Timers } from '@wsflow/codec';
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
 * Answers with a refusal the codec built (`ServerHandshake.refuse`, a decision's
 * `refuse`) and ends the socket; a drop (status 0) destroys it.
 * @example
 * ```ts
 * refuseSocket(socket, ServerHandshake.refuse(403, 'FORBIDDEN_ORIGIN'), adapter.timers);
 * ```
 */
export function refuseSocket(socket: EngineSocket, refusal: HandshakeRefusal, timers: Timers): void {
  if (refusal.status > 0) answerAndEnd(socket, refusal.response, timers);
  else socket.destroy();
}
