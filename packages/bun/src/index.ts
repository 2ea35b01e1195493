// @wsflow/bun: the Bun runtime shim. This file only re-exports.
export { bunRuntime, type BunApi, type BunListener, type BunSocket, type BunSocketHandler, type BunTlsOptions, type TlsData } from './bun_types.ts';
export { bunTimers, nextMacrotask } from './bun_timers.ts';
export { BunSocketTransport, IGNORE_RECEIVER, transportHandlers, type TransportReceiver } from './socket_transport.ts';
export { ConnectionLostError, HeadReader, type HeadRead } from './head_reader.ts';
export { bindConnection, type PendingConnection } from './pending_connection.ts';
export { checkTimeout, connectionOptions, DEFAULT_HANDSHAKE_TIMEOUT, type ConnectionSettings } from './connection_settings.ts';
export { parseCookies } from '@wsflow/codec';
export type { AuthorizeRequest, AuthorizeResult, RejectionInfo, UpgradeOptions, UpgradeRejection } from './upgrade_options.ts';
export { DEFAULT_MAX_BODY_SIZE, type FetchHandler } from './http_fallback.ts';
export { upgradeSocket, type ServerUpgradeOptions, type UpgradeContext, type UpgradedSocket } from './server_upgrade.ts';
export { serve, type AcceptedConnection, type ConnectionHandler, type ServeOptions, type WebSocketServer } from './serve.ts';
export { isProxyExempt, parseProxyUrl, proxyFromEnvironment, type ProxyEnvironment } from './proxy_env.ts';
export { ProxyError } from './proxy_error.ts';
export { authorityOf, openTunnel, type TunnelOptions } from './proxy_tunnel.ts';
export { dial, startTls, type TransportTracker } from './dial.ts';
export { connect, openClient, type ConnectOptions } from './connect.ts';
export { WebSocket, type BinaryType, type WebSocketOptions } from './websocket.ts';
export type { CloseInfo, CloseOptions, HeartbeatOptions, Message, SendData, WebSocketConnection } from '@wsflow/codec';
