/**
 * The codec's injected {@link Timers}, on Node's timers, unref'd: a close timeout or a
 * heartbeat never keeps the process alive by itself (the socket it watches does).
 * @module
 */
import type { Timers } from '@wsflow/codec';

/**
 * Node timers for a {@link WebSocketConnection}'s close timeout and heartbeat, unref'd.
 *
 * @example
 * ```ts
 * const conn = new WebSocketConnection(new SocketTransport(socket), { role: 'server', timers: nodeTimers });
 * ```
 */
export const nodeTimers: Timers = {
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
