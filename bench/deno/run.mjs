#!/usr/bin/env node
// Deno server benchmark: wsflow-on-Deno (`@wsflow/deno` serve) against Deno's own
// WebSocket server (`Deno.serve` + `Deno.upgradeWebSocket`), and optionally the codec's
// WHATWG-stream path over Deno conns (`duplex`), side by side in one run.
//
//   npx node bench/deno/run.mjs [--quick] [--reps=N] [--ms=N] [--only=REGEX]
//                               [--impls=wsflow,native[,duplex][,NAME=wsflow@PATH]] [--conns=N] [--json=FILE]
//                               [--idle=N] [--cpu-prof]   (V8 profiles + markdown summaries in .tmp/deno-prof/)
//
// Processes: this one (Node) orchestrates; each server is a Deno child
// (bench/deno/server.ts) so that its CPU time is its own, read from /proc; the load
// generator is bench/node/load.mjs, reused as is (forked, spoken to over IPC): raw
// node:net sockets writing pre-masked frames in batches and counting echoes by header.
// Repetitions alternate which server goes first; the table shows medians and the ratio
// to native. Every phase is bounded in time and count, and the whole run has a watchdog.
import { fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../lib/args.mjs';
import { bin, root } from '../lib/paths.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const deno = bin('deno');

const args = parseArgs(import.meta.url);
const quick = !!args.quick;
const REPS = Number(args.reps ?? (quick ? 1 : 3));
const MEASURE_MS = Number(args.ms ?? (quick ? 1500 : 3000));
const WARM_MS = quick ? 300 : 700;
const HANDSHAKES = quick ? 500 : 2000;
const IDLE = Number(args.idle ?? (quick ? 500 : 2000));
const only = args.only ? new RegExp(args.only, 'i') : null;
// --impls: server kinds (see server.ts), each optionally named: `old=wsflow@path/to/index.ts`.
const IMPL_SPECS = Object.fromEntries(
  (typeof args.impls === 'string' ? args.impls.split(',') : ['wsflow', 'native']).map((item) => {
    const eq = item.indexOf('=');
    return eq < 0 ? [item, item] : [item.slice(0, eq), item.slice(eq + 1)];
  }),
);
const IMPLS = Object.keys(IMPL_SPECS);
const WATCHDOG_MS = 9 * 60_000;
const KiB = 1024;
const MiB = 1024 * 1024;
const MAX_MESSAGES = 50_000_000;

const ECHO_CASES = [
  { key: 'echo16', label: 'echo 16 B text', size: 16, opcode: 1, conns: 4, batch: 1000, window: 4000, unit: 'msgs/s' },
  { key: 'echo1k', label: 'echo 1 KiB text', size: KiB, opcode: 1, conns: 4, batch: 64, window: 256, unit: 'msgs/s' },
  { key: 'echo64k', label: 'echo 64 KiB binary', size: 64 * KiB, opcode: 2, conns: 4, batch: 8, window: 32, unit: 'MB/s' },
  { key: 'echo1m', label: 'echo 1 MiB binary', size: MiB, opcode: 2, conns: 4, batch: 1, window: 4, unit: 'MB/s' },
];
if (args.conns !== undefined) for (const c of ECHO_CASES) c.conns = Number(args.conns);

// ---- children ---------------------------------------------------------------------------

const children = new Set();
const kill = () => {
  for (const child of children) child.kill('SIGKILL');
};
const watchdog = setTimeout(() => {
  console.error(`watchdog: the run exceeded ${WATCHDOG_MS / 60000} minutes; stopping`);
  kill();
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    kill();
    process.exit(130);
  });
}

