/**
 * The events of `WebSocket`: their interfaces and attributes, the event handler IDL
 * attributes, and their order and timing ("Feedback from the protocol"), including every
 * way a connection fails.
 */
import { acceptKey, ProtocolError } from '@wsflow/codec';
import { describe, expect, it } from 'vitest';
import { CloseEventImpl, ErrorEventImpl, ErrorEventPolyfill, MessageEventImpl, WebSocket, type ErrorEventLike, type TestConnection, type TestServer } from '../src/index.ts';
import { blobBytes, nextEvent, record, startServer } from './helpers.ts';

async function open(server: TestServer = startServer()): Promise<{ server: TestServer; ws: WebSocket; client: TestConnection; log: string[] }> {
  const ws = new WebSocket(server.url);
  const log = record(ws);
  const client = await server.nextConnection();
  await nextEvent(ws, 'open');
  return { server, ws, client, log };
}

describe('WebSocket events: interfaces', () => {
  it('fires open as a plain Event that does not bubble and cannot be canceled', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const event = await nextEvent(ws, 'open');
    expect(event.constructor).toBe(Event);
    expect(event.type).toBe('open');
    expect(event.bubbles).toBe(false);
    expect(event.cancelable).toBe(false);
    expect(event.target).toBe(ws);
  });

  it('fires message as a MessageEvent with data and the origin of the URL', async () => {
    const { ws, client } = await open(startServer({}, 'ws://origin.test:8080/path?q=1'));
    client.send('hi');
    const event = await nextEvent<MessageEvent>(ws, 'message');
    expect(event).toBeInstanceOf(MessageEventImpl);
    if (typeof globalThis.MessageEvent === 'function') expect(event).toBeInstanceOf(globalThis.MessageEvent);
    expect(event.data).toBe('hi');
    expect(event.origin).toBe('ws://origin.test:8080');
    expect(event.lastEventId).toBe('');
    expect(event.source).toBe(null);
    expect(event.bubbles).toBe(false);
    expect(event.cancelable).toBe(false);
  });

  it('uses the mapped scheme in the origin of an https URL', async () => {
    const server = startServer({}, 'wss://secure-origin.test/');
    const ws = new WebSocket('https://secure-origin.test/');
    const client = await server.nextConnection();
    client.send('x');
    const event = await nextEvent<MessageEvent>(ws, 'message');
    expect(event.origin).toBe('wss://secure-origin.test');
  });

  it('fires close as a CloseEvent with wasClean, code and reason', async () => {
    const { ws, client } = await open();
    void client.close(4001, 'later');
    const event = await nextEvent<CloseEvent>(ws, 'close');
    expect(event).toBeInstanceOf(CloseEventImpl);
    if (typeof globalThis.CloseEvent === 'function') expect(event).toBeInstanceOf(globalThis.CloseEvent);
    expect([event.wasClean, event.code, event.reason]).toEqual([true, 4001, 'later']);
    expect(event.bubbles).toBe(false);
    expect(event.cancelable).toBe(false);
  });

  it('fires error as an ErrorEvent whose message and error give the HTTP status of a refusal', async () => {
    const server = startServer({ autoAccept: false });
    const ws = new WebSocket(server.url);
    (await server.nextHandshake()).reject(403);
    const event = await nextEvent<ErrorEventLike>(ws, 'error');
    expect(event).toBeInstanceOf(ErrorEventImpl);
    expect(event).toBeInstanceOf(Event);
    if (typeof (globalThis as { ErrorEvent?: unknown }).ErrorEvent === 'function') expect(event.constructor).toBe((globalThis as { ErrorEvent?: unknown }).ErrorEvent);
    expect([event.type, event.bubbles, event.cancelable]).toEqual(['error', false, false]);
    expect(event.message).toMatch(/^WebSocket connection to 'ws:.*' failed: .*403/);
    expect((event.error as { status?: number }).status).toBe(403);
  });

  it('fires error as an ErrorEvent carrying the protocol error and its close code', async () => {
    const { ws, client } = await open();
    // A text frame that is not UTF-8: the client fails the connection with 1007.
    client.sendFrame({ opcode: 0x1, payload: new Uint8Array([0xc3, 0x28]) });
    const event = await nextEvent<ErrorEventLike>(ws, 'error');
    expect(event.error).toBeInstanceOf(ProtocolError);
    expect((event.error as ProtocolError).closeCode).toBe(1007);
    expect(event.message).toMatch(/failed: .*\(close code 1007\)$/);
  });

  it('fires error as an ErrorEvent saying the connection was closed while connecting', async () => {
    const server = startServer({ autoAccept: false });
    const ws = new WebSocket(server.url);
    ws.close();
    const event = await nextEvent<ErrorEventLike>(ws, 'error');
    expect((event.error as DOMException).name).toBe('AbortError');
    expect(event.message).toMatch(/closed before the connection was established/);
  });

  it('ErrorEventPolyfill has the Web IDL shape and converts its init members', () => {
    const error = new Error('x');
    const event = new ErrorEventPolyfill('error', { message: 'why', lineno: -1, colno: 2.7, error });
    expect([event.message, event.filename, event.lineno, event.colno, event.error]).toEqual(['why', '', 2 ** 32 - 1, 2, error]);
    expect(Object.getOwnPropertyDescriptor(ErrorEventPolyfill.prototype, 'message')).toMatchObject({ enumerable: true, configurable: true });
    expect(Object.prototype.toString.call(event)).toBe('[object ErrorEvent]');
  });
});

