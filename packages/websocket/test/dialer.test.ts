/**
 * Dialers: the contract the facade relies on, and the two ways to hand a connection over —
 * already reading (as the codec's `clientHandshake` does), or with `start()` left to the
 * facade, which then sees every message and every protocol error.
 */
import {
  DuplexTransport,
  HttpHeadParser,
  WebSocketConnection,
  buildClientRequest,
  createDuplexPair,
  encodeUtf8,
  validateServerResponse,
  type ResponseHead,
} from '@wsflow/codec';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, TestServer, WebSocketStream, createWebSocketClass, createWebSocketStreamClass, dialedParts, type Dialer, type TestServerOptions } from '../src/index.ts';
import { record, uniqueUrl } from './helpers.ts';

/**
 * A dialer over a memory network that does the client handshake by hand with the codec's
 * pieces and hands the connection over before it reads: a `DialedConnection`.
 */
function deferredStartDialer(network: MemoryNetwork): Dialer {
  return async ({ url, protocols }) => {
    const endpoint = network.lookup(url);
    if (endpoint === undefined) throw new Error('refused');
    const [client, server] = createDuplexPair();
    let handshakeDone!: () => void;
    endpoint.acceptConnection(server, { url, clientHandshake: new Promise<void>((resolve) => (handshakeDone = resolve)) });
    try {
      const request = buildClientRequest({ url, protocols });
      const writer = client.writable.getWriter();
      await writer.write(encodeUtf8(request.request));
      writer.releaseLock();
      const reader = client.readable.getReader();
      const parser = new HttpHeadParser('response');
      let head: { head: ResponseHead; rest: Uint8Array } | null = null;
      while (head === null) {
        const { done, value } = await reader.read();
        if (done) throw new Error('the server ended the handshake');
        head = parser.push(value);
      }
      reader.releaseLock();
      const result = await validateServerResponse(head.head, request);
      const transport = new DuplexTransport(client);
      const connection = new WebSocketConnection(transport, { role: 'client', protocol: result.protocol });
      transport.attach(connection);
      const rest = head.rest.slice();
      return { connection, start: () => transport.start(rest) };
    } finally {
      handshakeDone();
    }
  };
}

function setup(options: TestServerOptions = {}) {
  const network = new MemoryNetwork();
  const url = uniqueUrl('dialer');
  const server = new TestServer(url, { network, ...options });
  const dialer = deferredStartDialer(network);
  return { server, url, WS: createWebSocketClass({ dialer }), WSS: createWebSocketStreamClass({ dialer }) };
}

describe('dialedParts', () => {
  it('takes a connection as already started, and a DialedConnection as it is', () => {
    const [duplex] = createDuplexPair();
    const connection = new WebSocketConnection(new DuplexTransport(duplex), { role: 'client' });
    const plain = dialedParts(connection);
    expect(plain.connection).toBe(connection);
    expect(() => plain.start()).not.toThrow();
    let started = 0;
    const pending = { connection, start: () => void started++ };
    dialedParts(pending).start();
    expect(started).toBe(1);
  });
});

describe('a dialer that leaves start() to the facade', () => {
  it('opens and exchanges messages', async () => {
    const { server, url, WS } = setup({ echo: true, protocols: ['p'] });
    const ws = new WS(url, 'p');
    const log = record(ws);
    ws.onopen = () => ws.send('round');
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(round)']);
    expect(ws.protocol).toBe('p');
    server.dropAll();
  });

  it('delivers, in order, what the server sent right after accepting', async () => {
    const { server, url, WS } = setup({
      onconnection: (c) => {
        for (const m of ['1', '2', '3']) c.send(m);
        void c.close(4000, 'done');
      },
    });
    const ws = new WS(url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(1)', 'message(2)', 'message(3)', 'close(4000,"done",true,3)']);
  });

  it('sees a protocol error right after the handshake as a failure: error, then close 1006', async () => {
    const { server, url, WS } = setup({ onconnection: (c) => c.sendFrame({ opcode: 0x3 }) });
    const ws = new WS(url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(['open(1)', 'error(3)', 'close(1006,"",false,3)']);
    expect(server.connections[0]!.closeInfo?.closeCode).toBe(1002);
  });

  it('sees a FIN right after the handshake as a lost connection: close 1006 without error', async () => {
    const { server, url, WS } = setup({ onconnection: (c) => c.end() });
    const ws = new WS(url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(['open(1)', 'close(1006,"",false,3)']);
  });

  it('serves WebSocketStream too, keeping messages until the readable is read', async () => {
    const { server, url, WSS } = setup({ onconnection: (c) => c.send('early') });
    const wss = new WSS(url);
    expect(wss).toBeInstanceOf(WebSocketStream);
    const { readable } = await wss.opened;
    expect((await readable.getReader().read()).value).toBe('early');
    server.dropAll();
  });
});
