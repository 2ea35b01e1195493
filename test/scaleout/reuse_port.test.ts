// N worker processes on ONE port (reusePort), two of each runtime, topics shared through
// Redis: examples/scaling/cluster.ts as documented in docs/guides/scaling.md.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRedisServer, type RedisServer } from '../../tools/redis_server.ts';
import { joinRoom, sleep, startCluster, until, type Client, type ClusterInfo, type Started } from './processes.ts';

let redis: RedisServer;
let cluster: Started<ClusterInfo>;
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  cluster = await startCluster(redis.url, ['node', 'deno', 'bun'], 2);
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.conn.close();
  await cluster?.stop();
  // The launcher stops its workers by pid; make sure none is left behind.
  for (const { pid } of cluster?.info.workers ?? []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await redis?.dispose();
}, 30_000);

test.runIf(process.platform === 'linux')('six workers (two per runtime) on one port: connections land on several of them and a topic message reaches clients on every worker', async () => {
  expect(cluster.info.workers.map((w) => w.runtime).sort()).toEqual(['bun', 'bun', 'deno', 'deno', 'node', 'node']);
  for (let i = 0; i < 30; i++) clients.push(await joinRoom(cluster.info.port, 'all'));
  const landed = new Set(clients.map((c) => c.worker));
  expect(landed.size).toBeGreaterThan(1);

  // One message from a client on each worker that has clients.
  const senders = [...landed].map((id) => clients.find((c) => c.worker === id)!);
  for (const s of senders) s.conn.send(`pub:from ${s.worker}`);
  const expected = senders.map((s) => `from ${s.worker}`).sort();
  await until(() => clients.every((c) => c.got.length >= expected.length), 'every message on every client');
  await sleep(200);
  for (const c of clients) expect([...(c.got as string[])].sort()).toEqual(expected);
}, 40_000);
