/**
 * `WebSocket#send(data)`, from the WebSockets Standard: the InvalidStateError while
 * connecting, the four kinds of data, the USVString conversion, and sends after closing.
 */
import { describe, expect, it } from 'vitest';
import { WebSocketConnection } from '@wsflow/codec';
import { createWebSocketClass, WebSocket, type TestServer, type TestConnection } from '../src/index.ts';
import { expectDOMException, nextEvent, record, startServer } from './helpers.ts';

async function open(server: TestServer = startServer()): Promise<{ server: TestServer; ws: WebSocket; client: TestConnection }> {
  const ws = new WebSocket(server.url);
  const client = await server.nextConnection();
  await nextEvent(ws, 'open');
  return { server, ws, client };
}

describe('WebSocket#send: state', () => {
  // "If this's ready state is CONNECTING, then throw an "InvalidStateError" DOMException."
  it('throws InvalidStateError while CONNECTING', () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    expectDOMException(() => ws.send('x'), 'InvalidStateError');
  });

  it('throws InvalidStateError after the server accepted but before the open task', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    await server.nextConnection();
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expectDOMException(() => ws.send('x'), 'InvalidStateError');
  });

  it('does not count a send that threw in bufferedAmount', () => {
    const ws = new WebSocket(startServer().url);
    expect(() => ws.send('abc')).toThrow();
    expect(ws.bufferedAmount).toBe(0);
  });

  it('throws a TypeError without an argument (before the state check)', () => {
    const ws = new WebSocket(startServer().url);
    expect(() => (ws as unknown as { send(): void }).send()).toThrow(TypeError);
  });

  it('throws a TypeError for a Symbol (USVString conversion)', async () => {
    const { ws } = await open();
    expect(() => ws.send(Symbol('s') as unknown as string)).toThrow(TypeError);
  });
});

describe('WebSocket#send: buffers Web IDL refuses (no [AllowShared], no [AllowResizable])', () => {
  const hasResizable = typeof (ArrayBuffer.prototype as { resize?: unknown }).resize === 'function';
  const makeResizable = (): ArrayBuffer => new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4, { maxByteLength: 16 });
  const cases: Array<[string, () => unknown]> = [
  ];
  // A page that is not cross-origin isolated (Chromium's test page) has no SharedArrayBuffer.
  if (typeof SharedArrayBuffer === 'function') {
    cases.push(['a SharedArrayBuffer', () => new SharedArrayBuffer(4)]);
    cases.push(['a view on a SharedArrayBuffer', () => new Uint8Array(new SharedArrayBuffer(4))]);
  }
  if (hasResizable) {
    cases.push(['a resizable ArrayBuffer', () => makeResizable()]);
    cases.push(['a view on a resizable ArrayBuffer', () => new Uint8Array(makeResizable())]);
  }

  // The argument is converted before the method's steps: a TypeError even while CONNECTING
  // (where an acceptable argument gets InvalidStateError), as Chromium does.
  it.each(cases)('throws a TypeError for %s, before the state check, and sends nothing', async (_name, make) => {
    const connecting = new WebSocket(startServer().url);
    expect(() => connecting.send(make() as ArrayBuffer)).toThrow(TypeError);
    connecting.close();
    const { server, ws, client } = await open();
    ws.send('marker');
    expect(() => ws.send(make() as ArrayBuffer)).toThrow(TypeError);
    expect(ws.bufferedAmount).toBe(6);
    await server.flush();
    expect(client.messages).toEqual(['marker']);
  });
});

