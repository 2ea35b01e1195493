/**
 * Invalid permessage-deflate parameters never crash anything (RFC 7692 §7.1):
 * - wsflow's server on Node, Deno and Bun (each in its own process), sent offers with bad
 *   window bits (0, 7, 16, 999, "abc", empty, leading zero, duplicated) by a raw-socket
 *   client, declines the offer: 101 without the extension, or with the next valid offer;
 *   the connection then works uncompressed, and the process keeps serving;
 * - wsflow's client on each runtime, answered by a raw server with bad parameters, fails the
 *   connection with a handshake error (§5: "the client MUST _Fail the WebSocket Connection_").
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsPeer, RUNTIMES, type Peer, type Runtime } from './peers.ts';
import { RawClient } from './raw_client.ts';

const peers = new Map<Runtime, Peer>();
const ports = new Map<Runtime, number>();

beforeAll(async () => {
  await Promise.all(
    RUNTIMES.map(async (runtime) => {
      const peer = await jsPeer(runtime);
      peers.set(runtime, peer);
      ports.set(runtime, (await peer.serve('wsflow', { on: true }))['on']);
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([...peers.values()].map((peer) => peer.stop()));
});

/** Offers the server must decline, each alone in the request. */
const BAD_OFFERS = [
  'permessage-deflate; client_max_window_bits=0',
  'permessage-deflate; client_max_window_bits=7',
  'permessage-deflate; client_max_window_bits=16',
  'permessage-deflate; client_max_window_bits=999',
  'permessage-deflate; client_max_window_bits=abc',
  'permessage-deflate; client_max_window_bits=09',
  'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10',
  'permessage-deflate; server_max_window_bits=0',
  'permessage-deflate; server_max_window_bits=7',
  'permessage-deflate; server_max_window_bits=16',
  'permessage-deflate; server_max_window_bits=999',
  'permessage-deflate; server_max_window_bits="abc"',
  'permessage-deflate; server_max_window_bits',
  'permessage-deflate; server_max_window_bits=10; server_max_window_bits=12',
  'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
  'permessage-deflate; server_no_context_takeover=1',
  'permessage-deflate; client_max_window_bits=1e1',
];

/**
 * Offers that break the header grammar itself (RFC 6455 §9.1: a value is a token, or a
 * quoted-string that unescapes to a token, so neither empty form is one): the server may
 * refuse with 400 or decline. (wsflow answers all three with 400.)
 */
const MALFORMED_OFFERS = ['permessage-deflate; client_max_window_bits=', 'permessage-deflate; client_max_window_bits=""', 'permessage-deflate;; client_max_window_bits'];

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** On a connection without permessage-deflate: an echo comes back plain, and RSV1 is a protocol error (1002). */
async function expectPlainConnection(client: RawClient): Promise<void> {
  client.send({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 1, payload: text('still here') });
  const echo = await client.next(Date.now() + 10_000);
  expect(echo.type === 'frame' && { rsv1: echo.frame.rsv1, text: new TextDecoder().decode(echo.frame.payload) }).toEqual({ rsv1: false, text: 'still here' });
  client.send({ fin: true, rsv1: true, rsv2: false, rsv3: false, opcode: 1, payload: new Uint8Array([0xf2, 0x48, 0x05, 0x00]) });
  expect(await client.closeCode(Date.now() + 10_000), 'RSV1 without the extension').toBe(1002);
}