/** Starts a Deno echo server; resolves with its ready line (port, pid). */
const profDir = join(root, '.tmp', 'deno-prof');
async function startServer(impl, name = impl) {
  // Named after the implementation's NAME, not its spec (`wsflow@PATH` holds slashes).
  const prof = args['cpu-prof'] ? [`--cpu-prof-dir=${profDir}`, '--cpu-prof-md', `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(deno, ['run', '-A', '--no-lock', '--no-remote', ...prof, '--v8-flags=--max-old-space-size=2048,--expose-gc', join(here, 'server.ts'), impl], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${impl} server did not start within 30 s`)), 30_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${impl} server said ${JSON.stringify(line)}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`${impl} server exited (${code}) before it was ready`)));
  });
  return {
    child,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Forks bench/node/load.mjs (unchanged) and speaks its request/answer protocol. */
async function startLoad(onMark) {
  const child = fork(join(root, 'bench', 'node', 'load.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: root });
  children.add(child);
  const waiting = new Map();
  let nextId = 1;
  child.on('message', (message) => {
    if (message.mark !== undefined) onMark(message.mark);
    else if (message.id !== undefined) {
      const w = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) w?.reject(new Error(message.error));
      else w?.resolve(message.result);
    }
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    for (const w of waiting.values()) w.reject(new Error(`load.mjs exited (${code ?? signal})`));
    waiting.clear();
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`load.mjs exited (${code}) before it was ready`)));
  });
  return {
    call(op, payload, timeoutMs) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`load.mjs: ${op} timed out`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        child.send({ id, op, ...payload });
      });
    },
    stop() {
      child.disconnect();
    },
  };
}

// ---- helpers ----------------------------------------------------------------------------

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux
/** Resident set size of a process in bytes, from /proc/<pid>/status. */
function procRss(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) * 1024;
}

/** User + system CPU seconds of a process (all its threads) so far, from /proc/<pid>/stat. */
function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x, digits = 0) =>
  !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const orderFor = (rep) => (rep % 2 === 0 ? IMPLS : [...IMPLS].reverse());
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the run ----------------------------------------------------------------------------

