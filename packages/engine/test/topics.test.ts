// Topics on every runtime, written once (`#shim` is @wsflow/node under Vitest, @wsflow/deno
// and @wsflow/bun under scripts/test-runtimes.mjs): subscribe/unsubscribe, publishing from
// a connection or the server, a backplane joining servers, publish backpressure against a
// peer that does not read, and permessage-deflate compressing a published message once.
import { afterEach, describe, expect, it } from 'vitest';
import type { DeflateEngine } from '@wsflow/codec';
import { zlibEngine } from '@wsflow/deflate-zlib';
import { LocalBackplane, connect, runtime, serve, type Backplane, type ServerConnection, type WebSocketConnection } from './support/shim.ts';
import { Opcode, RawPeer, until } from './support/raw.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Options = NonNullable<Parameters<typeof serve>[0]>;
type Server = Awaited<ReturnType<typeof serve>>;

/** A server whose handler subscribes each connection to the topics in its URL's `?topic=`, and keeps it. */
async function start(options: Options = {}): Promise<{ server: Server; conns: ServerConnection[] }> {
  const conns: ServerConnection[] = [];
  const server = await serve({
    handler: (conn, request) => {
      for (const topic of new URL(request.url).searchParams.getAll('topic')) conn.subscribe(topic);
      conns.push(conn);
    },
    ...options,
  });
  cleanups.push(() => server.close());
  return { server, conns };
}

interface Client {
  conn: WebSocketConnection;
  got: Array<string | Uint8Array>;
}

/** A client subscribed (by the server's handler) to `topics`, recording what it receives. */
async function client(server: Server, topics: string[], options: Parameters<typeof connect>[1] = {}): Promise<Client> {
  const url = new URL(server.url);
  for (const topic of topics) url.searchParams.append('topic', topic);
  const conn = await connect(url, options);
  const got: Array<string | Uint8Array> = [];
  conn.onmessage = (data) => void got.push(data);
  cleanups.push(() => conn.close());
  return { conn, got };
}

