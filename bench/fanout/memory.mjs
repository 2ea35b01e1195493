#!/usr/bin/env node
// What a topic subscription costs a wsflow server on Node: 10,000 connections, each
// subscribed to 10 topics, against the same 10,000 connections not subscribed.
//
//   npx node bench/fanout/memory.mjs [--connections=10000] [--topics=10] [--json=FILE]
//
// Processes: this one orchestrates; the server (@wsflow/node `serve`, run with
// --expose-gc) and the clients (raw node:net sockets that only complete the handshake and
// then idle) are two children, so the clients' memory is not the server's. The server is
// measured after full GCs (several, until heapUsed settles) at each step:
//   open      every connection open, none subscribed (the baseline)
//   shared    each connection subscribed to the same T topics (T topics of C subscribers)
//   (unsubscribed again, measured: should come back to the baseline)
//   distinct  each connection subscribed to T topics of its own (C*T topics of 1 subscriber)
//   (unsubscribed again, measured)
// and reports bytes per subscription = delta / (C*T) for heapUsed+external and for RSS.
// RSS counts pages the allocator keeps after a GC, so it lags and is the coarser of the two.
// Needs C+256 open files in each child: the script checks the limit (children inherit it)
// and asks for `ulimit -n` first when it is lower. (The development container's limit is
// 20,000, soft and hard; even root cannot raise the hard one there, no CAP_SYS_RESOURCE.)
// Bounded: every step has a timeout and the run a 3-minute watchdog.
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const node = join(root, 'node_modules', '.bin', 'node');

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    return [m[1], m[2] ?? true];
  }),
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the server child -------------------------------------------------------------------

async function server() {
  const { serve } = await import('@wsflow/node');
  const connections = [];
  const srv = await serve({ port: 0, host: '127.0.0.1', handler: (c) => void connections.push(c) });
  if (typeof globalThis.gc !== 'function') throw new Error('run the server with --expose-gc');
  /** Full GCs until heapUsed stops falling, then the numbers. */
  const measure = async () => {
    let last = Infinity;
    for (let i = 0; i < 10; i++) {
      globalThis.gc();
      await sleep(20);
      const used = process.memoryUsage().heapUsed;
      if (last - used < 64 * 1024) break;
      last = used;
    }
    const m = process.memoryUsage();
    return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, connections: connections.length };
  };
  const ops = {
    count: () => ({ connections: connections.length }),
    measure,
    subscribe: ({ topics, layout }) => {
      if (typeof connections[0]?.subscribe !== 'function') throw new Error('this @wsflow/node has no topics (connection.subscribe is missing)');
      connections.forEach((c, i) => {
        for (let t = 0; t < topics; t++) c.subscribe(layout === 'shared' ? `topic-${t}` : `conn-${i}-topic-${t}`);
      });
      return { subscriptions: connections.length * topics };
    },
    unsubscribe: () => {
      for (const c of connections) for (const topic of [...c.topics]) c.unsubscribe(topic);
      return {};
    },
    close: async () => {
      await srv.close();
      return {};
    },
  };
  process.on('message', async ({ id, op, ...payload }) => {
    try {
      process.send({ id, result: await ops[op](payload) });
    } catch (error) {
      process.send({ id, error: String(error?.message ?? error) });
    }
  });
  process.send({ ready: true, port: srv.port, pid: process.pid });
}

// ---- the clients child ------------------------------------------------------------------

async function clients() {
  const { handshake } = await import('./handshake.mjs');
  const sockets = [];
  process.on('message', async ({ id, op, port, count }) => {
    if (op === 'open') {
      let failed = 0;
      for (let i = 0; i < count; i += 64) {
        const opened = await Promise.allSettled(Array.from({ length: Math.min(64, count - i) }, () => handshake(port)));
        for (const o of opened) {
          if (o.status === 'fulfilled') {
            o.value.socket.on('error', () => {});
            o.value.socket.resume();
            sockets.push(o.value.socket);
          } else failed++;
        }
      }
      process.send({ id, result: { opened: sockets.length, failed } });
    } else if (op === 'close') {
      for (const s of sockets) s.destroy();
      process.send({ id, result: {} });
    }
  });
  process.send({ ready: true });
}

// ---- the orchestrator -------------------------------------------------------------------

function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]) || 1024;
}

