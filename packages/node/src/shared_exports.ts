// The names every runtime shim exports alike, from the shared packages. This file only re-exports.
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_MAX_BODY_SIZE,
  type AcceptedConnection,
  type AuthorizeRequest,
  type ConnectionHandler,
  type ErrorContext,
  type FetchHandler,
  type FetchInfo,
  type RejectionInfo,
  type ServerOptions,
} from '@wsflow/engine';
export { BufferedAmountError, ProxyError, isProxyExempt, parseCookies, parseProxyUrl } from '@wsflow/codec';
export type {
  AuthorizeResult,
  BufferedAmountPolicy,
  CloseInfo,
  CloseOptions,
  ConnectionSettings,
  HeartbeatOptions,
  Message,
  PerMessageDeflateOptions,
  ProxyEnvironment,
  SendData,
  SendOptions,
  UpgradeRejection,
  WebSocketConnection,
} from '@wsflow/codec';
export { CloseEventImpl, type CloseEventFields } from '@wsflow/websocket';