/** Waits until every client got `count` messages, then a little more to see no extra one come. */
async function settled(clients: Client[], counts: number[]): Promise<void> {
  await until(() => clients.every((c, i) => c.got.length >= counts[i]), 'messages');
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe(`topics on ${runtime}: subscribing`, () => {
  it('subscribe and unsubscribe say whether they changed anything; isSubscribed, topics and subscriberCount follow', async () => {
    const { server, conns } = await start();
    await client(server, []);
    await until(() => conns.length === 1, 'the connection');
    const conn = conns[0];
    expect(conn.subscribe('a')).toBe(true);
    expect(conn.subscribe('a')).toBe(false);
    expect(conn.subscribe('b')).toBe(true);
    expect(conn.isSubscribed('a')).toBe(true);
    expect([...conn.topics]).toEqual(['a', 'b']);
    expect(server.subscriberCount('a')).toBe(1);
    expect(conn.unsubscribe('a')).toBe(true);
    expect(conn.unsubscribe('a')).toBe(false);
    expect(conn.isSubscribed('a')).toBe(false);
    expect([...conn.topics]).toEqual(['b']);
    expect(server.subscriberCount('a')).toBe(0);
    expect(server.subscriberCount('b')).toBe(1);
  });

  it('a closed connection leaves all its topics', async () => {
    const { server, conns } = await start();
    const c = await client(server, ['a', 'b']);
    await until(() => conns.length === 1, 'the connection');
    expect(server.subscriberCount('a')).toBe(1);
    c.conn.close();
    await conns[0].closed;
    expect(server.subscriberCount('a')).toBe(0);
    expect(server.subscriberCount('b')).toBe(0);
    expect(conns[0].topics.size).toBe(0);
    expect(conns[0].subscribe('a')).toBe(false);
    expect(server.publish('a', 'nobody')).toBe(0);
  });

  it('refuses a topic that is not a string, data that cannot be framed at once and unknown options with TypeError', async () => {
    const { server, conns } = await start();
    await client(server, []);
    await until(() => conns.length === 1, 'the connection');
    expect(() => server.publish(1 as never, 'x')).toThrow(TypeError);
    expect(() => server.publish('t', {} as never)).toThrow(TypeError);
    expect(() => server.publish('t', new Blob(['x']) as never)).toThrow(TypeError);
    expect(() => server.publish('t', 'x', { includeSelf: true } as never)).toThrow(TypeError);
    expect(() => server.publish('t', 'x', { compress: 1 } as never)).toThrow(TypeError);
    expect(() => server.subscriberCount(undefined as never)).toThrow(TypeError);
    expect(() => conns[0].subscribe(null as never)).toThrow(TypeError);
    expect(() => conns[0].unsubscribe(2 as never)).toThrow(TypeError);
    expect(() => conns[0].isSubscribed({} as never)).toThrow(TypeError);
    expect(() => conns[0].publish(Symbol('t') as never, 'x')).toThrow(TypeError);
    expect(() => conns[0].publish('t', 'x', { echo: true } as never)).toThrow(TypeError);
    expect(server.publishStats.published).toBe(0);
  });

  it('checks the topic options at serve()', async () => {
    await expect(serve({ publishBackpressure: { policy: 'drop' as never } })).rejects.toThrow(RangeError);
    await expect(serve({ publishBackpressure: { limit: 0 } })).rejects.toThrow(RangeError);
    await expect(serve({ publishBackpressure: { limt: 1 } as never })).rejects.toThrow(TypeError);
    await expect(serve({ backplane: {} as never })).rejects.toThrow(TypeError);
    await expect(serve({ backplan: new LocalBackplane().join() } as never)).rejects.toThrow(/did you mean "backplane"/);
  });
});

describe(`topics on ${runtime}: publishing`, () => {
  it('a connection\'s publish goes to every other subscriber, and to itself with includeSelf', async () => {
    const { server, conns } = await start();
    const clients = [await client(server, ['room']), await client(server, ['room']), await client(server, ['elsewhere'])];
    await until(() => conns.length === 3, 'the connections');
    expect(conns[0].publish('room', 'from 0')).toBe(1);
    expect(conns[0].publish('room', 'from 0 to all', { includeSelf: true })).toBe(2);
    expect(conns[2].publish('room', 'from outside')).toBe(2); // a publisher need not subscribe
    await settled(clients, [2, 3, 0]);
    expect(clients[0].got).toEqual(['from 0 to all', 'from outside']);
    expect(clients[1].got).toEqual(['from 0', 'from 0 to all', 'from outside']);
    expect(clients[2].got).toEqual([]);
    expect(server.publishStats).toEqual({ published: 3, received: 0, delivered: 5, skipped: 0, closed: 0 });
  });

  it('server.publish reaches every subscriber; text stays text and binary binary, in any of its forms', async () => {
    const { server, conns } = await start();
    const clients = [await client(server, ['t']), await client(server, ['t'])];
    await until(() => conns.length === 2, 'the connections');
    const bytes = new Uint8Array([0, 1, 2, 3, 4, 5]);
    expect(server.publish('t', 'text é')).toBe(2);
    expect(server.publish('t', bytes)).toBe(2);
    expect(server.publish('t', bytes.buffer)).toBe(2);
    expect(server.publish('t', new DataView(bytes.buffer, 2, 3))).toBe(2);
    expect(server.publish('t', '')).toBe(2);
    expect(server.publish('nobody', 'lost')).toBe(0);
    await settled(clients, [5, 5]);
    for (const c of clients) {
      expect(c.got.length).toBe(5);
      expect(c.got[0]).toBe('text é');
      expect([...(c.got[1] as Uint8Array)]).toEqual([0, 1, 2, 3, 4, 5]);
      expect([...(c.got[2] as Uint8Array)]).toEqual([0, 1, 2, 3, 4, 5]);
      expect([...(c.got[3] as Uint8Array)]).toEqual([2, 3, 4]);
      expect(c.got[4]).toBe('');
    }
    expect(server.publishStats).toEqual({ published: 6, received: 0, delivered: 10, skipped: 0, closed: 0 });
  });

  it('keeps published messages in order with direct sends', async () => {
    const { server, conns } = await start();
    const c = await client(server, ['t']);
    await until(() => conns.length === 1, 'the connection');
    conns[0].send('one');
    server.publish('t', 'two');
    conns[0].send('three');
    server.publish('t', 'four');
    await settled([c], [4]);
    expect(c.got).toEqual(['one', 'two', 'three', 'four']);
  });
});

/** A backplane that records what the server asked of it, and forwards to `inner`. */
function recording(inner: Backplane): Backplane & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    start: (deliver) => {
      calls.push('start');
      inner.start(deliver);
    },
    subscribe: (topic) => {
      calls.push(`subscribe ${topic}`);
      inner.subscribe(topic);
    },
    unsubscribe: (topic) => {
      calls.push(`unsubscribe ${topic}`);
      inner.unsubscribe(topic);
    },
    publish: (topic, data) => {
      calls.push(`publish ${topic} ${typeof data === 'string' ? data : `[${[...data].join(',')}]`}`);
      inner.publish(topic, data);
    },
    close: () => {
      calls.push('close');
      return inner.close();
    },
  };
}