function start(role, execArgv) {
  const child = fork(fileURLToPath(import.meta.url), [`--role=${role}`], { execPath: node, execArgv, cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  let next = 1;
  let readyResolve;
  const ready = new Promise((r, reject) => {
    readyResolve = r;
    child.once('exit', (code) => reject(new Error(`${role} exited (${code})`)));
  });
  child.on('message', (m) => {
    if (m.ready) readyResolve(m);
    else {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error) w?.reject(new Error(m.error));
      else w?.resolve(m.result);
    }
  });
  return {
    child,
    ready,
    call(op, payload = {}, ms = 60_000) {
      const id = next++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${role} ${op}: no answer within ${ms} ms`)), ms);
        waiting.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) });
        child.send({ id, op, ...payload });
      });
    },
  };
}

async function main() {
  const C = Number(args.connections ?? 10_000);
  const T = Number(args.topics ?? 10);
  const files = C + 256;
  const watchdog = setTimeout(() => {
    console.error('watchdog: 3 minutes; stopping');
    process.exit(1);
  }, 180_000);
  if (openFileLimit() < files) {
    console.error(`needs ${files} open files per process; the limit is ${openFileLimit()}: raise it first (\`ulimit -n ${files}\`) or pass a smaller --connections`);
    process.exit(2);
  }
  const srv = start('server', ['--expose-gc']);
  const cli = start('clients', []);
  try {
    const { port } = await srv.ready;
    await cli.ready;
    const opened = await cli.call('open', { port, count: C }, 120_000);
    if (opened.opened !== C) throw new Error(`opened ${opened.opened} of ${C} connections (${opened.failed} failed)`);
    const deadline = Date.now() + 10_000;
    while ((await srv.call('count')).connections < C && Date.now() < deadline) await sleep(50);

    const steps = [];
    const step = async (name) => {
      const m = await srv.call('measure');
      steps.push({ step: name, ...m });
      return m;
    };
    const base = await step('open');
    await srv.call('subscribe', { topics: T, layout: 'shared' });
    const shared = await step('shared');
    await srv.call('unsubscribe');
    await step('unsubscribed');
    await srv.call('subscribe', { topics: T, layout: 'distinct' });
    const distinct = await step('distinct');
    await srv.call('unsubscribe');
    await step('unsubscribed again');

    const subs = C * T;
    const per = (m, key) => (key === 'heap' ? m.heapUsed + m.external - (base.heapUsed + base.external) : m.rss - base.rss) / subs;
    console.log(`${C} connections × ${T} topics = ${subs} subscriptions, @wsflow/node on Node ${process.versions.node}\n`);
    console.log('| step | heapUsed | external | RSS | heap+external per subscription | RSS per subscription |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    const MB = (x) => `${(x / 1e6).toFixed(1)} MB`;
    for (const s of steps) {
      const isSub = s.step === 'shared' || s.step === 'distinct';
      console.log(`| ${s.step} | ${MB(s.heapUsed)} | ${MB(s.external)} | ${MB(s.rss)} | ${isSub ? `${per(s, 'heap').toFixed(0)} B` : ''} | ${isSub ? `${per(s, 'rss').toFixed(0)} B` : ''} |`);
    }
    console.log(`\nbaseline per connection (open, not subscribed): ${((base.heapUsed + base.external) / C).toFixed(0)} B heap+external (whole heap / connections, an upper bound)`);
    const result = { connections: C, topics: T, node: process.versions.node, steps, perSubscription: { shared: { heapExternal: per(shared, 'heap'), rss: per(shared, 'rss') }, distinct: { heapExternal: per(distinct, 'heap'), rss: per(distinct, 'rss') } } };
    const file = typeof args.json === 'string' ? resolve(args.json) : join(root, 'bench', 'results', `fanout-memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`every number: ${file}`);
  } finally {
    await cli.call('close', {}, 10_000).catch(() => {});
    await srv.call('close', {}, 15_000).catch(() => {});
    cli.child.kill('SIGKILL');
    srv.child.kill('SIGKILL');
    clearTimeout(watchdog);
  }
}

const role = args.role;
if (role === 'server') await server();
else if (role === 'clients') await clients();
else {
  await main().catch((error) => {
    console.error(`memory: ${error.message}`);
    process.exitCode = 1;
  });
}
