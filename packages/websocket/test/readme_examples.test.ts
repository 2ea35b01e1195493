/**
 * The examples of README.md, run as written (modulo the test framework).
 */
import { describe, expect, it } from 'vitest';
import { TestServer, WebSocket, WebSocketError, WebSocketStream } from '../src/index.ts';
import { uniqueUrl } from './helpers.ts';

/** The application of the mock-socket migration example: it uses the global WebSocket. */
class ChatApp {
  readonly messages: unknown[] = [];
  readonly #connection: WebSocket;

  constructor(url: string) {
    const Global = (globalThis as unknown as { WebSocket: typeof WebSocket }).WebSocket;
    this.#connection = new Global(url);
    this.#connection.onmessage = (event) => this.messages.push(event.data);
  }

  sendMessage(message: string): void {
    if (this.#connection.readyState === WebSocket.OPEN) this.#connection.send(message);
    else this.#connection.addEventListener('open', () => this.#connection.send(message), { once: true });
  }
}

describe('README examples', () => {
  it('the test server quick start', async () => {
    const url = uniqueUrl('readme', '/chat');
    const server = new TestServer(url);
    const ws = new WebSocket(`${url}?room=1`);
    const client = await server.nextConnection();
    ws.onopen = () => ws.send('hello');
    expect(await client.nextMessage()).toBe('hello');
    client.send('welcome');
    await server.flush();
    void client.close(4000, 'bye');
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    server.stop();
  });

  it('the mock-socket migration', async () => {
    const url = uniqueUrl('localhost');
    const server = new TestServer(url).install();
    const app = new ChatApp(url);
    const socket = await server.nextConnection();
    app.sendMessage('hi from the app');
    expect(await socket.nextMessage()).toBe('hi from the app');
    socket.send('hi from the server');
    await server.flush();
    expect(app.messages).toEqual(['hi from the server']);
    server.stop();
  });

  it('the WebSocketStream example', async () => {
    const url = uniqueUrl('feed');
    const server = new TestServer(url, {
      protocols: ['v1'],
      onconnection: (c) => {
        c.onmessage = (m) => {
          if (m === 'subscribe') for (const item of ['a', new Uint8Array([1]), 'bye']) c.send(item);
        };
      },
    });
    const controller = new AbortController();
    const wss = new WebSocketStream(url, { protocols: ['v1'], signal: controller.signal });
    const { readable, writable, protocol } = await wss.opened;
    expect(protocol).toBe('v1');
    const writer = writable.getWriter();
    await writer.write('subscribe');
    const seen: unknown[] = [];
    // `for await (const message of readable)` in the README; a reader here, as not every
    // TypeScript lib types ReadableStream as async iterable.
    const reader = readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      seen.push(r.value);
      if (r.value === 'bye') break;
    }
    await reader.cancel();
    expect(seen).toEqual(['a', new Uint8Array([1]), 'bye']);
    writer.releaseLock();
    await writable.abort(new WebSocketError('', { closeCode: 4000, reason: 'done' })).catch(() => undefined);
    await wss.closed.catch(() => undefined);
    await server.flush();
    // The readable was cancelled first (no code); abort after it changes nothing.
    expect(server.connections[0]!.closeInfo?.closeCode).toBe(1005);
    server.stop();
  });
});
