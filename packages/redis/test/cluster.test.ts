// RedisBackplane on a real Redis Cluster (three redis-servers joined by redis-cli), through
// a node-redis cluster client given as the template: topics whose channels hash to every
// shard, in sharded (SPUBLISH/SSUBSCRIBE) and plain mode.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createCluster } from 'redis';
import { RedisBackplane } from '../src/index.ts';
import { startRedisCluster, type RedisCluster } from '../../../tools/redis_server.ts';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 40_000);
afterAll(async () => {
  await cluster?.dispose();
}, 20_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const sharded of [true, false]) {
  describe(`RedisBackplane on a Redis Cluster (${sharded ? 'sharded' : 'plain'})`, () => {
    test('messages on topics spread over every shard reach the other instance exactly once, in order, never echoed', async () => {
      const template = createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: n.url })) });
      const errors: unknown[] = [];
      const got: Array<[string, string | Uint8Array]> = [];
      const echoed: unknown[] = [];
      const a = new RedisBackplane({ client: template as never, sharded, channelPrefix: `c-${sharded}:`, onError: (e) => errors.push(e) });
      const b = new RedisBackplane({ client: template as never, sharded, channelPrefix: `c-${sharded}:`, onError: (e) => errors.push(e) });
      a.start((topic, data) => echoed.push([topic, data]));
      b.start((topic, data) => got.push([topic, data]));
      // 30 topics: their channels' hash slots fall on all three shards.
      const topics = Array.from({ length: 30 }, (_, i) => `topic-${i}`);
      for (const t of topics) {
        a.subscribe(t);
        b.subscribe(t);
      }
      await Promise.all([a.ready(), b.ready()]);
      for (let n = 0; n < 5; n++) for (const t of topics) a.publish(t, `${t}:${n}`);
      a.publish('topic-0', Uint8Array.of(0, 255));
      const deadline = Date.now() + 10_000;
      while (got.length < topics.length * 5 + 1 && Date.now() < deadline) await sleep(10);
      await sleep(100);
      expect(got.length).toBe(topics.length * 5 + 1);
      for (const t of topics) {
        expect(got.filter(([topic, data]) => topic === t && typeof data === 'string').map(([, data]) => data)).toEqual([0, 1, 2, 3, 4].map((n) => `${t}:${n}`));
      }
      expect([...(got.find(([, d]) => typeof d !== 'string')![1] as Uint8Array)]).toEqual([0, 255]);
      expect(echoed).toEqual([]);
      expect(errors).toEqual([]);
      expect(template.isOpen).toBe(false);
      await Promise.all([a.close(), b.close()]);
    }, 30_000);
  });
}
