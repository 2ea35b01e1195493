/**
 * The ready states of `WebSocket` and `WebSocketStream` (WebSockets Standard, "ready state").
 * @module
 */

/** A connection's ready state, as `WebSocket#readyState` reports it. */
export const ReadyState = {
  /** The connection has not yet been established. */
  CONNECTING: 0,
  /** The WebSocket connection is established and communication is possible. */
  OPEN: 1,
  /** The connection is going through the closing handshake, or close() was called. */
  CLOSING: 2,
  /** The connection has been closed or could not be opened. */
  CLOSED: 3,
} as const;
/** One of {@link ReadyState}'s values. */
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];
