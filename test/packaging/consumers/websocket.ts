// A consumer of @wsflow/websocket's public declarations (type-checked by test/packaging/dts.test.ts).
import * as facade from '@wsflow/websocket';
import { TestServer, WebSocket, WebSocketStream } from '@wsflow/websocket';

export const names: string[] = Object.keys(facade);
export function open(): WebSocket {
  const ws = new WebSocket('ws://example.test/chat');
  ws.binaryType = 'arraybuffer';
  ws.addEventListener('message', (event) => void event.data, { once: true });
  ws.onclose = (event) => void event.code;
  return ws;
}
export async function stream(): Promise<void> {
  const { writable } = await new WebSocketStream('ws://example.test/feed').opened;
  await writable.getWriter().write(new Uint8Array([1, 2]));
}
export const server: TestServer = new TestServer('ws://example.test/chat');
