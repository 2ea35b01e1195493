// The typical imports `npm run size` measures (bench/size/run.mjs): each is the source of
// an application module that re-exports what it uses, so the bundler keeps exactly that.
export const ENTRIES = [
  {
    name: 'codec-acceptKey',
    platform: 'browser',
    description: 'acceptKey alone (a server handshake helper, with its synchronous SHA-1)',
    source: "export { acceptKey } from '@wsflow/codec';",
  },
  {
    name: 'codec-streams',
    platform: 'browser',
    description: 'the codec as WHATWG streams: frame and message decoder/encoder streams',
    source:
      "export { FrameDecoderStream, FrameEncoderStream, MessageDecoderStream, MessageEncoderStream } from '@wsflow/codec';",
  },
  {
    name: 'codec-connection',
    platform: 'browser',
    description: 'WebSocketConnection with the client handshake helpers (a client over any byte stream)',
    source:
      "export { WebSocketConnection, buildClientRequest, validateServerResponse, HttpHeadParser } from '@wsflow/codec';",
  },
  {
    name: 'websocket-facade',
    platform: 'browser',
    description: 'the WHATWG WebSocket class of @wsflow/websocket',
    source: "export { WebSocket } from '@wsflow/websocket';",
  },
  {
    name: 'websocket-stream-native',
    platform: 'browser',
    description: "WebSocketStream over the browser's own WebSocket (NativeWebSocketStream)",
    source: "export { NativeWebSocketStream } from '@wsflow/websocket';",
  },
  {
    name: 'websocket-testserver',
    platform: 'browser',
    description: 'the in-memory TestServer with the WebSocket that reaches it (a test bundle)',
    source: "export { TestServer, WebSocket } from '@wsflow/websocket';",
  },
  {
    name: 'node-serve',
    platform: 'node',
    description: 'the Node server: serve from @wsflow/node (node:* builtins external)',
    source: "export { serve } from '@wsflow/node';",
  },
  {
    name: 'node-connect',
    platform: 'node',
    description: 'the Node client: connect from @wsflow/node',
    source: "export { connect } from '@wsflow/node';",
  },
];
