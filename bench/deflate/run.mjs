#!/usr/bin/env node
// permessage-deflate benchmark: wsflow's `serve` against ws's WebSocketServer, both with
// compression on and the same zlib settings, side by side in one run. See bench/deflate/README.md.
//
//   npx node bench/deflate/run.mjs [--quick] [--reps=N] [--ms=N] [--only=REGEX] [--conns=N]
//                                  [--connections=N] [--level=N] [--mem-level=N] [--threshold=N] [--json=FILE]
//
// Phases (--only): deflate1k and deflate64k (echo throughput and server CPU for JSON-like
// texts of 1 KiB and 64 KiB), conn5k (server RSS per connection with 5,000 compressed
// connections, each having echoed a few compressed messages).
// Processes: this one orchestrates; each server runs in its own child (server.mjs), the
// load generator in a third (load.mjs). Repetitions alternate which server goes first;
// the table shows medians. Every phase is bounded in time and count; a watchdog ends the run.
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../lib/args.mjs';
import { root } from '../lib/paths.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const args = parseArgs(import.meta.url);
const quick = !!args.quick;
const REPS = Number(args.reps ?? (quick ? 1 : 3));
const MEASURE_MS = Number(args.ms ?? (quick ? 1500 : 3000));
const WARM_MS = quick ? 300 : 500;
const CONNECTIONS = Number(args.connections ?? 5000);
const only = args.only ? new RegExp(args.only, 'i') : null;
/** The same compression settings for both servers (and the generator's own compressing). */
const SETTINGS = { level: Number(args.level ?? 6), memLevel: Number(args['mem-level'] ?? 8), threshold: Number(args.threshold ?? 1024) };
const IMPLS = ['wsflow', 'ws'];
const WATCHDOG_MS = 9 * 60_000;
const KiB = 1024;
const t0 = Date.now();

if (Number(process.versions.node.split('.')[0]) < 24) console.warn(`warning: Node ${process.version}; run with \`npx node bench/deflate/run.mjs\`.`);

function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s+/)[3]);
  return Number.isFinite(soft) ? soft : 1024;
}
const fdLimit = openFileLimit();
const CONN = Math.min(CONNECTIONS, fdLimit - 512);
if (CONN < CONNECTIONS) console.warn(`note: open-file limit is ${fdLimit}: ${CONN} connections instead of ${CONNECTIONS} (raise with \`ulimit -n 20000\`).`);

// ---- children ---------------------------------------------------------------------------

const children = new Set();
let nextId = 1;