describe(`topics on ${runtime}: a backplane`, () => {
  it('two servers on one LocalBackplane: a message reaches the other server\'s subscribers once, and no echo comes back', async () => {
    const hub = new LocalBackplane();
    const a = await start({ backplane: hub.join() });
    const b = await start({ backplane: hub.join() });
    const clients = [await client(a.server, ['news']), await client(b.server, ['news']), await client(b.server, ['news'])];
    await until(() => a.conns.length === 1 && b.conns.length === 2, 'the connections');
    expect(a.server.publish('news', 'from a')).toBe(1);
    // A backplane orders nothing across instances: let the first arrive everywhere first.
    await until(() => clients.every((c) => c.got.length === 1), 'the first message');
    expect(b.conns[0].publish('news', new Uint8Array([7]))).toBe(1);
    await settled(clients, [2, 1, 2]);
    const shown = (c: Client) => c.got.map((m) => (typeof m === 'string' ? m : [...m]));
    expect(shown(clients[0])).toEqual(['from a', [7]]);
    expect(shown(clients[1])).toEqual(['from a']);
    expect(shown(clients[2])).toEqual(['from a', [7]]);
    expect(a.server.publishStats).toEqual({ published: 1, received: 1, delivered: 2, skipped: 0, closed: 0 });
    expect(b.server.publishStats).toEqual({ published: 1, received: 1, delivered: 3, skipped: 0, closed: 0 });
    expect(a.server.subscriberCount('news')).toBe(1); // local subscribers only
  });

  it('is told of the first subscriber and the last, of every local publish and never of a relayed one, and closed with the server', async () => {
    const hub = new LocalBackplane();
    const other = await start({ backplane: hub.join() });
    const plane = recording(hub.join());
    const { server, conns } = await serve({ backplane: plane, handler: (conn) => void conn.subscribe('t') }).then((s) => ({ server: s, conns: s.connections }));
    const c1 = await client(server, []);
    const c2 = await client(server, []);
    await until(() => conns.size === 2, 'the connections');
    server.publish('t', 'local');
    other.server.publish('t', 'remote');
    await settled([c1, c2], [2, 2]);
    c1.conn.close();
    c2.conn.close();
    await until(() => server.subscriberCount('t') === 0, 'the subscribers leave');
    await server.close();
    expect(plane.calls).toEqual(['start', 'subscribe t', 'publish t local', 'unsubscribe t', 'close']);
    expect(c1.got).toEqual(['local', 'remote']);
    expect(hub.size).toBe(1);
  });
});

/** Reads frames from a raw peer until a Close; returns the text messages and the close code. */
async function readAll(peer: RawPeer): Promise<{ messages: string[]; closeCode: number | null }> {
  const messages: string[] = [];
  for (;;) {
    let frame;
    try {
      frame = await peer.nextFrame(3000);
    } catch {
      return { messages, closeCode: null };
    }
    if (frame.opcode === Opcode.Close) return { messages, closeCode: (frame.payload[0] << 8) | frame.payload[1] };
    messages.push(new TextDecoder().decode(frame.payload));
  }
}

