/**
 * The codec's injected {@link Timers}, on Node's timers: a heartbeat never keeps the
 * process alive by itself (the socket it watches does); a close timeout, which a
 * `closed` or a server's `close()` may be awaiting, does.
 * @module
 */
import type { Timers } from '@wsflow/codec';

/**
 * Node timers for a {@link WebSocketConnection}'s close timeout (kept alive) and heartbeat
 * (unref'd).
 *
 * @example
 * ```ts
 * const conn = new WebSocketConnection(new SocketTransport(socket), { role: 'server', timers: nodeTimers });
 * ```
 */
export const nodeTimers: Timers = {
  setTimeout(callback: () => void, ms: number, keepAlive = false): unknown {
    const handle = setTimeout(callback, ms);
    if (!keepAlive) handle.unref();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