describe('WebSocket events: message data', () => {
  it('delivers text as a string', async () => {
    const { server, ws, client } = await open();
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data);
    client.send('héllo');
    client.send('');
    await server.flush();
    expect(data).toEqual(['héllo', '']);
  });

  it('delivers binary as a Blob by default', async () => {
    const { server, ws, client } = await open();
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data);
    client.send(new Uint8Array([1, 2, 250]));
    await server.flush();
    expect(data[0]).toBeInstanceOf(Blob);
    expect(await blobBytes(data[0] as Blob)).toEqual([1, 2, 250]);
  });

  it('delivers binary as an ArrayBuffer of exactly the message with binaryType "arraybuffer"', async () => {
    const { server, ws, client } = await open();
    ws.binaryType = 'arraybuffer';
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data);
    // Several messages in one chunk: each gets its own buffer, not a view of the chunk.
    client.send(new Uint8Array([1, 2, 3]));
    client.send(new Uint8Array([4]));
    client.send(new Uint8Array(0));
    await server.flush();
    expect(data.map((d) => d instanceof ArrayBuffer)).toEqual([true, true, true]);
    expect(data.map((d) => Array.from(new Uint8Array(d as ArrayBuffer)))).toEqual([[1, 2, 3], [4], []]);
  });

  it('delivers a message split into fragments as one message', async () => {
    const { server, ws, client } = await open();
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data);
    client.sendFrame({ opcode: 0x1, fin: false, payload: 'Hel' });
    client.ping('interleaved');
    client.sendFrame({ opcode: 0x0, fin: false, payload: 'lo, ' });
    client.sendFrame({ opcode: 0x0, fin: true, payload: 'world' });
    await server.flush();
    expect(data).toEqual(['Hello, world']);
    expect(client.pongs.map((p) => new TextDecoder().decode(p))).toEqual(['interleaved']);
  });

  it('delivers a message written one byte at a time', async () => {
    const { server, ws, client } = await open();
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data);
    for (const byte of [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]) client.sendRaw(new Uint8Array([byte]));
    await server.flush();
    expect(data).toEqual(['Hello']);
  });
});

