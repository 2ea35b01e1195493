/**
 * The WHATWG classes of a runtime, made from its client's `open` function: the same policy
 * on every runtime (like a browser, permessage-deflate is offered unless
 * `perMessageDeflate: false` is given; the second argument of `WebSocket` may be an object
 * of the runtime's connect options, `protocols` included).
 * @module
 */
import type { DialedConnection, Dialer } from './dialer.ts';
import { createWebSocketClass } from './websocket.ts';
import { createWebSocketStreamClass } from './websocket_stream.ts';

/** The options every runtime's client takes that the facade sets itself. */
interface FacadeSetOptions {
  perMessageDeflate?: unknown;
  protocols?: readonly string[] | string;
  signal?: AbortSignal;
  origin?: string;
}

/**
 * Makes a runtime's `WebSocket` and `WebSocketStream` over its client.
 * @param open the runtime's client handshake: resolves with the connection, not reading yet
 * @example
 * ```ts
 * export const { WebSocket, WebSocketStream } = createClientClasses(openBunClient);
 * ```
 */
export function createClientClasses<O>(
  open: (url: URL, options: O) => Promise<DialedConnection>,
): { WebSocket: ReturnType<typeof createWebSocketClass>; WebSocketStream: ReturnType<typeof createWebSocketStreamClass> } {
  const dialer: Dialer = ({ url, protocols, signal, origin, init }) => {
    const given = init as FacadeSetOptions | undefined;
    return open(url, { perMessageDeflate: true, ...given, protocols: [...protocols], signal, origin: origin ?? given?.origin } as unknown as O);
  };
  return { WebSocket: createWebSocketClass({ dialer, acceptInit: true }), WebSocketStream: createWebSocketStreamClass({ dialer }) };
}
