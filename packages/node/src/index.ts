// @wsflow/node: the Node runtime shim. This file only re-exports: the same public names as
// @wsflow/deno and @wsflow/bun, plus Node's extras (`attach`, `handleUpgrade`,
// `WebSocketEndpoint`) for servers that already have a `node:http` server.
export * from '@wsflow/engine/public';
export { CloseEventImpl, type CloseEventFields } from '@wsflow/websocket';
export { serve, type NodeTlsOptions, type ServeOptions, type WebSocketServer } from './serve.ts';
export { connect, WebSocket, WebSocketStream, type ConnectOptions, type WebSocketOptions } from './connect.ts';
export { WebSocketError, type BinaryType } from '@wsflow/websocket';
export { proxyFromEnvironment } from './proxy_env.ts';
// Node's extras, for an existing node:http server: their hooks and handler get Node's own `IncomingMessage`.
export type { NodeAuthorizeRequest, NodeRejectionInfo, UpgradeOptions } from './upgrade_options.ts';
export { WebSocketEndpoint, type NodeAcceptedConnection, type NodeConnectionHandler, type EndpointOptions } from './endpoint.ts';
export { AttachedEndpoint, attach, type UpgradableServer } from './attach.ts';
export { handleUpgrade, type ConnectionCallback } from './handle_upgrade.ts';
