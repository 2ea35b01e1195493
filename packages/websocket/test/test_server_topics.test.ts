/**
 * Topics on the in-memory test server, written as a `serve` handler is: connections
 * subscribe and publish, the server publishes, a LocalBackplane joins TestServers, and a
 * client that does not read is skipped.
 */
import { describe, expect, it } from 'vitest';
import { LocalBackplane, type TestConnection, type TestServer, type WebSocket } from '../src/index.ts';
import { startServer, uniqueUrl } from './helpers.ts';

/** A client of `server`'s WebSocket class that records the messages it gets. */
function client(url: string, WebSocketClass: TestServer['WebSocket']): { ws: WebSocket; got: unknown[]; opened: Promise<void> } {
  const ws = new WebSocketClass(url);
  ws.binaryType = 'arraybuffer';
  const got: unknown[] = [];
  ws.onmessage = (event) => void got.push(typeof event.data === 'string' ? event.data : [...new Uint8Array(event.data as ArrayBuffer)]);
  const opened = new Promise<void>((resolve) => (ws.onopen = () => resolve()));
  return { ws, got, opened };
}

describe('TestServer: topics', () => {
  it('connections subscribe and publish to the others, as with serve', async () => {
    const url = uniqueUrl('chat');
    const server = startServer({
      onconnection: (conn) => {
        conn.subscribe('room');
        conn.onmessage = (message, from) => from.publish('room', message);
      },
    }, url);
    const clients = [client(url, server.WebSocket), client(url, server.WebSocket), client(url, server.WebSocket)];
    await Promise.all(clients.map((c) => c.opened));
    expect(server.subscriberCount('room')).toBe(3);
    clients[0].ws.send('hi from 0');
    await server.flush();
    expect(clients.map((c) => c.got)).toEqual([[], ['hi from 0'], ['hi from 0']]);
    expect(server.publishStats).toEqual({ published: 1, received: 0, delivered: 2, skipped: 0, closed: 0 });
  });

  it('server.publish reaches subscribers only, text as text and binary as binary; includeSelf and unsubscribe', async () => {
    const url = uniqueUrl();
    const server = startServer({}, url);
    const a = client(url, server.WebSocket);
    const b = client(url, server.WebSocket);
    const [ca, cb] = [await server.nextConnection(), await server.nextConnection()];
    await Promise.all([a.opened, b.opened]);
    expect(ca.subscribe('t')).toBe(true);
    expect(ca.subscribe('t')).toBe(false);
    expect(ca.isSubscribed('t')).toBe(true);
    expect([...ca.topics]).toEqual(['t']);
    expect(server.publish('t', 'text')).toBe(1);
    expect(server.publish('t', new Uint8Array([1, 2]))).toBe(1);
    expect(ca.publish('t', 'self', { includeSelf: true })).toBe(1);
    expect(cb.publish('t', 'from b')).toBe(1);
    expect(ca.unsubscribe('t')).toBe(true);
    expect(server.publish('t', 'nobody')).toBe(0);
    await server.flush();
    expect(a.got).toEqual(['text', [1, 2], 'self', 'from b']);
    expect(b.got).toEqual([]);
    expect(() => server.publish(7 as never, 'x')).toThrow(TypeError);
    expect(() => ca.subscribe(undefined as never)).toThrow(TypeError);
  });

  it('a closed connection leaves its topics', async () => {
    const url = uniqueUrl();
    const server = startServer({ onconnection: (conn) => void conn.subscribe('t') }, url);
    const a = client(url, server.WebSocket);
    const conn = await server.nextConnection();
    await a.opened;
    expect(server.subscriberCount('t')).toBe(1);
    a.ws.close();
    await conn.closed;
    expect(server.subscriberCount('t')).toBe(0);
    expect(conn.topics.size).toBe(0);
  });

  it('TestServers sharing a LocalBackplane share topics, without echo', async () => {
    const hub = new LocalBackplane();
    const subscribe = (conn: TestConnection) => void conn.subscribe('news');
    const urlA = uniqueUrl('a');
    const urlB = uniqueUrl('b');
    const a = startServer({ backplane: hub.join(), onconnection: subscribe }, urlA);
    const b = startServer({ backplane: hub.join(), onconnection: subscribe }, urlB);
    const onA = client(urlA, a.WebSocket);
    const onB = client(urlB, b.WebSocket);
    await Promise.all([onA.opened, onB.opened]);
    expect(a.publish('news', 'from a')).toBe(1);
    await a.flush();
    expect(b.publish('news', new Uint8Array([9]))).toBe(1);
    await b.flush();
    expect(onA.got).toEqual(['from a', [9]]);
    expect(onB.got).toEqual(['from a', [9]]);
    expect(a.publishStats).toEqual({ published: 1, received: 1, delivered: 2, skipped: 0, closed: 0 });
  });

  it('skips a published message for a client that has not read the limit yet, and counts it', async () => {
    const url = uniqueUrl();
    const server = startServer({ publishBackpressure: { limit: 3000, policy: 'skip' }, onconnection: (conn) => void conn.subscribe('t') }, url);
    const a = client(url, server.WebSocket);
    const conn = await server.nextConnection();
    await a.opened;
    // Ten 1004-octet frames in one turn: three are queued before the limit is reached.
    for (let i = 0; i < 10; i++) server.publish('t', String(i).repeat(1000));
    expect(server.publishStats).toEqual({ published: 10, received: 0, delivered: 3, skipped: 7, closed: 0 });
    expect(conn.droppedMessages).toBe(7);
    await server.flush();
    expect(a.got.map((m) => (m as string)[0])).toEqual(['0', '1', '2']);
  });
});
