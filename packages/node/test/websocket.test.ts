// The minimal WHATWG WebSocket over connect(): states, events and their order, binaryType,
// the exceptions the standard names, against our own server.
import { afterEach, describe, expect, test } from 'vitest';
import type { WebSocketConnection } from '@wsflow/codec';
import { CloseEventImpl, serve, WebSocket, type WebSocketServer } from '../src/index.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(handler: NonNullable<Parameters<typeof serve>[0]>['handler'] & {}, options: Parameters<typeof serve>[0] = {}): Promise<WebSocketServer> {
  const server = await serve({ ...options, handler });
  cleanups.push(() => server.close());
  return server;
}

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

function events(ws: WebSocket): string[] {
  const log: string[] = [];
  for (const type of ['open', 'message', 'error', 'close']) ws.addEventListener(type, () => log.push(type));
  return log;
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => ws.addEventListener('close', (event) => resolve(event as CloseEvent), { once: true }));
}

function message(ws: WebSocket): Promise<MessageEvent> {
  return new Promise((resolve) => ws.addEventListener('message', (event) => resolve(event as MessageEvent), { once: true }));
}

describe('WebSocket', () => {
  test('opens, exchanges text, closes cleanly, with readyState and events in order', async () => {
    const server = await start(echo, { handleProtocols: (offered) => offered[1] ?? null });
    const ws = new WebSocket(server.url, ['one', 'two']);
    const log = events(ws);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.url).toBe(server.url);
    expect(() => ws.send('too early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    await new Promise((resolve) => (ws.onopen = resolve));
    expect(ws.readyState).toBe(ws.OPEN);
    expect(ws.protocol).toBe('two');
    expect(ws.extensions).toBe('');
    ws.send('hello ✓');
    const event = await message(ws);
    expect(event.data).toBe('hello ✓');
    expect(event.origin).toBe(new URL(server.url).origin);
    ws.close(4000, 'done');
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const close = await closed(ws);
    // Our server echoes the code and the reason, so the client reports its own words back.
    expect(close).toBeInstanceOf(CloseEventImpl);
    expect({ code: close.code, reason: close.reason, wasClean: close.wasClean }).toEqual({ code: 4000, reason: 'done', wasClean: true });
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(log).toEqual(['open', 'message', 'close']);
  });

  test('binaryType selects Blob (default) or ArrayBuffer', async () => {
    const server = await start(echo);
    const ws = new WebSocket(server.url);
    await new Promise((resolve) => (ws.onopen = resolve));
    expect(ws.binaryType).toBe('blob');
    ws.send(new Uint8Array([1, 2, 3]));
    const blob = (await message(ws)).data as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);
    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'nodebuffer' as 'blob'; // ignored, as the IDL enum requires
    expect(ws.binaryType).toBe('arraybuffer');
    // Both echoes may arrive in one read and be dispatched in one task: record them all.
    const received: ArrayBuffer[] = [];
    ws.addEventListener('message', (event) => received.push((event as MessageEvent).data as ArrayBuffer));
    ws.send(new Blob([new Uint8Array([4, 5])]));
    ws.send(new Float32Array([1.5]).buffer);
    await expect.poll(() => received.length).toBe(2);
    expect(received[0]).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(received[0])]).toEqual([4, 5]);
    expect(new Float32Array(received[1])[0]).toBe(1.5);
    ws.close();
    await closed(ws);
  });

  test('the server closing is reported with its code and reason', async () => {
    const server = await start((conn) => {
      conn.onmessage = () => conn.close({ closeCode: 4321, reason: 'bye ✓' });
    });
    const ws = new WebSocket(server.url);
    ws.onopen = () => ws.send('close please');
    const close = await closed(ws);
    expect({ code: close.code, reason: close.reason, wasClean: close.wasClean }).toEqual({ code: 4321, reason: 'bye ✓', wasClean: true });
  });

  test('a refused handshake fires error, then close 1006', async () => {
    const server = await start(echo, { allowedOrigins: ['https://only.example'] });
    const ws = new WebSocket(server.url, { origin: 'https://evil.example' });
    const log = events(ws);
    const close = await closed(ws);
    expect(close.code).toBe(1006);
    expect(close.wasClean).toBe(false);
    expect(log).toEqual(['error', 'close']);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  test('close() while connecting fails the connection: error, then close 1006', async () => {
    const server = await start(echo);
    const ws = new WebSocket(server.url);
    const log = events(ws);
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const close = await closed(ws);
    expect(close.code).toBe(1006);
    expect(log).toEqual(['error', 'close']);
  });

  test('close() arguments are checked as the standard says', async () => {
    const server = await start(echo);
    const ws = new WebSocket(server.url);
    await new Promise((resolve) => (ws.onopen = resolve));
    expect(() => ws.close(1001)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => ws.close(5000)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => ws.close(1000, 'x'.repeat(124))).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close(1000, 'é'.repeat(61)); // 122 bytes: fine
    expect((await closed(ws)).code).toBe(1000);
  });

  test('the constructor refuses bad URLs and protocols with SyntaxError, and maps http(s)', async () => {
    for (const url of ['ftp://x/', 'ws://x/#frag', 'nonsense']) {
      expect(() => new WebSocket(url)).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    }
    expect(() => new WebSocket('ws://127.0.0.1:1/', ['a', 'a'])).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WebSocket('ws://127.0.0.1:1/', ['bad token'])).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    const server = await start(echo);
    const ws = new WebSocket(server.url.replace(/^ws:/, 'http:'));
    expect(ws.url).toBe(server.url);
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.close();
    await closed(ws);
  });

  test('bufferedAmount counts data sent after closing started', async () => {
    const server = await start(echo);
    const ws = new WebSocket(server.url);
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.close();
    ws.send('12345');
    ws.send(new Uint8Array(10));
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(15);
    await closed(ws);
  });

  test('event handler attributes and listeners both fire; null clears a handler', async () => {
    const server = await start(echo);
    const ws = new WebSocket(server.url);
    const seen: string[] = [];
    ws.onmessage = () => seen.push('attribute');
    ws.addEventListener('message', () => seen.push('listener'));
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.send('a');
    await message(ws);
    ws.onmessage = null;
    expect(ws.onmessage).toBe(null);
    ws.send('b');
    await message(ws);
    expect(seen).toEqual(['attribute', 'listener', 'listener']);
    ws.close();
    await closed(ws);
  });
});
