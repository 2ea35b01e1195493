// RedisBackplane against a real redis-server (started here on a free port, stopped by pid).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient } from 'redis';
import { RedisBackplane, type RedisBackplaneOptions } from '../src/index.ts';
import { freePort, startRedisServer, type RedisServer } from '../../../tools/redis_server.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
}, 20_000);
afterAll(async () => {
  await redis?.dispose();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds (or fails after `timeout` ms). */
async function until(check: () => boolean, what: string, timeout = 5_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Instance {
  backplane: RedisBackplane;
  got: Array<{ topic: string; data: string | Uint8Array }>;
  errors: unknown[];
}

/** A started backplane that records what it delivers and every error. */
function instance(options: Partial<RedisBackplaneOptions> = {}): Instance {
  const got: Instance['got'] = [];
  const errors: unknown[] = [];
  const backplane = new RedisBackplane({ url: redis.url, onError: (error) => errors.push(error), ...options });
  backplane.start((topic, data) => got.push({ topic, data }));
  return { backplane, got, errors };
}

async function closeAll(...instances: Instance[]): Promise<void> {
  await Promise.all(instances.map((i) => i.backplane.close()));
}

for (const sharded of [false, true]) {
  const mode = sharded ? 'sharded SPUBLISH/SSUBSCRIBE' : 'PUBLISH/SUBSCRIBE';
  describe(`RedisBackplane (${mode})`, () => {
    test('a message published on one instance reaches each other subscribed instance exactly once and never the publisher', async () => {
      const prefix = `t1-${sharded}:`;
      const [a, b, c] = [instance({ sharded, channelPrefix: prefix }), instance({ sharded, channelPrefix: prefix }), instance({ sharded, channelPrefix: prefix })];
      for (const i of [a, b, c]) i.backplane.subscribe('room');
      await Promise.all([a, b, c].map((i) => i.backplane.ready()));
      a.backplane.publish('room', 'from a');
      b.backplane.publish('room', 'from b');
      await until(() => a.got.length === 1 && b.got.length === 1 && c.got.length === 2, 'deliveries');
      await sleep(100); // anything duplicated would have arrived by now
      expect(a.got).toEqual([{ topic: 'room', data: 'from b' }]);
      expect(b.got).toEqual([{ topic: 'room', data: 'from a' }]);
      expect(c.got.map((m) => m.data).sort()).toEqual(['from a', 'from b']);
      expect(a.backplane.stats).toEqual({ published: 1, received: 1, dropped: 0 });
      expect(c.backplane.stats).toEqual({ published: 0, received: 2, dropped: 0 });
      expect(a.errors).toEqual([]);
      await closeAll(a, b, c);
    });

    test('binary stays binary: all 256 byte values arrive as a Uint8Array, byte for byte', async () => {
      const prefix = `t2-${sharded}:`;
      const [a, b] = [instance({ sharded, channelPrefix: prefix }), instance({ sharded, channelPrefix: prefix })];
      b.backplane.subscribe('bin');
      await b.backplane.ready();
      await a.backplane.ready();
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      a.backplane.publish('bin', bytes);
      // A view into a larger buffer: only its own bytes go.
      const big = Uint8Array.from({ length: 300 }, (_, i) => 255 - (i % 256));
      a.backplane.publish('bin', big.subarray(10, 20));
      await until(() => b.got.length === 2, 'two binary messages');
      expect(b.got[0].data).toBeInstanceOf(Uint8Array);
      expect([...(b.got[0].data as Uint8Array)]).toEqual([...bytes]);
      expect([...(b.got[1].data as Uint8Array)]).toEqual([...big.subarray(10, 20)]);
      await closeAll(a, b);
    });

    test('text with non-ASCII characters arrives as the same string', async () => {
      const prefix = `t3-${sharded}:`;
      const [a, b] = [instance({ sharded, channelPrefix: prefix }), instance({ sharded, channelPrefix: prefix })];
      b.backplane.subscribe('text');
      await Promise.all([a.backplane.ready(), b.backplane.ready()]);
      const texts = ['héllo wörld', '日本語のテキスト', 'emoji 🎉🚀 and \u0000 NUL', ''];
      for (const t of texts) a.backplane.publish('text', t);
      await until(() => b.got.length === texts.length, 'texts');
      expect(b.got.map((m) => m.data)).toEqual(texts);
      await closeAll(a, b);
    });

    test('1,000 messages from one publisher arrive in the order they were published', async () => {
      const prefix = `t4-${sharded}:`;
      const [a, b] = [instance({ sharded, channelPrefix: prefix }), instance({ sharded, channelPrefix: prefix })];
      b.backplane.subscribe('seq');
      await Promise.all([a.backplane.ready(), b.backplane.ready()]);
      for (let i = 0; i < 1000; i++) a.backplane.publish('seq', String(i));
      await until(() => b.got.length === 1000, '1,000 messages');
      expect(b.got.map((m) => Number(m.data))).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      await until(() => a.backplane.stats.published === 1000, 'acknowledgements');
      await closeAll(a, b);
    });

    test('after unsubscribe an instance gets no more messages of that topic, and other topics are not delivered', async () => {
      const prefix = `t5-${sharded}:`;
      const [a, b] = [instance({ sharded, channelPrefix: prefix }), instance({ sharded, channelPrefix: prefix })];
      b.backplane.subscribe('news');
      await Promise.all([a.backplane.ready(), b.backplane.ready()]);
      a.backplane.publish('news', 'one');
      a.backplane.publish('other', 'never subscribed');
      await until(() => b.got.length === 1, 'first message');
      b.backplane.unsubscribe('news');
      await b.backplane.ready();
      expect(b.backplane.topics).toEqual([]);
      a.backplane.publish('news', 'two');
      await until(() => a.backplane.stats.published === 3, 'publishes acknowledged');
      await sleep(100);
      expect(b.got).toEqual([{ topic: 'news', data: 'one' }]);
      await closeAll(a, b);
    });
  });
}

describe('RedisBackplane connections', () => {
  test('close() releases both Redis connections', async () => {
    const probe = createClient({ url: redis.url });
    await probe.connect();
    const clients = async () => (await probe.clientList()).length;
    const before = await clients();
    const a = instance({ channelPrefix: 'close:' });
    a.backplane.subscribe('t');
    await a.backplane.ready();
    expect(await clients()).toBe(before + 2);
    await a.backplane.close();
    const deadline = Date.now() + 2_000;
    while ((await clients()) !== before && Date.now() < deadline) await sleep(20);
    expect(await clients()).toBe(before);
    // Closed: publishes are dropped and counted, never thrown.
    a.backplane.publish('t', 'late');
    expect(a.backplane.stats.dropped).toBe(1);
    await probe.close();
  });

  test('a process whose backplane is closed exits by itself (nothing keeps the event loop alive)', async () => {
    const { spawn } = await import('node:child_process');
    const script = [
      "import { RedisBackplane } from '@wsflow/redis';",
      `const b = new RedisBackplane({ url: ${JSON.stringify(redis.url)}, onError: (e) => { console.error(e); process.exitCode = 2; } });`,
      "b.start(() => {}); b.subscribe('t'); await b.ready(); b.publish('t', 'x');",
      "await new Promise((r) => setTimeout(r, 50)); await b.close(); console.log('closed');",
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running 5 s after close()');
      }, 5_000);
      child.on('exit', (status) => (clearTimeout(timer), resolve(status ?? -1)));
    });
    expect(out.trim()).toBe('closed');
    expect(code).toBe(0);
  });

  test('while Redis is down publishes are dropped and counted; once it is back the subscriptions are restored and messages flow', async () => {
    const prefix = 'restart:';
    const [a, b] = [instance({ channelPrefix: prefix }), instance({ channelPrefix: prefix, sharded: false })];
    b.backplane.subscribe('live');
    await Promise.all([a.backplane.ready(), b.backplane.ready()]);
    a.backplane.publish('live', 'before');
    await until(() => b.got.length === 1, 'message before the outage');

    await redis.stop();
    await sleep(50); // the clients notice the closed sockets
    for (let i = 0; i < 5; i++) a.backplane.publish('live', `during ${i}`);
    await until(() => a.backplane.stats.dropped === 5, 'five drops');
    expect(a.backplane.stats).toMatchObject({ published: 1, dropped: 5 });

    await redis.restart();
    // No resubscribe by hand: the backplane restores `live` itself.
    const deadline = Date.now() + 10_000;
    let n = 0;
    while (!b.got.some((m) => m.data === 'after') && Date.now() < deadline) {
      a.backplane.publish('live', 'after');
      n++;
      await sleep(50);
    }
    expect(b.got.some((m) => m.data === 'after')).toBe(true);
    expect(b.got.filter((m) => String(m.data).startsWith('during'))).toEqual([]);
    expect(n).toBeGreaterThan(0);
    // Lost connections were reported, not thrown.
    expect(a.errors.length + b.errors.length).toBeGreaterThan(0);
    await closeAll(a, b);
  }, 20_000);

  test('with Redis down at start the backplane keeps trying, drops and counts publishes, and subscribes once Redis is up', async () => {
    const port = await freePort();
    const errors: unknown[] = [];
    const got: unknown[] = [];
    const b = new RedisBackplane({ url: `redis://127.0.0.1:${port}`, channelPrefix: 'late:', onError: (e) => errors.push(e) });
    b.start((_, data) => got.push(data));
    b.subscribe('x');
    b.publish('x', 'nobody listens');
    expect(b.stats.dropped).toBe(1);
    await sleep(300);
    expect(errors.length).toBeGreaterThan(0); // refused connections, reported, not thrown
    const late = await startRedisServer({ port });
    try {
      await b.ready();
      const a = new RedisBackplane({ url: late.url, channelPrefix: 'late:', onError: () => {} });
      a.start(() => {});
      await a.ready();
      a.publish('x', 'now');
      await until(() => got.length === 1, 'the message once Redis is up');
      expect(got).toEqual(['now']);
      await a.close();
      await b.close();
    } finally {
      await late.dispose();
    }
  }, 20_000);

  test('a foreign message on a topic channel is reported to onError and not delivered', async () => {
    const b = instance({ channelPrefix: 'foreign:' });
    b.backplane.subscribe('x');
    await b.backplane.ready();
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.publish(b.backplane.channelOf('x'), 'plain text from some other writer');
    await until(() => b.errors.length === 1, 'the error');
    expect(String(b.errors[0])).toMatch(/no wsflow frame/);
    expect(b.got).toEqual([]);
    expect(b.backplane.stats.received).toBe(0);
    await raw.close();
    await b.backplane.close();
  });

  test('the options are checked: unknown names, neither or both of url/client, bad values', () => {
    expect(() => new RedisBackplane({ url: redis.url, chanelPrefix: 'x' } as RedisBackplaneOptions)).toThrow(/unknown option "chanelPrefix" \(did you mean "channelPrefix"\?\)/);
    expect(() => new RedisBackplane({})).toThrow(TypeError);
    expect(() => new RedisBackplane({ url: redis.url, client: createClient() as never })).toThrow(/exactly one/);
    expect(() => new RedisBackplane({ url: redis.url, sharded: 'yes' as never })).toThrow(TypeError);
    expect(() => new RedisBackplane({ url: redis.url, maxPendingPublishes: 0 })).toThrow(RangeError);
    expect(() => new RedisBackplane({ url: redis.url, maxReconnectDelay: -1 })).toThrow(RangeError);
  });

  test('a client given as a template is duplicated, never used itself', async () => {
    const template = createClient({ url: redis.url });
    const got: unknown[] = [];
    const a = new RedisBackplane({ client: template as never, channelPrefix: 'tpl:', onError: () => {} });
    const b = new RedisBackplane({ client: template as never, channelPrefix: 'tpl:', onError: () => {} });
    a.start(() => {});
    b.start((_, data) => got.push(data));
    b.subscribe('x');
    await Promise.all([a.ready(), b.ready()]);
    a.publish('x', 'via template');
    await until(() => got.length === 1, 'delivery');
    expect(template.isOpen).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });
});
