// The names every runtime shim exports alike (`export * from '@wsflow/engine/public'`): the
// shared server types and the codec's names a user of serve/connect meets. Internals of the
// engine (ServerEngine, HeadReader, …) are not among them. This file only re-exports.
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_MAX_BODY_SIZE,
  type AuthorizeRequest,
  type ConnectionHandler,
  type ErrorContext,
  type FetchHandler,
  type FetchInfo,
  type RejectionInfo,
  type ServerOptions,
} from './server_options.ts';
export type { AcceptedConnection } from './connection_hub.ts';
export type { ClientOptions } from './client_engine.ts';
export type { WebSocketServerBase } from './listening_server.ts';
export type { Backplane } from './backplane.ts';
export { LocalBackplane } from './local_backplane.ts';
export { DEFAULT_PUBLISH_BACKPRESSURE, type PublishBackpressure, type PublishBackpressurePolicy } from './publish_backpressure.ts';
export type { ServerConnection } from './server_connection.ts';
export type { ConnectionPublishOptions, PublishData, PublishOptions, PublishStats } from './topic_hub.ts';
export { BufferedAmountError, ProxyError } from '@wsflow/codec';
export { isProxyExempt, parseProxyUrl } from './proxy_env.ts';
export { parseCookies } from './cookies.ts';
export type { BufferedAmountPolicy, CloseInfo, CloseOptions, HeartbeatOptions, Message, PerMessageDeflateOptions, SendData, SendOptions, WebSocketConnection } from '@wsflow/codec';
export type { AuthorizeResult, UpgradeRejection } from './upgrade_policy.ts';
export type { ConnectionSettings } from './shim_settings.ts';
export type { ProxyEnvironment } from './proxy_env.ts';
