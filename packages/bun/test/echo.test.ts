// Our Bun server and our Bun client, end to end: messages of every length class both ways,
// fragmented messages from a raw peer, ping/pong, close codes and reasons both ways, and
// subprotocol selection.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { HandshakeError } from '@wsflow/codec';
import { connect, serve, type WebSocketConnection, type WebSocketServer } from '../src/index.ts';
import { binaryOf, MiB, sameBytes, textOf } from './support/payloads.ts';
import { clientFrame, closePayload, Opcode, RawPeer } from './support/raw_peer.ts';
import { Inbox, until, within } from './support/wait.ts';

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof serve>[0] = {}): Promise<WebSocketServer> {
  const server = await serve({ handler: echo, ...options });
  cleanups.push(() => server.close());
  return server;
}

const SIZES = [0, 125, 126, 65535, 65536, MiB];

describe('echo between our Bun server and our Bun client', () => {
  let server: WebSocketServer;
  let conn: WebSocketConnection;
  let inbox: Inbox;
  const limits = { maxMessage: 32 * MiB, maxPayload: 32 * MiB };

  beforeAll(async () => {
    server = await serve({ handler: echo, ...limits });
    conn = await connect(server.url, { proxy: false, ...limits });
    inbox = new Inbox(conn);
  });
  afterAll(async () => {
    conn.close();
    await within(conn.closed, 3000, 'client close');
    await server.close();
  });

  test.each(SIZES)('a %i-byte text message comes back as the same text', async (size) => {
    const text = textOf(size);
    expect(conn.send(text)).toBe(true);
    const back = await inbox.next();
    expect(typeof back).toBe('string');
    expect(back === text).toBe(true);
  });

  test.each(SIZES)('a %i-byte binary message comes back as the same bytes', async (size) => {
    const bytes = binaryOf(size, size + 1);
    conn.send(bytes);
    const back = await inbox.next();
    expect(back).toBeInstanceOf(Uint8Array);
    expect(sameBytes(back as Uint8Array, bytes)).toBe(true);
  });

  test('16 MiB messages (limits raised to 32 MiB) come back whole, text and binary', async () => {
    const bytes = binaryOf(16 * MiB, 99);
    conn.send(bytes);
    const back = await inbox.next(20_000);
    expect(sameBytes(back as Uint8Array, bytes)).toBe(true);
    const text = textOf(16 * MiB);
    conn.send(text);
    expect((await inbox.next(20_000)) === text).toBe(true);
  }, 40_000);

  test('many small messages keep their order', async () => {
    for (let i = 0; i < 2000; i++) conn.send(`m${i}`);
    for (let i = 0; i < 2000; i++) expect(await inbox.next()).toBe(`m${i}`);
  });

  test('bufferedAmount is back to 0 once everything was echoed', async () => {
    conn.send(binaryOf(4 * MiB));
    await inbox.next(10_000);
    expect(conn.bufferedAmount).toBe(0);
  });
});

describe('limits', () => {
  test('the server closes with 1009 when a message exceeds its maxMessage', async () => {
    const server = await start({ maxMessage: 1000 });
    const conn = await connect(server.url, { proxy: false });
    conn.onmessage = () => {};
    conn.send(new Uint8Array(1001));
    const info = await within(conn.closed, 3000, 'close');
    expect(info.closeCode).toBe(1009);
  });

  test('the default limit refuses a message over 16 MiB with 1009', async () => {
    const server = await start();
    const conn = await connect(server.url, { proxy: false, maxMessage: 32 * MiB });
    conn.onmessage = () => {};
    conn.send(new Uint8Array(16 * MiB + 1));
    expect((await within(conn.closed, 10_000, 'close')).closeCode).toBe(1009);
  }, 15_000);
});

