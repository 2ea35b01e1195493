// Topics across server PROCESSES on different runtimes, through one real redis-server:
// a node, a deno and a bun worker (examples/scaling/worker.ts), each on its own port.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedisServer, type RedisServer } from '../../tools/redis_server.ts';
import { joinRoom, sleep, startWorker, statsOf, until, type Client, type Runtime, type Started, type WorkerInfo } from './processes.ts';

let redis: RedisServer;
const workers = new Map<Runtime, Started<WorkerInfo>>();
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  const started = await Promise.all((['node', 'deno', 'bun'] as const).map((r) => startWorker(r, redis.url)));
  for (const w of started) workers.set(w.info.runtime, w);
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.conn.close();
  await Promise.all([...workers.values()].map((w) => w.stop()));
  await redis?.dispose();
}, 30_000);

const portOf = (runtime: Runtime): number => workers.get(runtime)!.info.port;

async function room(topic: string, runtimes: Runtime[]): Promise<Client[]> {
  const joined = await Promise.all(runtimes.map((r) => joinRoom(portOf(r), topic)));
  clients.push(...joined);
  return joined;
}

/** Each client publishes `count` messages; every client must get all of them exactly once. */
async function everyoneGetsEverythingOnce(members: Client[], count: number): Promise<void> {
  members.forEach((c, i) => {
    for (let n = 0; n < count; n++) c.conn.send(`pub:${c.worker}#${i}:${n}`);
  });
  const total = members.length * count;
  await until(() => members.every((c) => c.got.length >= total), `${total} messages on every client`);
  await sleep(200); // a duplicate would have arrived by now
  const expected = members.flatMap((c, i) => Array.from({ length: count }, (_, n) => `${c.worker}#${i}:${n}`)).sort();
  for (const c of members) expect([...(c.got as string[])].sort()).toEqual(expected);
  // Per publisher, the order it published in.
  for (const c of members) {
    members.forEach((publisher, i) => {
      const own = (c.got as string[]).filter((m) => m.startsWith(`${publisher.worker}#${i}:`));
      expect(own).toEqual(Array.from({ length: count }, (_, n) => `${publisher.worker}#${i}:${n}`));
    });
  }
}

describe('topics across server processes through Redis', () => {
  test('two servers (node, deno): a message published on either reaches the subscribers on both exactly once', async () => {
    const members = await room('pair', ['node', 'deno', 'node', 'deno']);
    expect(members.map((c) => c.worker)).toEqual(['node', 'deno', 'node', 'deno']);
    await everyoneGetsEverythingOnce(members, 20);
  });

  test('three servers (node, deno, bun): a message published on any reaches the subscribers on all exactly once', async () => {
    const members = await room('trio', ['node', 'deno', 'bun']);
    expect(members.map((c) => c.worker)).toEqual(['node', 'deno', 'bun']);
    await everyoneGetsEverythingOnce(members, 30);
  });

  test('binary published on the bun server arrives as the same bytes on node and deno', async () => {
    const [bun, node, deno] = await room('bytes', ['bun', 'node', 'deno']);
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    bun.conn.send(bytes);
    await until(() => [bun, node, deno].every((c) => c.got.length === 1), 'the binary message everywhere');
    for (const c of [bun, node, deno]) {
      expect(c.got[0]).toBeInstanceOf(Uint8Array);
      expect([...(c.got[0] as Uint8Array)]).toEqual([...bytes]);
    }
  });

  test('a Redis restart in the middle of traffic: publishes during the outage are dropped and counted, then delivery resumes without restarting the servers', async () => {
    const [node, deno, bun] = await room('restart', ['node', 'deno', 'bun']);
    node.conn.send('pub:before');
    await until(() => [node, deno, bun].every((c) => c.got.includes('before')), 'the message before the outage');
    const droppedBefore = (await statsOf(portOf('node'))).dropped;

    await redis.stop();
    await until(async () => {
      node.conn.send('pub:during');
      await sleep(20);
      return (await statsOf(portOf('node'))).dropped > droppedBefore;
    }, 'a publish dropped while Redis is down');
    // Local subscribers still get it (it is delivered in-process); the others cannot.
    expect(deno.got).not.toContain('during');
    expect(bun.got).not.toContain('during');

    await redis.restart();
    // The same server processes, the same connections: the backplanes reconnect and resubscribe.
    let n = 0;
    await until(async () => {
      node.conn.send(`pub:after ${n++}`);
      bun.conn.send(`pub:bun after ${n++}`);
      await sleep(50);
      return deno.got.some((m) => String(m).startsWith('after')) && node.got.some((m) => String(m).startsWith('bun after')) && deno.got.some((m) => String(m).startsWith('bun after'));
    }, 'delivery across servers after the restart', 15_000);
    // At-most-once: nothing from the outage is replayed later.
    await sleep(200);
    expect(deno.got).not.toContain('during');
    expect(bun.got).not.toContain('during');
  }, 40_000);
});
