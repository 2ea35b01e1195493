/**
 * The codec's injected {@link Timers}, on Deno's timers, unref'd: a close timeout, a
 * heartbeat or a handshake timeout never keeps the process alive by itself (the socket or
 * listener it watches does).
 * @module
 */
import type { Timers } from '@wsflow/codec';

/**
 * Starts an unref'd timer (see `Deno.unrefTimer`).
 *
 * @example
 * ```ts
 * const id = unrefTimeout(() => conn.close(), 10_000);
 * clearTimeout(id);
 * ```
 */
export function unrefTimeout(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
  const id = setTimeout(callback, ms);
  Deno.unrefTimer(id);
  return id;
}

/**
 * Deno timers for a {@link WebSocketConnection}'s close timeout and heartbeat, unref'd.
 *
 * @example
 * ```ts
 * const connection = new WebSocketConnection(transport, { role: 'server', timers: denoTimers });
 * ```
 */
export const denoTimers: Timers = {
  setTimeout: unrefTimeout,
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
