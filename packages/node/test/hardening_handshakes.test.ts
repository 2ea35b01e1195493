// Hardening of Node's extra, `attach`: upgrades on a host node:http server are counted as
// pending handshakes from their `upgrade` event, evicted oldest first and reported EVICTED.
// The handshake hardening of `serve` (slowloris, the cap, malformed heads) is written once
// for every runtime in packages/engine/test/hardening_handshakes.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import type { WebSocketConnection } from '@wsflow/codec';
import { attach, connect, type NodeRejectionInfo } from '../src/index.ts';
import { guardEachTest, until } from './support/guarded.ts';
import { RawClient, upgradeRequest } from './support/raw.ts';

const cleanups = guardEachTest();
const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

describe('maxPendingHandshakes with attach', () => {
  test('attach counts upgrade requests: handshakes stalled in authorize are evicted and reported EVICTED', async () => {
    const http: Server = createServer((_, response) => response.end('plain'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }));
    const port = (http.address() as AddressInfo).port;
    const rejected: NodeRejectionInfo[] = [];
    const endpoint = attach(http, {
      maxPendingHandshakes: 3,
      handshakeTimeout: 3000,
      handler: echo,
      onReject: (info) => rejected.push(info),
      authorize: ({ headers }) => (headers.has('x-stall') ? new Promise(() => {}) : undefined),
    });
    cleanups.push(() => endpoint.close());
    const clients: RawClient[] = [];
    cleanups.push(() => {
      for (const c of clients) c.socket.destroy();
    });
    for (let i = 0; i < 5; i++) {
      const client = await RawClient.open(port);
      clients.push(client);
      client.socket.write(upgradeRequest('/', `127.0.0.1:${port}`, { 'X-Stall': '1' }));
      await until(() => endpoint.pendingHandshakes === Math.min(i + 1, 3), 5000, `upgrade ${i} counted`);
    }
    await Promise.all([clients[0].closed, clients[1].closed]);
    expect(rejected.map((r) => [r.status, r.code])).toEqual([
      [0, 'EVICTED'],
      [0, 'EVICTED'],
    ]);
    expect(clients[0].received.length).toBe(0);
    const conn = await connect(`ws://127.0.0.1:${port}/`, { proxy: false });
    const echoed = new Promise((resolve) => (conn.onmessage = resolve));
    conn.send('through');
    expect(await echoed).toBe('through');
    conn.close();
    await conn.closed;
    expect(rejected.filter((r) => r.code === 'EVICTED')).toHaveLength(3);
    expect(endpoint.pendingHandshakes).toBe(2);
    // The two still stalled run out of time (Node does not read an upgrade's socket before
    // the 101, so a peer leaving then is noticed by the timeout): their slots are released.
    await until(() => endpoint.pendingHandshakes === 0, 10_000, 'slots released');
    await until(() => rejected.length === 5, 5000, 'all reported');
    expect(rejected.slice(3).map((r) => [r.status, r.code])).toEqual([
      [0, 'TIMEOUT'],
      [0, 'TIMEOUT'],
    ]);
    await Promise.all([clients[3].closed, clients[4].closed]);
  });
});
