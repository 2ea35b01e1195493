#!/usr/bin/env node
// Topic fan-out across server processes through one redis-server, against one process
// without Redis. For each case: S subscribers spread evenly over the processes, one
// publisher client per process sending at a fixed total rate, each message carrying the
// load generator's send time; every subscriber gets every message (its own process's
// directly, the others' through Redis). Reports delivered messages/s and p50/p99 latency
// (send → receipt, one clock: the generator is one process on loopback).
//
//   node bench/scaleout/redis.mjs [--seconds 5] [--rate 2000] [--subscribers 40] [--cases 1,2,4]
//
// Needs Debian's redis-server (scripts/ensure-chromium.sh) and `npm run build`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from '@wsflow/node';
import { startRedisServer } from '../../tools/redis_server.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE = existsSync(join(root, 'node_modules/.bin/node')) ? join(root, 'node_modules/.bin/node') : process.execPath;
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '2000' },
    subscribers: { type: 'string', default: '40' },
    cases: { type: 'string', default: '1,2,4' },
  },
});
const seconds = Math.min(30, Number(values.seconds));
const rate = Number(values.rate);
const subscribers = Number(values.subscribers);
const cases = values.cases.split(',').map(Number);

function startServer(redisUrl) {
  const child = spawn(NODE, [join(root, 'bench/scaleout/server.ts'), ...(redisUrl ? ['--redis', redisUrl] : [])], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve({ port: JSON.parse(line).port, child }));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

async function stopServer({ child }) {
  if (child.exitCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  await gone;
}

async function client(port, subscribe) {
  const conn = await connect(`ws://127.0.0.1:${port}/${subscribe ? '?subscribe' : ''}`, { proxy: false });
  await new Promise((resolve) => (conn.onmessage = (m) => m === 'ready' && resolve()));
  return conn;
}

const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

async function runCase(processes, redisUrl) {
  const servers = await Promise.all(Array.from({ length: processes }, () => startServer(redisUrl)));
  const latencies = [];
  let delivered = 0;
  let measuring = false;
  const subs = await Promise.all(Array.from({ length: subscribers }, (_, i) => client(servers[i % processes].port, true)));
  for (const s of subs) {
    s.onmessage = (m) => {
      if (!measuring) return;
      delivered++;
      latencies.push(performance.now() - Number(m));
    };
  }
  const pubs = await Promise.all(servers.map((s) => client(s.port, false)));
  // Publish at `rate` messages/s in total, in 1 ms ticks, round-robin over the processes.
  measuring = true;
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) pubs[sent % pubs.length].send(String(performance.now()));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // the tail
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  for (const c of [...subs, ...pubs]) c.close();
  await Promise.all(servers.map(stopServer));
  latencies.sort((a, b) => a - b);
  return { processes, redis: Boolean(redisUrl), sent, expected: sent * subscribers, delivered, perSecond: delivered / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const redis = await startRedisServer();
const rows = [];
try {
  for (const n of cases) rows.push(await runCase(n, n === 1 ? undefined : redis.url));
} finally {
  await redis.dispose();
}
console.log(`\n${seconds} s per case, ${rate} published msg/s, ${subscribers} subscribers (Node ${process.versions.node}, one redis-server)`);
console.log('processes  redis  published  delivered  expected  delivered/s  p50 ms  p99 ms');
for (const r of rows) {
  // delivered < expected: the processes fell behind (messages still queued 0.5 s after the last publish).
  console.log(
    `${String(r.processes).padStart(9)}  ${(r.redis ? 'yes' : 'no').padStart(5)}  ${String(r.sent).padStart(9)}  ${String(r.delivered).padStart(9)}  ${String(r.expected).padStart(8)}  ${r.perSecond.toFixed(0).padStart(11)}  ${r.p50.toFixed(2).padStart(6)}  ${r.p99.toFixed(2).padStart(6)}`,
  );
}
