// @wsflow/websocket: the WHATWG WebSocket and WebSocketStream facade, and the in-memory
// test server. This file only re-exports.
export {
  WebSocket,
  createWebSocketClass,
  type BinaryType,
  type WebSocketClassOptions,
  type WebSocketEventHandler,
  type WebSocketEventMap,
  type WebSocketInit,
  type WebSocketSendData,
} from './websocket.ts';
export { ReadyState } from './ready_state.ts';
export { WebSocketStream, createWebSocketStreamClass, type WebSocketStreamClassOptions } from './websocket_stream.ts';
export {
  NativeWebSocketStream,
  createNativeWebSocketStreamClass,
  type NativeWebSocketConstructor,
  type NativeWebSocketLike,
  type NativeWebSocketStreamOptions,
} from './native_websocket_stream.ts';
export { WebSocketError, createWebSocketError } from './websocket_error.ts';
export type { WebSocketCloseInfo, WebSocketClosedInfo, WebSocketOpenInfo, WebSocketStreamOptions } from './websocket_close_info.ts';
export { dialedParts, type DialRequest, type DialedConnection, type Dialer } from './dialer.ts';
export type { FacadeOptions } from './facade_config.ts';
export { ErrorEventImpl, ErrorEventPolyfill, type ErrorEventConstructor, type ErrorEventFields, type ErrorEventLike } from './error_event.ts';
export { CloseEventImpl, CloseEventPolyfill, type CloseEventConstructor, type CloseEventFields, type CloseEventLike } from './close_event.ts';
export { MessageEventImpl, MessageEventPolyfill, type MessageEventConstructor, type MessageEventFields, type MessageEventLike } from './message_event.ts';
export { EventHandlers, type EventHandlerValue } from './event_handler.ts';
export type { AddListenerOptions, EventInitFields, Listener, ListenerOptions } from './dom_dictionaries.ts';
export { getURLRecord, defaultBaseURL, useWebSocketScheme } from './websocket_url.ts';
export { isBadPort, isBlockedPort } from './bad_port.ts';
export { isApplicationCloseCode, validateCloseCodeAndReason } from './close_validation.ts';
export { toProtocolList, validateProtocolList } from './protocol_list.ts';
export { MemoryNetwork, defaultNetwork, endpointKey, type IncomingConnectionInfo, type MemoryEndpoint } from './memory_network.ts';
export { TEST_SERVER_OPTION_NAMES, TestServer, classesFor, resetTestServers, type TestServerOptions } from './test_server.ts';
// The topics' names a TestServer user meets (a backplane joins TestServers, as it joins servers).
export { LocalBackplane, type Backplane, type PublishBackpressure, type PublishStats } from '@wsflow/engine';
export { NotJson, TestConnection, type RawFrame, type TestMessage } from './test_connection.ts';
export { TestHandshake, type AcceptOptions, type HandshakeAnswer, type RejectOptions, type TestHandshakeState } from './test_handshake.ts';
export { MemorySocket } from './memory_socket.ts';
export { Cursor } from './cursor.ts';
export { WaitTimeoutError, configureTestKit, realTimers, showMessage, showMessages, testKitDefaults, withTimeout, type WaitOptions } from './wait.ts';
export { installGlobals, type InstalledClasses } from './install.ts';
export { settle as flushNetwork } from './activity.ts';
export { createClientClasses } from './client_classes.ts';
