/**
 * One worker of a scaled-out chat: a wsflow server whose topics are shared with every
 * other worker through Redis (@wsflow/redis). Runs on Node, Deno and Bun alike:
 *
 *   node examples/scaling/worker.ts --redis redis://127.0.0.1:6379 --port 8080 --reuse-port
 *   deno run -A --unstable-net examples/scaling/worker.ts --redis … --port 8080 --reuse-port
 *   bun examples/scaling/worker.ts --redis … --port 8080 --reuse-port
 *
 * A client connects to `ws://host:port/?topic=room`, and is subscribed to `room`. Once its
 * subscription is live in Redis it is sent `hello:<worker id>`. A text message `pub:<text>`
 * (or any binary message) is published on the room, and so reaches every subscriber of it
 * on every worker, the sender included. `GET /stats` answers the backplane's counters.
 * Prints one JSON line `{"ready":true,"id":…,"port":…,"pid":…}` once listening; SIGTERM
 * or SIGINT closes the server (and the backplane) and the process exits.
 * @module
 */
import process from 'node:process';
import { parseArgs } from 'node:util';
import { RedisBackplane } from '@wsflow/redis';

type Shim = typeof import('@wsflow/node');
const runtime = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
// Every shim has the same `serve`; the Node one's types stand for all three.
const { serve } = (await import(`@wsflow/${runtime}`)) as Shim;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'reuse-port': { type: 'boolean', default: false },
    sharded: { type: 'boolean', default: false },
    id: { type: 'string', default: `${runtime}-${process.pid}` },
  },
});
const id = values.id;

const backplane = new RedisBackplane({
  url: values.redis,
  channelPrefix: 'chat:',
  sharded: values.sharded,
  onError: (error) => console.error(`[${id}] redis:`, error instanceof Error ? error.message : error),
});

const server = await serve({
  port: Number(values.port),
  host: values.host,
  reusePort: values['reuse-port'],
  backplane,
  handler: (conn, request) => {
    const topic = new URL(request.url).searchParams.get('topic') ?? 'lobby';
    conn.onmessage = (data) => {
      if (typeof data !== 'string') server.publish(topic, data);
      else if (data.startsWith('pub:')) server.publish(topic, data.slice(4));
    };
    conn.subscribe(topic);
    // Say hello once Redis has acknowledged the subscription: from then on nothing is missed.
    backplane.ready().then(
      () => conn.send(`hello:${id}`),
      () => conn.close({ closeCode: 1011, reason: 'no backplane' }),
    );
  },
  fetch: (request) =>
    new URL(request.url).pathname === '/stats'
      ? Response.json({ id, runtime, ...backplane.stats, topics: backplane.topics })
      : new Response(`wsflow worker ${id}\n`),
});

console.log(JSON.stringify({ ready: true, id, runtime, port: server.port, pid: process.pid }));

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    server.close().then(() => process.exit(0));
  });
}
