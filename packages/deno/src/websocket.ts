/**
 * The WHATWG `WebSocket` and `WebSocketStream` for Deno: the `@wsflow/websocket` facade
 * over this package's TCP/TLS client ({@link openDenoClient}), so they behave exactly like the
 * facade everywhere else.
 * @module
 */
import { createClientClasses } from '@wsflow/websocket';
import { openDenoClient, type ConnectOptions } from './connect.ts';

/**
 * Deno-only options a `WebSocket` accepts as its second argument's object form (headers,
 * `ca`, proxy, limits), `protocols` included.
 */
export interface WebSocketOptions extends Omit<ConnectOptions, 'signal'> {}

const classes: ReturnType<typeof createClientClasses> = createClientClasses(openDenoClient);

/**
 * The WHATWG `WebSocket` over `Deno.connect`/`Deno.connectTls`. The second argument may
 * also be an object `{ protocols, headers, ca, proxy, perMessageDeflate, … }` (see {@link WebSocketOptions}).
 * Like a browser's, it offers permessage-deflate unless `perMessageDeflate: false` is given.
 *
 * @example
 * ```ts
 * const ws = new WebSocket('wss://example.com/chat', ['chat']);
 * ws.onmessage = (event) => console.log(event.data);
 * ```
 */
export const WebSocket = classes.WebSocket;
/** The WebSocket class's instance type. */
export type WebSocket = InstanceType<typeof WebSocket>;

/**
 * `WebSocketStream` over `Deno.connect`/`Deno.connectTls`.
 *
 * @example
 * ```ts
 * const wss = new WebSocketStream('ws://127.0.0.1:8080/');
 * const { readable, writable } = await wss.opened;
 * ```
 */
export const WebSocketStream = classes.WebSocketStream;
/** The WebSocketStream class's instance type. */
export type WebSocketStream = InstanceType<typeof WebSocketStream>;

export { WebSocketError, type BinaryType } from '@wsflow/websocket';
