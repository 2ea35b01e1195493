#!/usr/bin/env node
// What a topic subscription costs a wsflow server: 10,000 connections, each subscribed to
// 10 topics, against the same 10,000 connections not subscribed. Node by default; Deno and
// Bun with --runtimes.
//
//   npx node bench/fanout/memory.mjs [--runtimes=node,deno,bun] [--connections=10000] [--topics=10] [--json=FILE]
//
// Processes: this one orchestrates; the server (memory_server.ts on the runtime's wsflow
// shim, with a gc() exposed) and the clients (raw node:net sockets that complete the
// handshake and then idle, in a forked Node) are separate, so the clients' memory is not
// the server's. The server is measured after full GCs (repeated until heapUsed settles):
//   open        every connection open, none subscribed (the baseline)
//   shared      each connection subscribed to the same T topics (T topics of C subscribers)
//   unsub       unsubscribed again (should come back near the baseline)
//   distinct    each connection subscribed to T topics of its own (C·T topics of 1 subscriber)
//   unsub       unsubscribed again
// and reports bytes per subscription = (step − baseline) / (C·T), for heapUsed+external and
// for RSS. RSS counts pages the allocator keeps after a GC, so it is the coarser of the two
// (and it does not come back down after unsubscribing).
// Needs C+256 open files in each child: it checks the limit (children inherit it) and asks
// for `ulimit -n` first when it is lower. (The development container's limit is 20,000,
// soft and hard; even root cannot raise the hard one there, no CAP_SYS_RESOURCE.)
// Bounded: every step has a timeout and the run a 5-minute watchdog.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../lib/args.mjs';
import { bin, root } from '../lib/paths.mjs';
import { resultsFile, writeResults } from '../lib/results.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const args = parseArgs(import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the clients child ------------------------------------------------------------------

async function clients() {
  const { handshake } = await import('../lib/handshake.mjs');
  const sockets = [];
  process.on('message', async ({ op, port, count }) => {
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
      process.send({ opened: sockets.length, failed });
    } else if (op === 'close') {
      for (const s of sockets.splice(0)) s.destroy();
      process.send({});
    }
  });
  process.send({ ready: true });
}

// ---- the orchestrator -------------------------------------------------------------------

const SERVER = {
  node: [bin('node'), ['--expose-gc', join(here, 'memory_server.ts')]],
  deno: [bin('deno'), ['run', '-A', '--no-lock', '--no-remote', '--v8-flags=--expose-gc', join(here, 'memory_server.ts')]],
  bun: [bin('bun'), ['run', '--no-install', join(here, 'memory_server.ts')]],
};

function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]) || 1024;
}

/** Starts the server on `runtime`; `call(line)` sends one command and resolves with its answer. */
async function startServer(runtime) {
  const [command, argv] = SERVER[runtime];
  const child = spawn(command, argv, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  lines.on('line', (line) => queue.shift()?.(line));
  const next = (ms, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${runtime} server: ${what}: no answer within ${ms} ms`)), ms);
      queue.push((line) => {
        clearTimeout(timer);
        const m = JSON.parse(line);
        if (m.error !== undefined) reject(new Error(m.error));
        else resolve(m.result ?? m);
      });
    });
  const ready = await next(20_000, 'start');
  return {
    child,
    ready,
    call(line, ms = 60_000) {
      const answer = next(ms, line);
      child.stdin.write(`${line}\n`);
      return answer;
    },
  };
}

function startClients() {
  const child = fork(fileURLToPath(import.meta.url), ['--role=clients'], { execPath: bin('node'), cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (ms, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`clients: ${what}: no answer within ${ms} ms`)), ms);
      child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  return {
    child,
    ready: next(20_000, 'start'),
    call(message, ms = 120_000) {
      const answer = next(ms, message.op);
      child.send(message);
      return answer;
    },
  };
}

async function measureRuntime(runtime, C, T) {
  const srv = await startServer(runtime);
  const cli = startClients();
  try {
    await cli.ready;
    const opened = await cli.call({ op: 'open', port: srv.ready.port, count: C });
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
    await srv.call(`subscribe shared ${T}`);
    await step('shared');
    await srv.call('unsubscribe');
    await step('unsub');
    await srv.call(`subscribe distinct ${T}`);
    await step('distinct');
    await srv.call('unsubscribe');
    await step('unsub');
    const subs = C * T;
    for (const s of steps) {
      s.heapExternalPerSubscription = (s.heapUsed + s.external - (base.heapUsed + base.external)) / subs;
      s.rssPerSubscription = (s.rss - base.rss) / subs;
    }
    return { runtime, connections: C, topics: T, steps };
  } finally {
    await cli.call({ op: 'close' }, 10_000).catch(() => {});
    await srv.call('close', 15_000).catch(() => {});
    cli.child.kill('SIGKILL');
    srv.child.kill('SIGKILL');
  }
}

async function main() {
  const C = Number(args.connections ?? 10_000);
  const T = Number(args.topics ?? 10);
  const runtimes = String(args.runtimes ?? 'node').split(',');
  for (const r of runtimes) if (SERVER[r] === undefined) throw new Error(`--runtimes: unknown ${r}`);
  const files = C + 256;
  if (openFileLimit() < files) {
    console.error(`needs ${files} open files per process; the limit is ${openFileLimit()}: raise it first (\`ulimit -n ${files}\`) or pass a smaller --connections`);
    process.exit(2);
  }
  setTimeout(() => {
    console.error('watchdog: 5 minutes; stopping');
    process.exit(1);
  }, 300_000).unref();

  const results = [];
  const MB = (x) => `${(x / 1e6).toFixed(1)} MB`;
  console.log(`${C} connections × ${T} topics = ${C * T} subscriptions\n`);
  console.log('| runtime | step | heapUsed | external | RSS | heap+external Δ per subscription | RSS Δ per subscription |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const runtime of runtimes) {
    let result;
    try {
      result = await measureRuntime(runtime, C, T);
    } catch (error) {
      console.log(`| ${runtime} | error: ${error.message} | | | | | |`);
      results.push({ runtime, error: error.message });
      continue;
    }
    results.push(result);
    for (const s of result.steps) {
      const delta = s.step === 'open' ? '' : `${s.heapExternalPerSubscription.toFixed(0)} B`;
      const rssDelta = s.step === 'open' ? '' : `${s.rssPerSubscription.toFixed(0)} B`;
      console.log(`| ${runtime} | ${s.step} | ${MB(s.heapUsed)} | ${MB(s.external)} | ${MB(s.rss)} | ${delta} | ${rssDelta} |`);
    }
  }
  const file = resultsFile('fanout-memory', args.json);
  writeResults(file, { date: new Date().toISOString(), results });
  console.log(`\nevery number: ${file}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

if (args.role === 'clients') await clients();
else await main();
