/**
 * The codec's injected {@link Timers}, on Deno's timers, unref'd: a heartbeat or a
 * handshake timeout never keeps the process alive by itself (the socket or listener it
 * watches does). Only a close timeout, which something awaits, does.
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
 * Deno timers for a {@link WebSocketConnection}'s close timeout (kept alive: a `closed` or
 * a server's `close()` may be awaiting it) and heartbeat (unref'd).
 *
 * @example
 * ```ts
 * const connection = new WebSocketConnection(transport, { role: 'server', timers: denoTimers });
 * ```
 */
export const denoTimers: Timers = {
  setTimeout(callback: () => void, ms: number, keepAlive = false): unknown {
    return keepAlive ? setTimeout(callback, ms) : unrefTimeout(callback, ms);
  },
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