describe('fragmented messages from a raw peer', () => {
  test('the server reassembles a text message in three fragments, with a Ping between them', async () => {
    const server = await start();
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    peer.write(clientFrame(Opcode.Text, 'Hel', { fin: false }));
    peer.write(clientFrame(Opcode.Ping, 'mid'));
    peer.write(clientFrame(Opcode.Continuation, 'lo, ', { fin: false }));
    peer.write(clientFrame(Opcode.Continuation, 'wörld'));
    const pong = await peer.nextFrame();
    expect(pong.opcode).toBe(Opcode.Pong);
    expect(new TextDecoder().decode(pong.payload)).toBe('mid');
    const message = await peer.nextFrame();
    expect(message.opcode).toBe(Opcode.Text);
    expect(message.fin).toBe(true);
    expect(new TextDecoder().decode(message.payload)).toBe('Hello, wörld');
  });

  test('the server reassembles a binary message sent in 1000 one-byte fragments, fed in one write', async () => {
    const server = await start();
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    const payload = binaryOf(1000);
    const frames = Array.from({ length: 1000 }, (_, i) =>
      clientFrame(i === 0 ? Opcode.Binary : Opcode.Continuation, payload.subarray(i, i + 1), { fin: i === 999 }),
    );
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      all.set(f, at);
      at += f.length;
    }
    peer.write(all);
    const message = await peer.nextFrame();
    expect(message.opcode).toBe(Opcode.Binary);
    expect(sameBytes(message.payload, payload)).toBe(true);
  });

  test('a UTF-8 character split across fragments is valid; an invalid sequence closes with 1007', async () => {
    const server = await start();
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    const euro = new TextEncoder().encode('€'); // e2 82 ac
    peer.write(clientFrame(Opcode.Text, euro.subarray(0, 1), { fin: false }));
    peer.write(clientFrame(Opcode.Continuation, euro.subarray(1)));
    expect(new TextDecoder().decode((await peer.nextFrame()).payload)).toBe('€');
    peer.write(clientFrame(Opcode.Text, new Uint8Array([0xc3, 0x28])));
    const close = await peer.nextFrame();
    expect(close.opcode).toBe(Opcode.Close);
    expect((close.payload[0] << 8) | close.payload[1]).toBe(1007);
  });

  test('the server refuses an unmasked client frame with 1002', async () => {
    const server = await start();
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    peer.write(clientFrame(Opcode.Text, 'naked', { mask: false }));
    const close = await peer.nextFrame();
    expect(close.opcode).toBe(Opcode.Close);
    expect((close.payload[0] << 8) | close.payload[1]).toBe(1002);
    await until(() => peer.ended || peer.isClosed, 3000, 'FIN from the server');
  });

  test('frames written in the same packet as the upgrade request are not lost', async () => {
    const server = await start();
    const peer = await RawPeer.open(server.port);
    cleanups.push(() => peer.close());
    const request = new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const frame = clientFrame(Opcode.Text, 'early bird');
    const both = new Uint8Array(request.length + frame.length);
    both.set(request);
    both.set(frame, request.length);
    peer.write(both);
    expect(await peer.head()).toMatch(/^HTTP\/1\.1 101 /);
    expect(new TextDecoder().decode((await peer.nextFrame()).payload)).toBe('early bird');
  });
});

describe('ping and pong', () => {
  test('the client pings, the server answers with the same payload', async () => {
    const server = await start();
    const conn = await connect(server.url, { proxy: false });
    cleanups.push(() => conn.abort());
    const pong = new Promise<Uint8Array>((resolve) => (conn.onpong = resolve));
    conn.ping('are you there');
    expect(new TextDecoder().decode(await within(pong, 3000, 'pong'))).toBe('are you there');
  });

  test('the server pings, the client answers automatically', async () => {
    let serverConn!: WebSocketConnection;
    const server = await start({ handler: (c) => void (serverConn = c) });
    const conn = await connect(server.url, { proxy: false });
    cleanups.push(() => conn.abort());
    const pinged = new Promise<Uint8Array>((resolve) => (conn.onping = resolve));
    await until(() => serverConn !== undefined);
    const pong = new Promise<Uint8Array>((resolve) => (serverConn.onpong = resolve));
    serverConn.ping(new Uint8Array([1, 2, 3]));
    expect([...(await within(pinged, 3000, 'ping'))]).toEqual([1, 2, 3]);
    expect([...(await within(pong, 3000, 'pong'))]).toEqual([1, 2, 3]);
  });
});

