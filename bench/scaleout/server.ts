// One server process of bench/scaleout/redis.mjs: subscribers join topic "bench"; a text
// message from a client is published on it (server.publish), through Redis when --redis
// is given. Prints {"port":…} once listening; SIGTERM closes it.
import process from 'node:process';
import { parseArgs } from 'node:util';
import { serve } from '@wsflow/node';
import { RedisBackplane } from '@wsflow/redis';

const { values } = parseArgs({ args: process.argv.slice(2), options: { redis: { type: 'string' } } });
const backplane = values.redis === undefined ? undefined : new RedisBackplane({ url: values.redis, channelPrefix: 'bench:', onError: (e) => console.error('redis:', e) });
const server = await serve({
  ...(backplane === undefined ? {} : { backplane }),
  handler: (conn, request) => {
    if (new URL(request.url).searchParams.has('subscribe')) conn.subscribe('bench');
    conn.onmessage = (data) => server.publish('bench', data);
    if (backplane === undefined) conn.send('ready');
    else backplane.ready().then(() => conn.send('ready'));
  },
});
console.log(JSON.stringify({ port: server.port }));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