describe.each(RUNTIMES)('wsflow server on %s', (runtime: Runtime) => {
  it.each(BAD_OFFERS)('declines %s: 101 without the extension, the connection works uncompressed', async (offer) => {
    const client = await RawClient.open(ports.get(runtime)!, [offer]);
    try {
      expect(client.status).toBe(101);
      expect(client.extensions).toBe('');
      await expectPlainConnection(client);
    } finally {
      client.destroy();
    }
  }, 20_000);

  it.each(MALFORMED_OFFERS)('survives the malformed header %s (refused with 400, or declined)', async (offer) => {
    const client = await RawClient.open(ports.get(runtime)!, [offer]);
    try {
      if (client.status === 101) {
        expect(client.extensions).toBe('');
        await expectPlainConnection(client);
      } else {
        expect(client.status).toBe(400);
      }
    } finally {
      client.destroy();
    }
  }, 20_000);

  it('accepts the next valid offer after an invalid one, in one field line or two', async () => {
    for (const lines of [
      ['permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=10'],
      ['permessage-deflate; client_max_window_bits=abc', 'permessage-deflate; server_no_context_takeover'],
      ['x-unknown; foo=1, permessage-deflate; client_max_window_bits=999, permessage-deflate'],
    ]) {
      const client = await RawClient.open(ports.get(runtime)!, lines);
      try {
        expect(client.status).toBe(101);
        const expected = lines.join(', ').includes('client_max_window_bits=10')
          ? 'permessage-deflate; client_max_window_bits=10'
          : lines.join(', ').includes('server_no_context_takeover')
            ? 'permessage-deflate; server_no_context_takeover'
            : 'permessage-deflate';
        expect(client.extensions).toBe(expected);
        // A compressed "Hello" (RFC 7692 §7.2.3.1) is understood and echoed.
        client.send({ fin: true, rsv1: true, rsv2: false, rsv3: false, opcode: 1, payload: new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]) });
        const echo = await client.next(Date.now() + 10_000);
        expect(echo.type).toBe('frame');
      } finally {
        client.destroy();
      }
    }
  }, 30_000);

  it('is still alive and serving after all of it', async () => {
    const status = await peers.get(runtime)!.run('wsflow', `ws://127.0.0.1:${ports.get(runtime)}/echo`, true, [{ type: 'text', gen: 'json', size: 4096, seed: 1 }], 10_000);
    expect(status.matched).toBe(1);
    expect(status.extensions).toBe('permessage-deflate');
  }, 20_000);
});

/** A raw server that answers every upgrade with a 101 carrying `extensions`, and records what came after. */
async function badServer(extensions: string): Promise<{ port: number; after: number[]; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const after: number[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let head = '';
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) {
        after.push(chunk.length);
        return;
      }
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${extensions}\r\n\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    after,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers with bad permessage-deflate parameters, and what the client offered. */
const BAD_ANSWERS: Array<[string, Record<string, unknown>]> = [
  ['permessage-deflate; server_max_window_bits=0', {}],
  ['permessage-deflate; server_max_window_bits=7', {}],
  ['permessage-deflate; server_max_window_bits=16', {}],
  ['permessage-deflate; server_max_window_bits=999', {}],
  ['permessage-deflate; server_max_window_bits=abc', {}],
  ['permessage-deflate; server_max_window_bits', {}],
  ['permessage-deflate; client_max_window_bits=7', {}],
  ['permessage-deflate; client_max_window_bits=16', {}],
  ['permessage-deflate; client_max_window_bits', {}],
  ['permessage-deflate; server_max_window_bits=10; server_max_window_bits=10', {}],
  ['permessage-deflate; server_no_context_takeover=1', {}],
  ['permessage-deflate; foo', {}],
  ['permessage-deflate, permessage-deflate', {}],
  ['x-webkit-deflate-frame', {}],
  ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }],
  ['permessage-deflate', { serverMaxWindowBits: 10 }],
  ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }],
  ['permessage-deflate', { serverNoContextTakeover: true }],
];

describe.each(RUNTIMES)('wsflow client on %s', (runtime: Runtime) => {
  it.each(BAD_ANSWERS)('fails the connection when the server answers %s (offered %j)', async (answer, params) => {
    const server = await badServer(answer);
    try {
      const run = peers.get(runtime)!.run('wsflow', `ws://127.0.0.1:${server.port}/`, params, [{ type: 'text', gen: 'json', size: 10, seed: 1 }], 10_000);
      await expect(run).rejects.toThrow(/HandshakeError BAD_EXTENSION/);
      // Failing the connection sends no message.
      expect(server.after.reduce((n, c) => n + c, 0)).toBe(0);
    } finally {
      await server.close();
    }
  }, 20_000);
});