console.log(
  `wsflow-on-Deno vs Deno native — ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`${REPS} repetition(s), ${MEASURE_MS} ms measured per echo case after ${WARM_MS} ms warm-up; medians shown.\n`);

const marks = { start: null, end: null };
let markPid = null;
const load = await startLoad((mark) => {
  if (markPid !== null) marks[mark] = procCpuSeconds(markPid);
});

const servers = {};
const results = {};
const record = (key, impl, sample) => {
  results[key] ??= {};
  (results[key][impl] ??= []).push(sample);
};
const wanted = (key) => only === null || only.test(key);
let failed = false;

try {
  for (const impl of IMPLS) servers[impl] = await startServer(IMPL_SPECS[impl], impl);
  for (const impl of IMPLS) console.log(`  ${impl.padEnd(7)} ${servers[impl].ready.details}`);
  console.log('');

  // Memory per idle connection (RSS after full GCs, triggered with SIGUSR2): open IDLE
  // connections, wait, compare, close them.
  if (wanted('idle')) {
    for (const impl of IMPLS) {
      const server = servers[impl];
      await load.call('handshakes', { port: server.ready.port, total: 200, concurrency: 8, maxMs: 10_000 }, 30_000);
      server.child.kill('SIGUSR2');
      await sleep(500);
      const before = procRss(server.ready.pid);
      const opened = await load.call('open', { port: server.ready.port, count: IDLE, concurrency: 64, maxMs: 60_000 }, 90_000);
      await sleep(500);
      server.child.kill('SIGUSR2');
      await sleep(500);
      const after = procRss(server.ready.pid);
      await load.call('close', {}, 30_000);
      record('idle', impl, { bytesPerConnection: (after - before) / Math.max(1, opened.opened), opened: opened.opened, failed: opened.failed });
      console.log(`  idle      ${impl.padEnd(7)} ${opened.opened} connections: ${fmt((after - before) / Math.max(1, opened.opened))} B RSS each${opened.failed ? ` (${opened.failed} failed)` : ''}`);
      await sleep(500);
    }
  }

  if (wanted('handshake')) {
    for (let rep = 0; rep < REPS; rep++) {
      for (const impl of orderFor(rep)) {
        const server = servers[impl];
        const c0 = procCpuSeconds(server.ready.pid);
        const r = await load.call('handshakes', { port: server.ready.port, total: HANDSHAKES, concurrency: 8, maxMs: 20_000 }, 40_000);
        const c1 = procCpuSeconds(server.ready.pid);
        record('handshake', impl, { perSecond: r.completed / r.seconds, cpuPer: (c1 - c0) / Math.max(1, r.completed), failed: r.failed });
        console.log(`  handshake ${impl.padEnd(7)} ${r.completed} in ${r.seconds.toFixed(2)} s: ${fmt(r.completed / r.seconds)}/s${r.failed ? ` (${r.failed} failed)` : ''}`);
        await sleep(200);
      }
    }
  }

  for (const c of ECHO_CASES) {
    if (!wanted(c.key)) continue;
    for (let rep = 0; rep < REPS; rep++) {
      for (const impl of orderFor(rep)) {
        const server = servers[impl];
        markPid = server.ready.pid;
        marks.start = marks.end = null;
        const r = await load.call(
          'echo',
          { port: server.ready.port, size: c.size, opcode: c.opcode, conns: c.conns, batch: c.batch, window: c.window, warmMs: WARM_MS, measureMs: MEASURE_MS, maxMessages: MAX_MESSAGES },
          MEASURE_MS + WARM_MS + 30_000,
        );
        markPid = null;
        const serverCpu = marks.end !== null && marks.start !== null ? marks.end - marks.start : NaN;
        const sample = {
          msgsPerSecond: r.messages / r.seconds,
          mbPerSecond: r.payloadBytes / r.seconds / 1e6,
          serverCpuShare: serverCpu / r.seconds,
          serverCpuPerMessage: serverCpu / r.messages,
          loadCpuShare: r.loadCpu,
          errors: r.errors,
        };
        if (r.messages === 0) {
          console.error(`  ERROR: ${impl} ${c.key}: no echo came back`);
          failed = true;
        }
        record(c.key, impl, sample);
        const rate = c.unit === 'MB/s' ? `${fmt(sample.mbPerSecond, 1)} MB/s` : `${fmt(sample.msgsPerSecond)} msgs/s`;
        console.log(
          `  ${c.key.padEnd(9)} ${impl.padEnd(7)} ${rate.padStart(16)}  server CPU ${fmt(sample.serverCpuShare * 100)}% (${fmt(sample.serverCpuPerMessage * 1e6, 2)} µs/msg)  load CPU ${fmt(sample.loadCpuShare * 100)}%`,
        );
        await sleep(200);
      }
    }
  }
} finally {
  for (const server of Object.values(servers)) await server.stop();
  load.stop();
}

// ---- the table --------------------------------------------------------------------------

console.log('\n== medians ==');
const header = `${'case'.padEnd(22)}${IMPLS.map((i) => i.padStart(16)).join('')}${IMPLS.filter((i) => i !== 'native').map((i) => `${i}/native`.padStart(16)).join('')}`;
console.log(header);
const rows = [];
if (results.idle) rows.push(['idle conn B RSS (lower)', (s) => s.bytesPerConnection, 'idle']);
if (results.handshake) rows.push(['handshakes/s', (s) => s.perSecond, 'handshake']);
for (const c of ECHO_CASES) if (results[c.key]) rows.push([`${c.label} ${c.unit}`, c.unit === 'MB/s' ? (s) => s.mbPerSecond : (s) => s.msgsPerSecond, c.key]);
const summary = {};
for (const [label, pick, key] of rows) {
  const med = Object.fromEntries(IMPLS.map((impl) => [impl, median((results[key][impl] ?? []).map(pick))]));
  summary[key] = med;
  const ratios = IMPLS.filter((i) => i !== 'native').map((i) => (med.native ? `${(med[i] / med.native).toFixed(2)}×` : 'n/a').padStart(16));
  console.log(`${label.padEnd(22)}${IMPLS.map((i) => fmt(med[i], key === 'echo64k' || key === 'echo1m' ? 1 : 0).padStart(16)).join('')}${ratios.join('')}`);
}
console.log('\nserver CPU per message (µs; lower is better — less sensitive to a busy machine than rates):');
for (const c of ECHO_CASES) {
  if (!results[c.key]) continue;
  const med = Object.fromEntries(IMPLS.map((impl) => [impl, median((results[c.key][impl] ?? []).map((s) => s.serverCpuPerMessage * 1e6))]));
  const ratios = IMPLS.filter((i) => i !== 'native').map((i) => (med.native ? `${(med.native / med[i]).toFixed(2)}×` : 'n/a').padStart(16));
  console.log(`${c.label.padEnd(22)}${IMPLS.map((i) => fmt(med[i], 2).padStart(16)).join('')}${ratios.join('')}`);
}
console.log('\nTargets (the issue): wsflow/native ≥ 3× at 16 B msgs/s, ≥ 1.0× at 64 KiB and 1 MiB MB/s.');
if (typeof args.json === 'string') {
  writeFileSync(args.json, JSON.stringify({ args, reps: REPS, measureMs: MEASURE_MS, results, summary }, null, 2));
  console.log(`samples written to ${args.json}`);
}
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
