// @wsflow/engine: the server engine and the client engine over a socket adapter. This file only re-exports.
export { parseCookies } from './cookies.ts';
export { isProxyExempt, parseProxyUrl, proxyFromEnvironment, type ProxyEnvironment } from './proxy_env.ts';
export {
  UPGRADE_REQUIRED,
  decideUpgrade,
  dropped,
  isWebSocketUpgrade,
  targetPath,
  type AuthorizeRequest as AuthorizeRequestOf,
  type AuthorizeResult,
  type RejectionInfo as RejectionInfoOf,
  type UpgradeAcceptance,
  type UpgradeControl,
  type UpgradeDecision,
  type UpgradeDescription,
  type UpgradeOptions as UpgradeOptionsOf,
  type UpgradeRefusal,
  type UpgradeRejection,
  type UpgradeSubject,
} from './upgrade_policy.ts';
export { HandshakeDeadline, type DeadlineOutcome, type HandshakeDeadlineOptions } from './handshake_deadline.ts';
export { DEFAULT_MAX_PENDING_HANDSHAKES, HandshakeSlots, checkMaxPendingHandshakes, type HandshakeSlot, type PendingHandshakeSettings } from './handshake_slots.ts';
export { serializeResponse, type ResponseLike } from './http_response.ts';
export { requestBodyLength } from './request_body.ts';
export { checkTimeout, connectionOptionsOf, type ConnectionInit, type ConnectionSettings } from './shim_settings.ts';
export { IGNORE_RECEIVER, type EngineSocket, type RuntimeAdapter, type SocketReceiver } from './engine_socket.ts';
export { ConnectionLostError, HeadReader, HeldAfterHead, headOf, type Decided, type HeadLeftovers, type HeadRead, type HeadStep } from './head_reader.ts';
export { bindConnection, type PendingConnection } from './pending_connection.ts';
export { ANSWER_LINGER, answerAndEnd, refuseSocket } from './answer.ts';
export { requestOf, requestUrl, type UrlScheme } from './request_url.ts';
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_MAX_BODY_SIZE,
  SERVER_OPTION_NAMES,
  checkKnownOptions,
  checkServerOptions,
  checkServeOptions,
  LISTEN_OPTION_NAMES,
  type AuthorizeRequest,
  type ConnectionHandler,
  type ErrorContext,
  type FetchHandler,
  type FetchInfo,
  type RejectionInfo,
  type ServerOptions,
} from './server_options.ts';
export { defaultOnError, errorReporter, isPromiseLike } from './error_policy.ts';
export { ConnectionHub, type AcceptedConnection } from './connection_hub.ts';
export { answerPlainRequest, type PlainHttpContext, type PlainHttpOutcome } from './plain_http.ts';
export { ServerEngine, type ListenerInfo } from './server_engine.ts';
export { CLIENT_OPTION_NAMES, openClient, type ClientAdapter, type ClientOptions, type DialTarget } from './client_engine.ts';
export { ListeningServer, type WebSocketServerBase } from './listening_server.ts';
export type { Backplane } from './backplane.ts';
export { LocalBackplane } from './local_backplane.ts';
export { DEFAULT_PUBLISH_BACKPRESSURE, checkPublishBackpressure, type PublishBackpressure, type PublishBackpressurePolicy, type ResolvedPublishBackpressure } from './publish_backpressure.ts';
export { ServerConnection } from './server_connection.ts';
export { TopicHub, checkTopic, type ConnectionPublishOptions, type PublishData, type PublishOptions, type PublishStats, type TopicSettings } from './topic_hub.ts';
