/**
 * The codec's injected {@link Timers} on Bun's timers (unref'd, but for the close timeout
 * something awaits), and a next-macrotask scheduler.
 * @module
 */
import type { Timers } from '@wsflow/codec';
import type { BunGlobals } from './bun_types.ts';

/** What Bun's `setTimeout` returns: a `Timer` that can stop holding the process open. */
interface Unrefable {
  unref?(): unknown;
}

/**
 * Bun timers for a {@link WebSocketConnection}'s close timeout and heartbeat. A heartbeat
 * never keeps the process alive by itself (the socket it watches does); a close timeout,
 * which a `closed` or a server's `close()` may be awaiting, does.
 *
 * @example
 * ```ts
 * const conn = new WebSocketConnection(transport, { role: 'server', timers: bunTimers });
 * ```
 */
export const bunTimers: Timers = {
  setTimeout(callback: () => void, ms: number, keepAlive = false): unknown {
    const handle = setTimeout(callback, ms) as unknown as Unrefable;
    if (!keepAlive) handle.unref?.();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/**
 * Runs `callback` on the next macrotask (Bun's `setImmediate`, else a zero timeout), after
 * the promise continuations of the current one.
 * @example
 * ```ts
 * nextMacrotask(() => pending.start());
 * ```
 */
export function nextMacrotask(callback: () => void): void {
  const immediate = (globalThis as BunGlobals).setImmediate;
  if (immediate !== undefined) immediate(callback);
  else setTimeout(callback, 0);
}

/**
 * A one-shot timer that does not hold the process open; @returns a function cancelling it.
 * @example
 * ```ts
 * const cancel = unrefTimeout(() => transport.destroy(), 2000);
 * ```
 */
export function unrefTimeout(callback: () => void, ms: number): () => void {
  const handle = bunTimers.setTimeout(callback, ms);
  return () => bunTimers.clearTimeout(handle);
}