describe(`topics on ${runtime}: a subscriber that does not read`, () => {
  // Ten 1000-octet messages (1004-octet frames) published in one turn: each subscriber's
  // writes are corked until the turn ends, so with a 3000-octet limit three are queued
  // (at 0, 1004 and 2008 octets buffered), and the limit is reached for the other seven.
  const burst = (server: Server): void => {
    for (let i = 0; i < 10; i++) server.publish('t', String(i).repeat(1000));
  };

  /** A server whose one connection is a raw peer that has stopped reading. */
  async function pausedPeer(options: Options): Promise<{ server: Server; conn: ServerConnection; peer: RawPeer }> {
    const { server } = await start({ handler: (conn) => void conn.subscribe('t'), ...options });
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    await until(() => server.connections.size === 1, 'the connection');
    peer.socket.pause();
    return { server, conn: [...server.connections][0], peer };
  }

  it('skip: past the limit the message is dropped for that subscriber, and counted', async () => {
    const { server, conn, peer } = await pausedPeer({ publishBackpressure: { limit: 3000, policy: 'skip' } });
    burst(server);
    expect(server.publishStats).toEqual({ published: 10, received: 0, delivered: 3, skipped: 7, closed: 0 });
    expect(conn.droppedMessages).toBe(7);
    peer.socket.resume();
    await until(() => conn.bufferedAmount === 0, 'the peer reads');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.publish('t', 'later')).toBe(1); // skipping was for those messages only
    conn.close({ closeCode: 1000 });
    const { messages, closeCode } = await readAll(peer);
    expect(messages.map((m) => m.slice(0, 1))).toEqual(['0', '1', '2', 'l']);
    expect(closeCode).toBe(1000);
  });

  it('close: the subscriber is closed with 1008 behind what it was sent', async () => {
    const { server, conn, peer } = await pausedPeer({ publishBackpressure: { limit: 3000, policy: 'close' } });
    burst(server);
    expect(server.publishStats).toEqual({ published: 10, received: 0, delivered: 3, skipped: 0, closed: 1 });
    expect(conn.droppedMessages).toBe(1);
    peer.socket.resume();
    const { messages, closeCode } = await readAll(peer);
    expect(messages.map((m) => m.slice(0, 1))).toEqual(['0', '1', '2']);
    expect(closeCode).toBe(1008);
  });

  it('queue: every message is queued, and maxBufferedAmount with its policy bounds it', async () => {
    const { server, conn, peer } = await pausedPeer({ publishBackpressure: { limit: 3000, policy: 'queue' }, maxBufferedAmount: 5000 });
    burst(server);
    // The fifth frame takes bufferedAmount past 5000: the connection's close policy queues
    // a 1008 behind it, and the five messages after find it closing.
    expect(server.publishStats).toEqual({ published: 10, received: 0, delivered: 5, skipped: 0, closed: 0 });
    expect(conn.droppedMessages).toBe(0);
    peer.socket.resume();
    const { messages, closeCode } = await readAll(peer);
    expect(messages.map((m) => m.slice(0, 1))).toEqual(['0', '1', '2', '3', '4']);
    expect(closeCode).toBe(1008);
  });

  it('a subscriber whose socket is full does not hold back the publisher or the other subscribers', async () => {
    const limit = 64 * 1024;
    const { server, conn, peer } = await pausedPeer({ publishBackpressure: { limit, policy: 'skip' } });
    const other = await client(server, ['t']);
    await until(() => server.connections.size === 2, 'the other connection');
    // Fill the paused peer's socket (the kernel's buffers first) until writes back up.
    for (let i = 0; i < 64 && conn.bufferedAmount <= limit; i++) {
      conn.send(new Uint8Array(1 << 20));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(conn.bufferedAmount).toBeGreaterThan(limit);
    for (let i = 0; i < 5; i++) {
      expect(server.publish('t', `tick ${i}`)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await settled([other], [5]);
    expect(other.got).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4']);
    expect(server.publishStats).toEqual({ published: 5, received: 0, delivered: 5, skipped: 5, closed: 0 });
    expect(conn.droppedMessages).toBe(5);
    peer.close();
  });
});

/** zlib, counting the messages its deflaters compress. */
function countingZlib(): DeflateEngine & { deflated: number } {
  const engine = {
    name: 'counting zlib',
    deflated: 0,
    minDeflateWindowBits: zlibEngine.minDeflateWindowBits,
    createDeflater: (params: Parameters<DeflateEngine['createDeflater']>[0]) => {
      const inner = zlibEngine.createDeflater(params);
      return {
        deflate: (data: Uint8Array) => {
          engine.deflated++;
          return inner.deflate(data);
        },
        dispose: () => inner.dispose(),
      };
    },
    createInflater: (params: Parameters<DeflateEngine['createInflater']>[0]) => zlibEngine.createInflater(params),
  };
  return engine;
}

describe(`topics on ${runtime}: permessage-deflate`, () => {
  const text = 'a published message that compresses well; '.repeat(20);

  it('with sharedCompressor, a published message is compressed once for every subscriber', async () => {
    const engine = countingZlib();
    const { server, conns } = await start({ perMessageDeflate: { sharedCompressor: true, threshold: 0, engine } });
    const clients = [await client(server, ['t'], { perMessageDeflate: true }), await client(server, ['t'], { perMessageDeflate: true }), await client(server, ['t'], { perMessageDeflate: true })];
    await until(() => conns.length === 3, 'the connections');
    expect(clients[0].conn.extensions).toContain('server_no_context_takeover');
    expect(server.publish('t', text)).toBe(3);
    expect(server.publish('t', new Uint8Array(2000).fill(9))).toBe(3);
    expect(engine.deflated).toBe(2);
    await settled(clients, [2, 2, 2]);
    for (const c of clients) {
      expect(c.got[0]).toBe(text);
      expect([...(c.got[1] as Uint8Array)]).toEqual(new Array(2000).fill(9));
    }
  });

  it('with context takeover, each subscriber\'s own deflater compresses it', async () => {
    const engine = countingZlib();
    const { server, conns } = await start({ perMessageDeflate: { threshold: 0, engine } });
    const clients = [await client(server, ['t'], { perMessageDeflate: true }), await client(server, ['t'], { perMessageDeflate: true })];
    await until(() => conns.length === 2, 'the connections');
    expect(clients[0].conn.extensions).not.toContain('server_no_context_takeover');
    server.publish('t', text);
    server.publish('t', text);
    expect(engine.deflated).toBe(4);
    await settled(clients, [2, 2]);
    for (const c of clients) expect(c.got).toEqual([text, text]);
  });
});
