// One echo server with permessage-deflate, in its own process, driven over IPC by
// bench/deflate/run.mjs.
//
//   fork('bench/deflate/server.mjs', ['wsflow' | 'ws', '{"level":6,"memLevel":8,"threshold":1024}'], { execArgv: ['--expose-gc'] })
//
// Both servers get the same compression settings: zlib level and memLevel, and the size
// from which a message is compressed. Neither limits windows or context takeover, so a
// browser-like offer (`permessage-deflate; client_max_window_bits`) gets the RFC 7692
// defaults: 2^15 windows and context takeover both ways. Every message is echoed as it came.
// Requests: { id, op: 'usage' | 'gc' | 'exit' } as in bench/node/server.mjs.
// Its first message is { ready: true, impl, port, details, pid }.
import { createRequire } from 'node:module';

const impl = process.argv[2];
const settings = JSON.parse(process.argv[3] ?? '{}');
const { level = 6, memLevel = 8, threshold = 1024 } = settings;
const require = createRequire(import.meta.url);
const MiB = 1024 * 1024;

let port;
let connections;
let close;
let details = '';

if (impl === 'wsflow') {
  const { serve } = await import('@wsflow/node');
  const server = await serve({
    port: 0,
    host: '127.0.0.1',
    maxMessage: 16 * MiB,
    perMessageDeflate: { level, memLevel, threshold },
    handler: (conn) => {
      conn.onmessage = (data) => conn.send(data);
    },
  });
  port = server.port;
  connections = () => server.connections.size;
  close = () => server.close();
  details = `@wsflow/node ${require('@wsflow/node/package.json').version} (packages/node/dist), engine node:zlib`;
} else if (impl === 'ws') {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    maxPayload: 16 * MiB,
    perMessageDeflate: { threshold, zlibDeflateOptions: { level, memLevel } },
  });
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => {});
  });
  port = wss.address().port;
  connections = () => wss.clients.size;
  close = () =>
    new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    });
  details = `ws ${require('ws/package.json').version} (perMessageDeflate through node:zlib on the libuv thread pool, concurrencyLimit 10)`;
} else {
  console.error('usage: server.mjs wsflow|ws [settings-json]');
  process.exit(2);
}

function usage() {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { cpuUser: cpu.user, cpuSystem: cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, arrayBuffers: mem.arrayBuffers, connections: connections() };
}

process.on('message', async (message) => {
  const { id, op } = message;
  if (op === 'usage') process.send({ id, ...usage() });
  else if (op === 'gc') {
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
      globalThis.gc();
    }
    process.send({ id, ...usage() });
  } else if (op === 'exit') {
    await Promise.race([close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    process.send({ id }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

process.send({ ready: true, impl, port, details, pid: process.pid, settings: { level, memLevel, threshold } });
