// @wsflow/node: the Node runtime shim. This file only re-exports.
export { nodeTimers } from './node_timers.ts';
export { SocketTransport } from './socket_transport.ts';
export { bindSocket, type PendingConnection } from './socket_connection.ts';
export { DEFAULT_HANDSHAKE_TIMEOUT, type ConnectionSettings } from './connection_settings.ts';
export { parseCookies } from '@wsflow/codec';
export type { AuthorizeRequest, AuthorizeResult, RejectionInfo, UpgradeOptions, UpgradeRejection } from './upgrade_options.ts';
export { handleUpgrade, type ConnectionCallback } from './handle_upgrade.ts';
export { WebSocketEndpoint, type AcceptedConnection, type ConnectionHandler, type EndpointOptions } from './endpoint.ts';
export { AttachedEndpoint, attach, type UpgradableServer } from './attach.ts';
export { serve, type ServeOptions, type WebSocketServer } from './serve.ts';
export { isProxyExempt, parseProxyUrl, ProxyError, type ProxyEnvironment } from '@wsflow/codec';
export { proxyFromEnvironment } from './proxy_env.ts';
export { authorityOf, openTunnel, type TunnelOptions } from './proxy_tunnel.ts';
export { connect, type ConnectOptions } from './connect.ts';
export { WebSocket, WebSocketError, WebSocketStream, type BinaryType, type WebSocketOptions } from './websocket.ts';
export { CloseEventImpl, type CloseEventFields } from '@wsflow/websocket';
export type { CloseInfo, CloseOptions, HeartbeatOptions, Message, PerMessageDeflateOptions, SendData, SendOptions, WebSocketConnection } from '@wsflow/codec';
export { BufferedAmountError, type BufferedAmountPolicy } from '@wsflow/codec';
