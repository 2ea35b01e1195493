// @wsflow/node: the Node runtime shim. This file only re-exports: the same public names as
// @wsflow/deno and @wsflow/bun, plus Node's extras (`attach`, `handleUpgrade`,
// `WebSocketEndpoint`) for servers that already have a `node:http` server.
export * from './shared_exports.ts';
export { serve, type ServeOptions, type WebSocketServer } from './serve.ts';
export { connect, type ConnectOptions } from './connect.ts';
export { WebSocket, WebSocketError, WebSocketStream, type BinaryType, type WebSocketOptions } from './websocket.ts';
export { proxyFromEnvironment } from './proxy_env.ts';
// On Node the hooks and the handler get Node's own `IncomingMessage`.
export type { AuthorizeRequest, RejectionInfo, UpgradeOptions } from './upgrade_options.ts';
export { WebSocketEndpoint, type AcceptedConnection, type ConnectionHandler, type EndpointOptions } from './endpoint.ts';
// Node's extras.
export { AttachedEndpoint, attach, type UpgradableServer } from './attach.ts';
export { handleUpgrade, type ConnectionCallback } from './handle_upgrade.ts';
