/**
 * Swapping the global `WebSocket` (and `WebSocketStream`, `WebSocketError`) for classes
 * that reach an in-memory network, and putting the originals back.
 * @module
 */
import { CloseEventPolyfill } from './close_event.ts';
import type { WebSocket } from './websocket.ts';
import type { WebSocketError } from './websocket_error.ts';
import type { WebSocketStream } from './websocket_stream.ts';

/** The classes {@link installGlobals} puts on `globalThis`. */
export interface InstalledClasses {
  WebSocket: typeof WebSocket;
  WebSocketStream: typeof WebSocketStream;
  WebSocketError: typeof WebSocketError;
}

/**
 * Defines `globalThis.WebSocket`, `WebSocketStream` and `WebSocketError` as `classes`,
 * and `CloseEvent` where the runtime has none (its `WebSocket` events use it).
 *
 * @returns a function that restores the properties as they were (call once; uninstall in
 *   the reverse order of installing when several are installed)
 * @example
 * ```ts
 * const uninstall = installGlobals({ WebSocket, WebSocketStream, WebSocketError });
 * try { await runCodeUnderTest(); } finally { uninstall(); }
 * ```
 */
export function installGlobals(classes: InstalledClasses): () => void {
  const target = globalThis as Record<string, unknown>;
  const values: Record<string, unknown> = { ...classes };
  if (typeof target.CloseEvent !== 'function') values.CloseEvent = CloseEventPolyfill;
  const saved = new Map<string, PropertyDescriptor | undefined>();
  for (const [name, value] of Object.entries(values)) {
    saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const [name, descriptor] of saved) {
      if (descriptor === undefined) delete target[name];
      else Object.defineProperty(globalThis, name, descriptor);
    }
  };
}