async function start(script, argv, { execArgv = [], onMark } = {}) {
  const child = fork(join(here, script), argv, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: root });
  children.add(child);
  const waiting = new Map();
  child.on('message', (message) => {
    if (message.mark !== undefined) onMark?.(message.mark);
    else if (message.id !== undefined) {
      const w = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) w?.reject(new Error(message.error));
      else w?.resolve(message.result ?? message);
    }
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    for (const w of waiting.values()) w.reject(new Error(`${script} ${argv.join(' ')} exited (${code ?? signal})`));
    waiting.clear();
  });
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
  return {
    child,
    ready,
    call(op, payload = {}, timeoutMs = 60_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${script}: ${op} timed out`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        child.send({ id, op, ...payload });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      this.call('exit', {}, 5000).catch(() => {});
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const startServer = (impl) => start('server.mjs', [impl, JSON.stringify(SETTINGS)], { execArgv: ['--expose-gc'] });

const watchdog = setTimeout(() => {
  console.error(`watchdog: the run exceeded ${WATCHDOG_MS / 60000} minutes; stopping`);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

// ---- helpers ----------------------------------------------------------------------------

/** User + system CPU seconds of a process (all its threads: zlib's thread-pool work too), from /proc. */
function procCpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
/** Resident set of a process in bytes, from /proc (VmRSS). */
function procRss(pid) {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x, digits = 0) => (!Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const orderFor = (rep) => (rep % 2 === 0 ? IMPLS : [...IMPLS].reverse());

async function waitConnections(server, n, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const u = await server.call('usage');
    if (u.connections === n || Date.now() > until) return u.connections;
    await sleep(50);
  }
}

// ---- the run ----------------------------------------------------------------------------

const CASES = [
  { key: 'deflate1k', label: '1 KiB JSON text', size: KiB, conns: 4, batch: 32, window: 128 },
  { key: 'deflate64k', label: '64 KiB JSON text', size: 64 * KiB, conns: 4, batch: 2, window: 8 },
];
for (const c of CASES) if (args.conns !== undefined) c.conns = Number(args.conns);
const wanted = (key) => only === null || only.test(key);

console.log(
  `permessage-deflate: wsflow vs ws — Node ${process.version}, ${cpus().length} CPU(s), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`both servers: zlib level ${SETTINGS.level}, memLevel ${SETTINGS.memLevel}, threshold ${SETTINGS.threshold} B; clients offer "permessage-deflate; client_max_window_bits"`);
console.log(`${REPS} repetition(s), ${MEASURE_MS} ms measured per case after ${WARM_MS} ms warm-up; medians shown.\n`);

const marks = {};
let markServer = null;
const load = await start('load.mjs', [JSON.stringify(SETTINGS)], {
  onMark: (mark) => {
    if (markServer !== null) marks[mark] = procCpu(markServer.child.pid);
  },
});
const results = {};
const record = (key, impl, sample) => {
  results[key] ??= { wsflow: [], ws: [] };
  results[key][impl].push(sample);
};
const details = {};

try {
  if (CASES.some((c) => wanted(c.key))) {
    const servers = {};
    for (const impl of IMPLS) {
      servers[impl] = await startServer(impl);
      details[impl] = servers[impl].ready.details;
    }
    for (const c of CASES) {
      if (!wanted(c.key)) continue;
      // Correctness first: every echo inflates (with the server's context) to what was sent.
      for (const impl of IMPLS) {
        const v = await load.call('verify', { port: servers[impl].ready.port, size: c.size }, 30_000);
        const ok = v.messages === 64 && v.matched === 64;
        console.log(`  verify ${c.key} ${impl.padEnd(6)} ${v.matched}/${v.messages} echoes inflate to what was sent, ${v.compressed} compressed, wire/plain ${v.wireRatio.toFixed(3)}${ok ? '' : '  ERROR'}`);
        if (!ok) process.exitCode = 1;
      }
      for (let rep = 0; rep < REPS; rep++) {
        for (const impl of orderFor(rep)) {
          const server = servers[impl];
          await waitConnections(server, 0, 10_000);
          markServer = server;
          const r = await load.call(
            'echo',
            { port: server.ready.port, size: c.size, conns: c.conns, batch: c.batch, window: c.window, warmMs: WARM_MS, measureMs: MEASURE_MS, maxMessages: 50_000_000 },
            MEASURE_MS + WARM_MS + 30_000,
          );
          markServer = null;
          const serverCpu = marks.end - marks.start;
          const sample = {
            msgsPerSecond: r.messages / r.seconds,
            mbPerSecond: r.plainBytes / r.seconds / 1e6,
            wireRatio: r.wireBytes / r.plainBytes,
            compressedShare: r.compressed / r.messages,
            serverCpuPer1k: (serverCpu / r.messages) * 1000,
            serverCpuShare: serverCpu / r.seconds,
            loadCpuShare: r.loadCpu,
          };
          record(c.key, impl, sample);
          console.log(
            `  ${c.key.padEnd(10)} ${impl.padEnd(6)} ${fmt(sample.msgsPerSecond).padStart(8)} msgs/s ${fmt(sample.mbPerSecond, 1).padStart(7)} MB/s` +
              `  server CPU ${fmt(sample.serverCpuShare * 100)}%, ${fmt(sample.serverCpuPer1k, 3)} s per 1k msgs, echoes wire/plain ${sample.wireRatio.toFixed(3)}` +
              ` (${fmt(sample.compressedShare * 100)}% compressed), load CPU ${fmt(sample.loadCpuShare * 100)}%${r.errors ? `, ${r.errors} socket errors` : ''}`,
          );
        }
      }
    }
    for (const impl of IMPLS) await servers[impl].stop();
  }

  if (wanted('conn5k')) {
    // Fresh servers: what earlier phases allocated cannot hide the cost of new connections.
    for (let rep = 0; rep < Math.min(REPS, 2); rep++) {
      for (const impl of orderFor(rep)) {
        const server = await startServer(impl);
        details[impl] ??= server.ready.details;
        const { port, pid } = server.ready;
        // Warm-up: 200 connections that compress, then close, so one-time costs are not counted per connection.
        await load.call('open', { port, count: 200, concurrency: 16, messages: 3, size: KiB, maxMs: 30_000 }, 60_000);
        await load.call('close');
        await waitConnections(server, 0, 10_000);
        const before = await server.call('gc');
        const rssBefore = procRss(pid);
        const o = await load.call('open', { port, count: CONN, concurrency: 64, messages: 3, size: KiB, maxMs: 120_000 }, 180_000);
        await waitConnections(server, o.opened, 10_000);
        await sleep(300);
        const after = await server.call('gc');
        const rssAfter = procRss(pid);
        await load.call('close');
        await server.stop();
        const n = after.connections;
        const sample = { connections: n, failed: o.failed, echoed: o.echoed, rssPerConn: (rssAfter - rssBefore) / n, heapPerConn: (after.heapUsed + after.external - before.heapUsed - before.external) / n };
        record('conn5k', impl, sample);
        console.log(
          `  conn5k     ${impl.padEnd(6)} ${n} connections (${o.failed} failed, ${o.echoed} echoes of which ${o.compressed} compressed, ${o.seconds.toFixed(1)} s): ` +
            `${fmt(sample.rssPerConn)} B RSS, ${fmt(sample.heapPerConn)} B JS heap + external per connection; server RSS ${fmt(rssAfter / 2 ** 20)} MiB`,
        );
      }
    }
  }
  await load.stop();

  console.log(`\nwsflow: ${details.wsflow}\nws:     ${details.ws}\n`);
  const rows = [];
  const add = (label, key, pick, unit, better, digits = 0) => {
    if (!results[key]) return;
    const a = median(results[key].wsflow.map(pick));
    const b = median(results[key].ws.map(pick));
    rows.push([label, unit, fmt(a, digits), fmt(b, digits), `${(a / b).toFixed(2)}×`, better]);
  };
  for (const c of CASES) {
    add(`${c.label}: echo`, c.key, (s) => s.msgsPerSecond, 'msgs/s', 'higher');
    add(`${c.label}: echo`, c.key, (s) => s.mbPerSecond, 'MB/s', 'higher', 1);
    add(`${c.label}: server CPU per 1k msgs`, c.key, (s) => s.serverCpuPer1k, 'CPU s', 'lower', 3);
    add(`${c.label}: msgs per server CPU-second`, c.key, (s) => s.msgsPerSecond / s.serverCpuShare, 'msgs', 'higher');
    add(`${c.label}: echo wire/plain`, c.key, (s) => s.wireRatio, 'ratio', 'lower', 3);
  }
  add(`RSS per compressed connection (${CONN})`, 'conn5k', (s) => s.rssPerConn, 'B', 'lower');
  add('  (JS heap + external part)', 'conn5k', (s) => s.heapPerConn, 'B', 'lower');
  const head = ['measurement', 'unit', 'wsflow', 'ws', 'wsflow/ws', 'better'];
  const table = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i >= 2 && i <= 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  if (results.deflate1k || results.deflate64k) {
    console.log('\nmedian server CPU share during the windows (1.00 = one core):');
    for (const c of CASES) {
      if (!results[c.key]) continue;
      console.log(`  ${c.key}: ${IMPLS.map((i) => `${i} ${median(results[c.key][i].map((s) => s.serverCpuShare)).toFixed(2)}`).join(', ')}, load ${median(IMPLS.flatMap((i) => results[c.key][i].map((s) => s.loadCpuShare))).toFixed(2)}`);
    }
  }
  if (typeof args.json === 'string') writeFileSync(args.json, `${JSON.stringify({ settings: SETTINGS, details, results }, null, 2)}\n`);
  console.log(`\n(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
} catch (error) {
  console.error(error);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}
process.exit(process.exitCode ?? 0);
