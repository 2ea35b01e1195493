// @wsflow/codec: the platform-neutral RFC 6455 codec. This file only re-exports.
export * from './constants.ts';
export * from './errors.ts';
export { bytesOf } from './bytes.ts';
export { isValidCloseCode, parseClosePayload, serializeClosePayload, type ClosePayload } from './close_payload.ts';
export { decodeUtf8, encodeUtf8, isValidUtf8, Utf8Decoder } from './utf8.ts';
export { maskInto, RandomMaskKeys, defaultMaskKeys, type MaskKeySource } from './mask.ts';
export { makeFrame, Rsv, type Frame } from './frame.ts';
export { FrameParser, ParserState, type FrameParserOptions, type FrameSink } from './frame_parser.ts';
export { FrameWriter, frameHeaderSize, serializeFrame, writeFrameHeader } from './frame_serializer.ts';
export { DEFAULT_LIMITS, resolveLimits, type Limits } from './limits.ts';
export { InflateLimitError, type DeflateEngine, type DeflaterParams, type InflaterParams, type MessageDeflater, type MessageInflater } from './deflate_engine.ts';
export { PreparedMessage, prepareMessage, type PrepareOptions } from './prepared_message.ts';
export { ProtocolState, WebSocketProtocol, type ProtocolHandler, type ProtocolOptions } from './protocol.ts';
export { KEY_NONCE_BYTES, acceptKey, acceptKeyOf, generateKey, isValidKey, type Sha1, type SyncSha1 } from './accept_key.ts';
export { sha1 } from './sha1.ts';
export {
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_HEADERS,
  HttpHeadParser,
  ReasonPhrase,
  checkHeaderField,
  headerFieldEntries,
  parseRequestHead,
  parseResponseHead,
  serializeRequestHead,
  serializeResponseHead,
} from './http_head.ts';
export type {
  HeaderFieldsInit,
  HeaderLookup,
  HttpHeadFields,
  HttpHeadKind,
  HttpHeadOf,
  HttpHeadOptions,
  HttpHeadResult,
  KnownStatus,
  RequestHead,
  ResponseHead,
} from './http_head.ts';
export {
  checkExtensions,
  checkProtocols,
  isToken,
  isValidHost,
  listContainsToken,
  parseExtensionHeader,
  parseProtocolHeader,
  serializeExtensionHeader,
  serializeProtocolHeader,
} from './header_grammar.ts';
export type { ExtensionOffer, ExtensionParam } from './header_grammar.ts';
export { PERMESSAGE_DEFLATE, acceptDeflateOffer, agreementFromResponse, buildDeflateOffer, checkDeflateNegotiationOptions, deflateAgreementOf, parseDeflateParams, type DeflateAgreement, type DeflateNegotiationOptions, type DeflateParams } from './permessage_deflate_params.ts';
export { WEBSOCKET_VERSION, acceptUpgrade, buildRejection, buildServerResponse, serverResponse, validateUpgradeRequest } from './server_handshake.ts';
export type {
  AcceptedUpgrade,
  NegotiatedUpgrade,
  ServerHandshakeOptions,
  ServerResponseInit,
  UpgradeRequest,
} from './server_handshake.ts';
export { buildClientRequest, checkServerResponse, parseWebSocketUrl, validateServerResponse } from './client_handshake.ts';
export {
  ServerHandshake,
  type HandshakeRefusal,
  type NeedMoreBytes,
  type RefusalInit,
  type RequestRead,
  type ServerAcceptance,
  type ServerDecision,
  type ServerHandshakeInit,
  type ServerHandshakeStep,
} from './server_handshake_decision.ts';
export { ClientHandshake, type ClientAcceptance, type ClientHandshakeInit, type ClientHandshakeStep, type ClientRefusal } from './client_handshake_decision.ts';
export { basicCredentials, percentDecode } from './basic_credentials.ts';
export type { ClientHandshakeResult, ClientRequest, ClientRequestOptions, ExpectedUpgrade, UpgradeResponse } from './client_handshake.ts';
export {
  ConnectionClosedError,
  WebSocketConnection,
  type ByteTransport,
  type CloseInfo,
  type CloseOptions,
  type ConnectionOptions,
  type HeartbeatOptions,
  type Message,
  type SendData,
  type SendOptions,
  type Timers,
} from './connection.ts';
export {
  PerMessageDeflate,
  checkDeflateSendOptions,
  type DeflateSendOptions,
  type PerMessageDeflateOptions,
} from './per_message_deflate.ts';
export {
  clientDeflateOffers,
  perMessageDeflateFor,
  resolveDeflate,
  serverDeflateNegotiator,
  type PerMessageDeflateSetting,
  type ResolvedDeflate,
} from './deflate_settings.ts';
export { MessageAssembler, type AssembledMessage } from './message_assembler.ts';
export { FrameDecoderStream, type FrameDecoderStreamOptions } from './frame_decoder_stream.ts';
export { FrameEncoderStream, type FrameEncoderStreamOptions } from './frame_encoder_stream.ts';
export { MessageDecoderStream, type MessageDecoderStreamOptions } from './message_decoder_stream.ts';
export { MessageEncoderStream, type MessageEncoderStreamOptions } from './message_encoder_stream.ts';
export {
  DuplexTransport,
  clientHandshake,
  openConnection,
  serverHandshake,
  type ByteDuplex,
  type DuplexClientOptions,
  type DuplexHandshakeOptions,
  type DuplexServerOptions,
} from './duplex.ts';
export { createDuplexPair, type DuplexPairOptions } from './memory_duplex.ts';
export { BufferedAmountError, checkBufferedAmountLimit, defaultMaxBufferedAmount, SERVER_BUFFERED_AMOUNT, type BufferedAmountLimit, type BufferedAmountPolicy, type ResolvedBufferedAmountLimit } from './buffered_amount_policy.ts';
export { fieldValues, headersOf } from './field_lines.ts';
export {
  ProxyError,
  authorityOf,
  checkConnectResponse,
  connectRequest,
  isIpLiteral,
  proxyAuthorization,
  proxyEndpoint,
  type ConnectRequest,
  type ProxyEndpoint,
} from './proxy_connect.ts';