describe('WebSocket events: handler attributes', () => {
  it('are null initially', () => {
    const ws = new WebSocket(startServer().url);
    expect([ws.onopen, ws.onmessage, ws.onerror, ws.onclose]).toEqual([null, null, null, null]);
  });

  it('treat non-objects as null and keep objects', () => {
    const ws = new WebSocket(startServer().url);
    const handler = () => {};
    ws.onopen = handler;
    expect(ws.onopen).toBe(handler);
    for (const value of ['string', 1, true, undefined, Symbol('s')]) {
      ws.onopen = handler;
      ws.onopen = value as unknown as null;
      expect(ws.onopen).toBe(null);
    }
    const notCallable = { handleEvent() {} };
    ws.onopen = notCallable as unknown as null;
    expect(ws.onopen).toBe(notCallable);
  });

  it('skip a non-callable object without error when the event fires', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    ws.onopen = { handleEvent: () => {} } as unknown as null;
    const opened = nextEvent(ws, 'open');
    await server.flush();
    await opened;
  });

  it('call the handler with this set to the WebSocket and the event', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const seen: unknown[] = [];
    ws.onopen = function (event) {
      seen.push(this, event.type);
    };
    await server.flush();
    expect(seen).toEqual([ws, 'open']);
  });

  // HTML: the listener is added when the handler is first set to non-null; replacing the
  // value keeps its place; null removes it, and setting it again adds it at the end.
  it('run in the order the handler was first set among the listeners', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const order: string[] = [];
    ws.addEventListener('open', () => order.push('listener A'));
    ws.onopen = () => order.push('handler 1');
    ws.addEventListener('open', () => order.push('listener B'));
    ws.onopen = () => order.push('handler 2');
    await server.flush();
    expect(order).toEqual(['listener A', 'handler 2', 'listener B']);
  });

  it('move to the end when set to null and back', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const order: string[] = [];
    ws.onopen = () => order.push('handler 1');
    ws.addEventListener('open', () => order.push('listener'));
    ws.onopen = null;
    ws.onopen = () => order.push('handler 2');
    await server.flush();
    expect(order).toEqual(['listener', 'handler 2']);
  });

  it('are separate per event type and work alongside addEventListener', async () => {
    const { server, ws, client } = await open();
    const seen: string[] = [];
    ws.onmessage = (event) => seen.push(`handler ${event.data}`);
    ws.addEventListener('message', (event) => seen.push(`listener ${event.data}`));
    ws.onclose = (event) => seen.push(`close ${event.code}`);
    client.send('m');
    void client.close(4000);
    await server.flush();
    expect(seen).toEqual(['handler m', 'listener m', 'close 4000']);
  });
});

describe('WebSocket events: order and timing', () => {
  it('fires open, then the messages in order, then close', async () => {
    const server = startServer({
      onconnection: (client) => {
        // Sent before the client's open event fired: delivered after it.
        client.send('one');
        client.send(new Uint8Array([2]));
        client.send('three');
        void client.close(4000, 'done');
      },
    });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(one)', 'message(Blob(1))', 'message(three)', 'close(4000,"done",true,3)']);
  });

  it('fires each event in its own task: microtasks queued by a handler run before the next event', async () => {
    const { server, ws, client } = await open();
    const order: string[] = [];
    ws.onmessage = (event) => {
      order.push(`event ${event.data}`);
      void Promise.resolve().then(() => order.push(`microtask ${event.data}`));
    };
    client.send('a');
    client.send('b');
    await server.flush();
    expect(order).toEqual(['event a', 'microtask a', 'event b', 'microtask b']);
  });

  // "When a WebSocket message has been received [...] 1. If this's ready state is not OPEN
  // (1), then return."
  it('drops messages whose task runs after close() was called', async () => {
    const { server, ws, client, log } = await open();
    ws.onmessage = () => ws.close();
    client.send('first');
    client.send('second');
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(first)', 'close(1005,"",true,3)']);
  });

  it('fires close with the server code and reason when the server closes', async () => {
    const { server, client, log } = await open();
    const info = await client.close(3333, 'server says bye');
    await server.flush();
    expect(log).toEqual(['open(1)', 'close(3333,"server says bye",true,3)']);
    expect(info).toEqual({ closeCode: 3333, reason: 'server says bye', wasClean: true });
  });

  it('reports 1005 when the server closes without a code', async () => {
    const { server, client, log } = await open();
    await client.close();
    await server.flush();
    expect(log).toEqual(['open(1)', 'close(1005,"",true,3)']);
  });

  it('answers the server Ping with a Pong and fires no event', async () => {
    const { server, client, log } = await open();
    client.ping(new Uint8Array([1, 2]));
    client.pong('unsolicited');
    await server.flush();
    expect(client.pongs).toEqual([new Uint8Array([1, 2])]);
    expect(log).toEqual(['open(1)']);
  });
});

