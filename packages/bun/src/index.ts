// @wsflow/bun: the Bun runtime shim. This file only re-exports: the same public names as
// @wsflow/node and @wsflow/deno.
export { serve, type ServeOptions, type WebSocketServer } from './serve.ts';
export { connect, WebSocket, WebSocketStream, type ConnectOptions, type WebSocketOptions } from './connect.ts';
export { WebSocketError, type BinaryType } from '@wsflow/websocket';
export { proxyFromEnvironment } from './proxy_env.ts';
export type { BunTlsOptions } from './bun_types.ts';
export * from '@wsflow/engine/public';
export { CloseEventImpl, type CloseEventFields } from '@wsflow/websocket';
