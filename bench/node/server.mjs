// One echo server under test, in its own process, driven over IPC by bench/node/run.mjs.
//
//   fork('bench/node/server.mjs', ['wsflow' | 'ws'], { execArgv: ['--expose-gc'] })
//
// It listens on 127.0.0.1, port 0, echoes every message as it came (text as text, binary
// as binary) and answers the parent's requests:
//   { id, op: 'usage' } -> { cpuUser, cpuSystem (µs), rss, heapUsed, external, arrayBuffers, connections }
//   { id, op: 'gc' }    -> the same, after two full garbage collections
//   { id, op: 'exit' }  -> closes and exits (so that --cpu-prof writes its profile)
// Its first message is { ready: true, impl, port, details }.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';

const impl = process.argv[2];
const require = createRequire(import.meta.url);

let port;
let connections;
let close;
let details = '';

if (impl === 'wsflow') {
  // WSFLOW_MODULE: another build of @wsflow/node to measure (a file path), e.g. a patched bundle.
  const override = process.env.WSFLOW_MODULE;
  const { serve } = await import(override ? pathToFileURL(override).href : '@wsflow/node');
  const server = await serve({
    port: 0,
    host: '127.0.0.1',
    handler: (conn) => {
      conn.onmessage = (data) => conn.send(data);
    },
  });
  port = server.port;
  connections = () => server.connections.size;
  close = () => server.close();
  details = override ? `@wsflow/node from ${override}` : `@wsflow/node ${require('@wsflow/node/package.json').version} (packages/node/dist)`;
} else if (impl === 'ws') {
  const { WebSocketServer } = await import('ws');
  // ws picks bufferutil up by itself when it is installed; say whether it could.
  let bufferutil = 'without bufferutil';
  try {
    require('bufferutil');
    bufferutil = `with bufferutil ${require('bufferutil/package.json').version}`;
  } catch {}
  if (process.env.WS_NO_BUFFER_UTIL) bufferutil = 'without bufferutil (WS_NO_BUFFER_UTIL)';
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
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
  details = `ws ${require('ws/package.json').version} ${bufferutil}`;
} else {
  console.error('usage: server.mjs wsflow|ws');
  process.exit(2);
}

function usage() {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    connections: connections(),
    at: Date.now(),
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size])),
  };
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
// The parent went away: do not linger.
process.on('disconnect', () => process.exit(0));

process.send({ ready: true, impl, port, details, pid: process.pid });