describe('WebSocket events: failures fire error, then close 1006', () => {
  const failed = ['error(3)', 'close(1006,"",false,3)'];

  it('when the server rejects the handshake', async () => {
    const server = startServer({ onhandshake: (h) => h.reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } }) });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(failed);
  });

  it('when the server drops the handshake', async () => {
    const server = startServer({ onhandshake: (h) => h.drop() });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(failed);
  });

  // A lost connection is not a failure (RFC 6455 §7.1.7 lists what fails a connection):
  // close reports 1006 (§7.1.5) and no error fires, as in Chromium.
  it('but a connection the server drops after open closes with 1006 without error', async () => {
    const { server, client, log } = await open();
    client.drop();
    await server.flush();
    expect(log).toEqual(['open(1)', 'close(1006,"",false,3)']);
  });

  it('but a connection the server ends without a Close frame closes with 1006 without error', async () => {
    const { server, client, log } = await open();
    client.send('bye');
    client.end();
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(bye)', 'close(1006,"",false,3)']);
  });

  it('when the server answers with a wrong Sec-WebSocket-Accept', async () => {
    const server = startServer({
      onhandshake: (h) => h.respondRaw('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n'),
    });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(failed);
  });

  it('when the server selects a subprotocol that was not offered', async () => {
    const server = startServer({ autoAccept: false });
    const ws = new WebSocket(server.url, ['mine']);
    const log = record(ws);
    const h = await server.nextHandshake();
    const accept = await acceptKey(h.headers.get('sec-websocket-key')!);
    h.respondRaw(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: other\r\n\r\n`);
    await server.flush();
    expect(log).toEqual(failed);
  });

  // WebSockets Standard, "establish a WebSocket connection": "If protocols is not the empty
  // list and extracting header list values given `Sec-WebSocket-Protocol` [...] results in
  // null, failure, or the empty byte sequence, then fail the WebSocket connection."
  it('when subprotocols were offered and the server selected none', async () => {
    const server = startServer({ protocols: [] });
    const ws = new WebSocket(server.url, ['chat']);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(failed);
    expect(server.connections[0]?.closeInfo).toMatchObject({ closeCode: 1006, wasClean: false });
  });

  it.each([
    ['a reserved opcode', { opcode: 0x3 }, 1002],
    ['a reserved control opcode', { opcode: 0xb }, 1002],
    ['RSV1 without an extension', { opcode: 0x1, rsv1: true, payload: 'x' }, 1002],
    ['a masked frame from the server', { opcode: 0x1, payload: 'x', maskKey: 0x01020304 }, 1002],
    ['a fragmented Ping', { opcode: 0x9, fin: false }, 1002],
    ['a Ping over 125 bytes', { opcode: 0x9, payload: new Uint8Array(126) }, 1002],
    ['a continuation with nothing to continue', { opcode: 0x0, payload: 'x' }, 1002],
    ['invalid UTF-8 in a text message', { opcode: 0x1, payload: new Uint8Array([0xc3, 0x28]) }, 1007],
    ['a Close frame with a 1-byte payload', { opcode: 0x8, payload: new Uint8Array([3]) }, 1002],
    ['a Close frame with the reserved code 1005', { opcode: 0x8, payload: new Uint8Array([0x03, 0xed]) }, 1002],
    ['a Close frame with the code 999', { opcode: 0x8, payload: new Uint8Array([0x03, 0xe7]) }, 1002],
    ['a Close frame with an invalid UTF-8 reason', { opcode: 0x8, payload: new Uint8Array([0x03, 0xe8, 0xff]) }, 1007],
  ] as const)('when the server sends %s', async (_name, frame, code) => {
    const { server, client, log } = await open();
    client.sendFrame(frame);
    await server.flush();
    expect(log).toEqual(['open(1)', ...failed]);
    // The client failed the connection with a Close frame carrying the code (RFC 6455 §7.4.1).
    expect(client.closeInfo?.closeCode).toBe(code);
  });

  it('stops delivering after a failure: later frames are not events', async () => {
    const { server, client, log } = await open();
    client.send('before');
    client.sendFrame({ opcode: 0x3 });
    client.sendRaw(new Uint8Array([0x81, 0x05, 0x61, 0x66, 0x74, 0x65, 0x72]));
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(before)', ...failed]);
  });

  it('never fires open after a failed handshake', async () => {
    const server = startServer({ onhandshake: (h) => h.reject(500) });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(log.some((e) => e.startsWith('open'))).toBe(false);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