describe('WebSocket#send: data', () => {
  it('sends a string as a text message', async () => {
    const { server, ws, client } = await open();
    ws.send('héllo €');
    await server.flush();
    expect(client.messages).toEqual(['héllo €']);
  });

  it('sends the empty string as an empty text message', async () => {
    const { server, ws, client } = await open();
    ws.send('');
    await server.flush();
    expect(client.messages).toEqual(['']);
  });

  // Web IDL `(BufferSource or Blob or USVString)`: anything else converts to a string.
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    [42, '42'],
    [true, 'true'],
    [{}, '[object Object]'],
    [{ toString: () => 'custom' }, 'custom'],
    [['a', 'b'], 'a,b'],
  ])('sends %j as the text %j', async (data, text) => {
    const { server, ws, client } = await open();
    ws.send(data as unknown as string);
    await server.flush();
    expect(client.messages).toEqual([text]);
  });

  it('replaces lone surrogates with U+FFFD (USVString)', async () => {
    const { server, ws, client } = await open();
    ws.send('a\uD800b\uDC00c\uD83D\uDE00');
    await server.flush();
    expect(client.messages).toEqual(['a\uFFFDb\uFFFDc😀']);
  });

  it('sends an ArrayBuffer as a binary message', async () => {
    const { server, ws, client } = await open();
    ws.send(new Uint8Array([1, 2, 3]).buffer);
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array([1, 2, 3])]);
  });

  it('sends only the bytes a view covers', async () => {
    const { server, ws, client } = await open();
    const buffer = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer;
    ws.send(new Uint8Array(buffer, 2, 3));
    ws.send(new DataView(buffer, 6));
    ws.send(new Uint16Array(buffer, 4, 1));
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array([2, 3, 4]), new Uint8Array([6, 7]), new Uint8Array([4, 5])]);
  });

  it('sends an empty ArrayBuffer as an empty binary message', async () => {
    const { server, ws, client } = await open();
    ws.send(new ArrayBuffer(0));
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array(0)]);
  });

  it('sends the bytes as they were at send(): later changes to the buffer do not leak', async () => {
    const { server, ws, client } = await open();
    const bytes = new Uint8Array([1, 2, 3]);
    ws.send(bytes);
    bytes[0] = 99;
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array([1, 2, 3])]);
  });

  it('sends a Blob as a binary message', async () => {
    const { server, ws, client } = await open();
    ws.send(new Blob(['ab', new Uint8Array([0, 255])]));
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array([0x61, 0x62, 0, 255])]);
  });

  it('keeps the order of sends queued behind a Blob being read', async () => {
    const { server, ws, client } = await open();
    const bytes = new Uint8Array([9]);
    ws.send('first');
    ws.send(new Blob(['second']));
    ws.send('third');
    ws.send(bytes);
    bytes[0] = 0; // copied when queued
    ws.send(new Blob(['fifth']));
    ws.send('sixth');
    await server.flush();
    expect(client.messages).toEqual(['first', new Uint8Array([0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64]), 'third', new Uint8Array([9]), new Uint8Array([0x66, 0x69, 0x66, 0x74, 0x68]), 'sixth']);
  });

  it('sends a large message whole', async () => {
    const { server, ws, client } = await open();
    const big = new Uint8Array(300_000).map((_, i) => i & 0xff);
    ws.send(big);
    await server.flush();
    expect(client.messages).toHaveLength(1);
    expect(client.messages[0]).toEqual(big);
  });
});

describe('WebSocket#send: after closing started', () => {
  it('sends nothing after close(), without throwing', async () => {
    const { server, ws, client } = await open();
    ws.send('before');
    ws.close();
    ws.send('after');
    ws.send(new Blob(['after']));
    await server.flush();
    expect(client.messages).toEqual(['before']);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  it('sends nothing once closed, without throwing', async () => {
    const { server, ws, client } = await open();
    await client.close();
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(() => ws.send('late')).not.toThrow();
  });

  it('sends a Blob queued before close() ahead of the Close frame', async () => {
    const { server, ws, client } = await open();
    ws.send(new Blob(['blob']));
    ws.close(4000, 'done');
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array([0x62, 0x6c, 0x6f, 0x62])]);
    expect(client.closeInfo).toEqual({ closeCode: 4000, reason: 'done', wasClean: true });
  });
});

describe('WebSocket#send: buffering never fails a send', () => {
  // The WebSockets Standard: send() queues the data and increases bufferedAmount; it never
  // closes the connection because the peer does not read. wsflow's server connections close
  // a peer that never reads past 32 MiB by default; the facade's client connections must not.
  it('keeps the connection open with 40 MiB queued to a server that never reads', async () => {
    /** A transport that keeps everything written: the server never reads. */
    const stalled = {
      queued: 0,
      write(chunk: Uint8Array): void {
        this.queued += chunk.length;
      },
      end(): void {},
      destroy(): void {},
      pause(): void {},
      resume(): void {},
      get bufferedAmount(): number {
        return this.queued;
      },
    };
    const WS = createWebSocketClass({ dialer: () => Promise.resolve(new WebSocketConnection(stalled, { role: 'client' })) });
    const ws = new WS('ws://never-reads.test/');
    const log = record(ws);
    await nextEvent(ws, 'open');
    const MiB = 1024 * 1024;
    const chunk = new Uint8Array(MiB);
    for (let i = 0; i < 40; i++) ws.send(chunk);
    // Let the send queue drain into the connection and any event fire.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    expect(stalled.queued).toBeGreaterThan(40 * MiB);
    expect(ws.readyState).toBe(WS.OPEN);
    expect(ws.bufferedAmount).toBe(40 * MiB);
    expect(log).toEqual(['open(1)']);
  });
});