describe('closing', () => {
  test('the client closes with a code and reason: both ends report them, cleanly', async () => {
    let serverConn!: WebSocketConnection;
    const server = await start({ handler: (c) => void (serverConn = c) });
    const conn = await connect(server.url, { proxy: false });
    await until(() => serverConn !== undefined);
    conn.close({ closeCode: 4001, reason: 'client says bye ✓' });
    expect(await within(conn.closed, 3000, 'client closed')).toEqual({ closeCode: 4001, reason: 'client says bye ✓', wasClean: true });
    expect(await within(serverConn.closed, 3000, 'server closed')).toEqual({ closeCode: 4001, reason: 'client says bye ✓', wasClean: true });
  });

  test('the server closes with a code and reason: both ends report them, cleanly', async () => {
    const server = await start({ handler: (c) => c.close({ closeCode: 4002, reason: 'server says bye' }) });
    const conn = await connect(server.url, { proxy: false });
    conn.onmessage = () => {};
    expect(await within(conn.closed, 3000, 'client closed')).toEqual({ closeCode: 4002, reason: 'server says bye', wasClean: true });
  });

  test('a Close without a code is reported as 1005 on both ends', async () => {
    let serverConn!: WebSocketConnection;
    const server = await start({ handler: (c) => void (serverConn = c) });
    const conn = await connect(server.url, { proxy: false });
    await until(() => serverConn !== undefined);
    conn.close();
    expect((await within(conn.closed, 3000, 'client closed')).closeCode).toBe(1005);
    expect((await within(serverConn.closed, 3000, 'server closed')).closeCode).toBe(1005);
  });

  test('the server ends TCP after the closing handshake (a raw peer sees its Close, then FIN)', async () => {
    const server = await start();
    const peer = await RawPeer.upgraded(server.port);
    peer.write(clientFrame(Opcode.Close, closePayload(1000, 'done')));
    const close = await peer.nextFrame();
    expect(close.opcode).toBe(Opcode.Close);
    expect(new TextDecoder().decode(close.payload.subarray(2))).toBe('done');
    await until(() => peer.ended || peer.isClosed, 3000, 'FIN from the server');
    peer.socket.shutdown();
    await within(peer.closed, 3000, 'socket closed');
    await until(() => server.connections.size === 0, 3000, 'server forgets the connection');
  });

  test('a peer that vanishes is reported as 1006, not clean', async () => {
    let serverConn!: WebSocketConnection;
    const server = await start({ handler: (c) => void (serverConn = c) });
    const peer = await RawPeer.upgraded(server.port);
    await until(() => serverConn !== undefined);
    peer.close();
    expect(await within(serverConn.closed, 3000, 'server closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
  });

  test('server.close() closes every connection with 1001 and resolves once they are closed', async () => {
    const server = await serve({ handler: echo });
    const a = await connect(server.url, { proxy: false });
    const b = await connect(server.url, { proxy: false });
    a.onmessage = b.onmessage = () => {};
    await until(() => server.connections.size === 2);
    await within(server.close(), 5000, 'server.close()');
    expect((await a.closed).closeCode).toBe(1001);
    expect((await b.closed).closeCode).toBe(1001);
    expect(server.connections.size).toBe(0);
  });
});

describe('subprotocols', () => {
  test('the server selects one of the offered subprotocols; both ends see it', async () => {
    let offered: string[] = [];
    let serverProtocol = '';
    const server = await start({
      handleProtocols: (list) => {
        offered = list;
        return list.includes('chat.v2') ? 'chat.v2' : null;
      },
      handler: (c) => void (serverProtocol = c.protocol),
    });
    const conn = await connect(server.url, { proxy: false, protocols: ['chat.v1', 'chat.v2'] });
    cleanups.push(() => conn.abort());
    expect(offered).toEqual(['chat.v1', 'chat.v2']);
    expect(conn.protocol).toBe('chat.v2');
    await until(() => serverProtocol !== '');
    expect(serverProtocol).toBe('chat.v2');
  });

  test('without a match none is selected', async () => {
    const server = await start({ handleProtocols: () => null });
    const conn = await connect(server.url, { proxy: false, protocols: 'chat' });
    cleanups.push(() => conn.abort());
    expect(conn.protocol).toBe('');
  });

  test('a handleProtocols picking a protocol not offered refuses the upgrade with 500', async () => {
    const server = await start({ handleProtocols: () => 'other' });
    const error = await connect(server.url, { proxy: false, protocols: 'chat' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).status).toBe(500);
  });
});
