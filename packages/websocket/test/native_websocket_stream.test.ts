/**
 * `NativeWebSocketStream`: the WebSocketStream built over a runtime's own `WebSocket` (for
 * Firefox and Safari). Here the "native" WebSocket is this package's, over the in-memory
 * server, so the same behaviour as `WebSocketStream` can be checked in every runtime;
 * test-e2e runs it over Chromium's own WebSocket.
 */
import { describe, expect, it } from 'vitest';
import {
  NativeWebSocketStream,
  WebSocket,
  WebSocketError,
  createNativeWebSocketStreamClass,
  type TestServer,
} from '../src/index.ts';
import { expectDOMException, rejection, startServer, uniqueUrl } from './helpers.ts';

const NativeStream = createNativeWebSocketStreamClass({ WebSocket, drainPollInterval: 0 });

async function open(server: TestServer = startServer(), protocols?: string[]) {
  const wss = new NativeStream(server.url, { protocols });
  const client = await server.nextConnection();
  const info = await wss.opened;
  return { server, wss, client, info };
}

describe('NativeWebSocketStream: construction', () => {
  it('validates the URL and protocols like WebSocketStream', () => {
    expectDOMException(() => new NativeStream('ftp://x.test/'), 'SyntaxError');
    expectDOMException(() => new NativeStream('ws://x.test/#'), 'SyntaxError');
    expectDOMException(() => new NativeStream(uniqueUrl(), { protocols: ['a', 'A'] }), 'SyntaxError');
    expect(() => new NativeStream(uniqueUrl(), { signal: 1 as unknown as AbortSignal })).toThrow(TypeError);
  });

  it('maps https: to wss: in url', () => {
    const wss = new NativeStream('https://native.test/x');
    expect(wss.url).toBe('wss://native.test/x');
    wss.close();
  });

  it('throws a TypeError when there is no WebSocket to build on', () => {
    const Missing = createNativeWebSocketStreamClass({ WebSocket: undefined });
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    Object.defineProperty(globalThis, 'WebSocket', { value: undefined, configurable: true, writable: true });
    try {
      expect(() => new Missing(uniqueUrl())).toThrow(TypeError);
    } finally {
      if (saved === undefined) delete (globalThis as Record<string, unknown>).WebSocket;
      else Object.defineProperty(globalThis, 'WebSocket', saved);
    }
  });

  it('is what NativeWebSocketStream is, made with other options', () => {
    expect(new NativeStream(uniqueUrl())).toBeInstanceOf(NativeWebSocketStream);
  });
});

describe('NativeWebSocketStream: open, read, write', () => {
  it('resolves opened with the protocol and streams', async () => {
    const { info } = await open(startServer({ protocols: ['b'] }), ['a', 'b']);
    expect(info.protocol).toBe('b');
    expect(info.extensions).toBe('');
  });

  it('reads text and binary messages', async () => {
    const { server, client, info } = await open();
    client.send('text');
    client.send(new Uint8Array([1, 2, 3]));
    await server.flush();
    const reader = info.readable.getReader();
    expect((await reader.read()).value).toBe('text');
    expect((await reader.read()).value).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('writes text and copies of binary', async () => {
    const { server, client, info } = await open();
    const writer = info.writable.getWriter();
    const bytes = new Uint8Array([5, 6]);
    const written = writer.write(bytes);
    bytes[0] = 0;
    await written;
    await writer.write('str');
    await writer.write(new DataView(new Uint8Array([1, 2, 3]).buffer, 2));
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array([5, 6]), 'str', new Uint8Array([3])]);
  });

  it('waits while bufferedAmount is above the high-water mark', async () => {
    const server = startServer();
    const Small = createNativeWebSocketStreamClass({ WebSocket, writableHighWaterMark: 1024, drainPollInterval: 0 });
    const wss = new Small(server.url);
    const client = await server.nextConnection();
    const { writable } = await wss.opened;
    client.pauseReading();
    const writer = writable.getWriter();
    let done = false;
    // The read the server had already started takes the first; the second backs up.
    void writer.write(new Uint8Array(512 * 1024));
    const write = writer.write(new Uint8Array(512 * 1024)).then(() => (done = true));
    await server.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(done).toBe(false);
    client.resumeReading();
    await write;
    expect(done).toBe(true);
  });
});

