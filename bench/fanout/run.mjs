#!/usr/bin/env node
// Chat-room fan-out benchmark: N clients in ONE room, each sending short text messages in
// a loop, every message delivered to every other client (as Bun's own WebSocket chat
// benchmark does); the number is messages DELIVERED per second, counted at the clients.
// wsflow against each runtime's usual server, one process per server, all in one run:
//   node: wsflow (`npm run fanout-server`)  vs  ws (WebSocketServer + broadcast loop)
//   bun:  wsflow (@wsflow/bun)              vs  Bun.serve websocket subscribe/publish
//   deno: wsflow (@wsflow/deno)             vs  Deno.serve + upgradeWebSocket + broadcast loop
//
//   npm run bench:fanout [-- --clients=16,256] [--runtimes=node,bun,deno] [--warm=1000] [--ms=5000]
//                          [--size=32] [--window=W] [--reps=1] [--generator=node|bun] [--cpu-prof[=DIR]] [--json=FILE]
//
// The load generator (bench/fanout/load.mjs, the same for every server) runs in its own
// Node process; each server's CPU time is read from /proc/<pid>/stat when the generator
// opens and closes its measured window, the generator's own with process.cpuUsage(), so
// the table shows whether the generator or the server was the busy one. Every phase is
// bounded (warm-up + window per case, timeouts on every wait, a watchdog on the run).
// Results: a markdown table on stdout and every number in bench/results/fanout-<time>.json
// (bench/results/ is not committed).
import { fork, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../lib/args.mjs';
import { bin, root } from '../lib/paths.mjs';
import { resultsFile, writeResults } from '../lib/results.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const args = parseArgs(import.meta.url);
const CLIENTS = String(args.clients ?? '16,256').split(',').map(Number);
const RUNTIMES = String(args.runtimes ?? 'node,bun,deno').split(',');
const WARM_MS = Number(args.warm ?? 1000);
const MEASURE_MS = Number(args.ms ?? 5000);
const SIZE = Number(args.size ?? 32);
const REPS = Number(args.reps ?? 1);
const CPU_PROF = args['cpu-prof'] !== undefined;
// --generator: the runtime that runs load.mjs (the same script; Bun speaks Node's IPC).
const GENERATOR = String(args.generator ?? 'node');
if (GENERATOR !== 'node' && GENERATOR !== 'bun') throw new Error('--generator must be node or bun');
const PROF_DIR = typeof args['cpu-prof'] === 'string' ? resolve(args['cpu-prof']) : join(root, '.tmp', 'fanout-prof');
const JSON_FILE = resultsFile('fanout', args.json);
const WATCHDOG_MS = 10 * 60_000;
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux
for (const n of CLIENTS) if (!Number.isInteger(n) || n < 2 || n > 4096) throw new Error(`--clients: 2-4096 each, got ${n}`);
if (!(SIZE >= 1 && SIZE < 126)) throw new Error('--size must be 1-125 (one-octet frame lengths)');

/** Messages in flight per client at the start; see load.mjs (bounded at N*(N-1)*window deliveries). */
const windowFor = (n) => (args.window !== undefined ? Number(args.window) : Math.max(1, Math.round(1024 / n)));

/** What starts each server: [command, args]. Each prints `listening on ws://…` and exits on SIGTERM. */
const SERVERS = {
  node: {
    wsflow: (prof) => [bin('node'), [...prof, join(root, 'tools/fanout_server.ts'), '--runtime', 'node', '--port', '0']],
    ws: (prof) => [bin('node'), [...prof, join(here, 'ws_server.mjs'), '--port', '0']],
  },
  bun: {
    wsflow: () => [bin('bun'), ['run', '--no-install', join(root, 'packages/bun/bin/fanout_server.ts'), '--port', '0']],
    native: () => [bin('bun'), ['run', '--no-install', join(here, 'bun_native.ts'), '--port', '0']],
  },
  deno: {
    wsflow: () => [bin('deno'), ['run', '-A', '--no-lock', '--no-remote', join(root, 'packages/deno/bin/fanout_server.ts'), '--port', '0']],
    native: () => [bin('deno'), ['run', '-A', '--no-lock', '--no-remote', join(here, 'deno_native.ts'), '--port', '0']],
  },
};
/** The targets: wsflow's delivered msg/s over the competitor's. */
const TARGETS = { node: 5, bun: 0.7, deno: 3 };
const COMPETITOR = { node: 'ws', bun: 'native', deno: 'native' };

// ---- children ---------------------------------------------------------------------------

const children = new Set();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
setTimeout(() => {
  console.error(`watchdog: the run exceeded ${WATCHDOG_MS / 60000} minutes; stopping`);
  killAll();
  process.exit(1);
}, WATCHDOG_MS).unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a server; resolves with { child, pid, port } once it prints its listening line. */
async function startServer(runtime, impl, tag) {
  const prof = CPU_PROF && runtime === 'node' ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${impl}-${tag}.cpuprofile`] : [];
  if (prof.length > 0) mkdirSync(PROF_DIR, { recursive: true });
  const [command, argv] = SERVERS[runtime][impl](prof);
  const child = spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  const exited = new Promise((r) => child.once('exit', (code, signal) => (children.delete(child), r(code ?? signal))));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime}/${impl}: no "listening on" line within 20 s: ${stderr}`)), 20_000);
    lines.on('line', (line) => {
      const m = /^listening on ws:\/\/[^:]+:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime}/${impl} exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    pid: child.pid,
    port,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** User + system CPU seconds of a process (all its threads) so far. */
function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Runs the load generator once against `port`; reads the server's CPU at its marks. */
async function load(port, serverPid, n) {
  const child = fork(join(here, 'load.mjs'), [], { execPath: bin(GENERATOR), cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const marks = {};
  const budget = WARM_MS + MEASURE_MS + 60_000;
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator: no answer within ${budget} ms`)), budget);
      child.on('message', (message) => {
        if (message.ready) {
          child.send({ port, clients: n, size: SIZE, window: windowFor(n), warmMs: WARM_MS, measureMs: MEASURE_MS });
        } else if (message.mark !== undefined) {
          marks[message.mark] = procCpuSeconds(serverPid);
        } else if (message.result !== undefined || message.error !== undefined) {
          clearTimeout(timer);
          if (message.error !== undefined) reject(new Error(message.error));
          else resolve({ ...message.result, serverCpu: marks.end - marks.start });
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited (${code})`));
      });
    });
  } finally {
    children.delete(child);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

// ---- the run ----------------------------------------------------------------------------

const fmt = (x, digits = 0) => (!Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const meta = {
  date: new Date().toISOString(),
  node: 'node_modules/.bin/node (Node servers)',
  generator: GENERATOR,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadavgBefore: loadavg(),
  size: SIZE,
  warmMs: WARM_MS,
  measureMs: MEASURE_MS,
  reps: REPS,
};
console.log(`fan-out: generator on ${GENERATOR}, ${SIZE} B text messages, ${WARM_MS} ms warm-up + ${MEASURE_MS} ms measured, ${REPS} repetition(s); load ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} CPUs\n`);

const samples = [];
for (const runtime of RUNTIMES) {
  if (SERVERS[runtime] === undefined) throw new Error(`--runtimes: unknown ${runtime}`);
  for (const n of CLIENTS) {
    for (let rep = 0; rep < REPS; rep++) {
      const impls = Object.keys(SERVERS[runtime]);
      // Alternate which server goes first, so that a trend in background load hits both.
      const order = (rep + CLIENTS.indexOf(n)) % 2 === 0 ? impls : [...impls].reverse();
      for (const impl of order) {
        const server = await startServer(runtime, impl, `${n}-${rep}`);
        let sample;
        try {
          sample = { runtime, clients: n, impl, rep, ...(await load(server.port, server.pid, n)) };
        } catch (error) {
          sample = { runtime, clients: n, impl, rep, error: String(error.message ?? error) };
        }
        await server.stop();
        if (sample.joined === false || (sample.errors?.length ?? 0) > 0) sample.error ??= sample.errors.join('; ');
        samples.push(sample);
        const line = sample.error
          ? `error: ${sample.error}`
          : `${fmt(sample.rate)} delivered/s, server CPU ${fmt(sample.serverCpu / sample.seconds, 2)} s/s, generator CPU ${fmt(sample.loadCpu / sample.seconds, 2)} s/s`;
        console.error(`  ${runtime} N=${n} ${impl}: ${line}`);
        await sleep(300);
      }
    }
  }
}

// ---- the table ----------------------------------------------------------------------------

const rows = [];
for (const runtime of RUNTIMES) {
  for (const n of CLIENTS) {
    const of = (impl) => samples.filter((s) => s.runtime === runtime && s.clients === n && s.impl === impl && !s.error);
    const rate = (impl) => median(of(impl).map((s) => s.rate));
    const competitor = rate(COMPETITOR[runtime]);
    for (const impl of Object.keys(SERVERS[runtime])) {
      const mine = of(impl);
      const r = rate(impl);
      const serverCpu = median(mine.map((s) => s.serverCpu / s.seconds));
      const loadCpu = median(mine.map((s) => s.loadCpu / s.seconds));
      const cpuPerMessage = median(mine.map((s) => (s.serverCpu / s.delivered) * 1e9));
      rows.push({
        runtime,
        clients: n,
        impl,
        rate: r,
        ratio: impl === 'wsflow' ? r / competitor : NaN,
        target: impl === 'wsflow' ? TARGETS[runtime] : NaN,
        serverCpu,
        loadCpu,
        cpuPerMessage,
        errors: samples.filter((s) => s.runtime === runtime && s.clients === n && s.impl === impl && s.error).map((s) => s.error),
      });
    }
  }
}
console.log('| runtime | N | impl | delivered msg/s | ratio | target | server CPU s/s | generator CPU s/s | server ns CPU / delivery |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  const ratio = Number.isFinite(row.ratio) ? `${row.ratio.toFixed(2)}×${row.ratio >= row.target ? '' : ' (below)'}` : '';
  const target = Number.isFinite(row.target) ? `≥ ${row.target}×` : '';
  const rate = row.errors.length > 0 && !Number.isFinite(row.rate) ? `error: ${row.errors[0]}` : fmt(row.rate);
  console.log(`| ${row.runtime} | ${row.clients} | ${row.impl} | ${rate} | ${ratio} | ${target} | ${fmt(row.serverCpu, 2)} | ${fmt(row.loadCpu, 2)} | ${fmt(row.cpuPerMessage)} |`);
}
meta.loadavgAfter = loadavg();
writeResults(JSON_FILE, { meta, rows, samples });
console.log(`\nevery sample: ${JSON_FILE}`);
if (CPU_PROF) console.log(`CPU profiles of the Node servers: ${PROF_DIR} (summarise with: node bench/lib/top-profile.mjs FILE 25)`);
process.exit(0);