describe('NativeWebSocketStream: closing and failures', () => {
  it('close() sends the code and reason; closed resolves', async () => {
    const { server, wss, client } = await open();
    wss.close({ closeCode: 4000, reason: 'bye' });
    expect(await wss.closed).toMatchObject({ closeCode: 4000 });
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 4000, reason: 'bye', wasClean: true });
  });

  it('close() without a code sends no body; a reason alone uses 1000', async () => {
    const a = await open();
    a.wss.close();
    expect(await a.wss.closed).toEqual({ closeCode: 1005, reason: '' });
    const b = await open();
    b.wss.close({ reason: 'r' });
    await b.wss.closed;
    await b.server.flush();
    expect(b.client.closeInfo?.closeCode).toBe(1000);
  });

  it('close() validates like WebSocketStream', async () => {
    const { wss } = await open();
    expectDOMException(() => wss.close({ closeCode: 1001 }), 'InvalidAccessError');
    expectDOMException(() => wss.close({ reason: 'x'.repeat(124) }), 'SyntaxError');
    expect(() => wss.close({ closeCode: -5 })).toThrow(TypeError);
  });

  it('cancel and abort with a WebSocketError close with its code', async () => {
    const a = await open();
    await a.info.readable.cancel(new WebSocketError('', { closeCode: 4001, reason: 'c' }));
    await a.wss.closed;
    await a.server.flush();
    expect(a.client.closeInfo).toEqual({ closeCode: 4001, reason: 'c', wasClean: true });
    const b = await open();
    await b.info.writable.abort(new WebSocketError('', { closeCode: 4002 }));
    await b.wss.closed;
    await b.server.flush();
    expect(b.client.closeInfo?.closeCode).toBe(4002);
  });

  it('the server closing closes the readable after its messages and errors the writable', async () => {
    const { server, wss, client, info } = await open();
    client.send('last');
    void client.close(4100, 'end');
    await server.flush();
    expect(await wss.closed).toEqual({ closeCode: 4100, reason: 'end' });
    const reader = info.readable.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 'last' });
    expect((await reader.read()).done).toBe(true);
    expect(((await rejection(info.writable.getWriter().write('x'))) as DOMException).name).toBe('InvalidStateError');
  });

  it('a dropped connection rejects closed with WebSocketError 1006 and errors the streams', async () => {
    const { server, wss, client, info } = await open();
    client.drop();
    await server.flush();
    const error = (await rejection(wss.closed)) as WebSocketError;
    expect(error).toBeInstanceOf(WebSocketError);
    expect(error.closeCode).toBe(1006);
    expect(await rejection(info.readable.getReader().read())).toBe(error);
  });

  it('a refused handshake rejects opened and closed', async () => {
    const server = startServer({ onhandshake: (h) => h.reject(403) });
    const wss = new NativeStream(server.url);
    expect(await rejection(wss.opened)).toBeInstanceOf(WebSocketError);
    expect(((await rejection(wss.closed)) as WebSocketError).closeCode).toBe(1006);
  });

  it('an aborted signal rejects with its reason, before or during the handshake', async () => {
    const server = startServer({ autoAccept: false });
    const reason = new Error('stop');
    const early = new NativeStream(server.url, { signal: AbortSignal.abort(reason) });
    expect(await rejection(early.opened)).toBe(reason);
    expect(await rejection(early.closed)).toBe(reason);

    const controller = new AbortController();
    const late = new NativeStream(server.url, { signal: controller.signal });
    const handshake = await server.nextHandshake();
    controller.abort(reason);
    expect(await rejection(late.opened)).toBe(reason);
    expect(await rejection(late.closed)).toBe(reason);
    await server.flush();
    expect(handshake.state).toBe('dropped');
  });
});
