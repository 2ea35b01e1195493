#!/usr/bin/env node
// Node server benchmark: wsflow's `serve` echo server against ws's WebSocketServer (with
// bufferutil), side by side in one run, with a load generator that is not the bottleneck.
// See bench/node/README.md for what each number means.
//
//   npx node bench/node/run.mjs [--quick] [--reps=N] [--ms=N] [--idle=N] [--only=REGEX]
//                               [--conns=N] [--depth=X] [--handshakes=N] [--wsflow=FILE] [--wsflow-b=FILE]
//                               [--cpu-prof[=DIR]] [--json=FILE]
//
// Processes: this one orchestrates; each server runs in its own child (bench/node/server.mjs)
// so that its CPU time and memory are its own; the load generator is a third child
// (bench/node/load.mjs). Repetitions alternate which server goes first; the table shows
// medians. Every phase is bounded in time and count, and the whole run has a watchdog.
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../lib/args.mjs';
import { root } from '../lib/paths.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// ---- options ----------------------------------------------------------------------------

const args = parseArgs(import.meta.url);
const quick = !!args.quick;
const REPS = Number(args.reps ?? (quick ? 1 : 3));
const MEASURE_MS = Number(args.ms ?? (quick ? 1500 : 3000));
const WARM_MS = quick ? 300 : 500;
const IDLE_WANTED = Number(args.idle ?? (quick ? 2000 : 10000));
// --handshakes=N: handshakes per repetition (default 2,000; more gives steadier rates).
const HANDSHAKES = Number(args.handshakes ?? (quick ? 500 : 2000));
const only = args.only ? new RegExp(args.only, 'i') : null;
// --cpu-prof[=DIR]: V8 CPU profiles of both servers (default DIR: $TMPDIR/wsflow-bench-node-profiles).
const CPU_PROF = !!args['cpu-prof'];
const profDir = typeof args['cpu-prof'] === 'string' ? resolve(args['cpu-prof']) : join(tmpdir(), 'wsflow-bench-node-profiles');
// --wsflow=FILE measures another build of @wsflow/node (e.g. a patched bundle) instead of packages/node/dist.
if (typeof args.wsflow === 'string') process.env.WSFLOW_MODULE = resolve(args.wsflow);
// --wsflow-b=FILE adds a third server, `wsflow-b`, running that build of @wsflow/node: an A/B
// comparison of two builds in one run, interleaved, so that both see the same background load.
const WSFLOW_B = typeof args['wsflow-b'] === 'string' ? resolve(args['wsflow-b']) : null;
const IMPLS = WSFLOW_B === null ? ['wsflow', 'ws'] : ['wsflow', 'ws', 'wsflow-b'];
/** The whole run is stopped after this, whatever happens. */
const WATCHDOG_MS = 9 * 60_000;

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) console.warn(`warning: Node ${process.version}; the project targets Node 24 — run with \`npx node bench/node/run.mjs\`.`);

// ---- sanity: built wsflow, file-descriptor limit --------------------------------------------

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  return newest;
}
try {
  const built = statSync(join(root, 'packages/node/dist/index.js')).mtimeMs;
  const src = Math.max(newestMtime(join(root, 'packages/node/src')), newestMtime(join(root, 'packages/codec/src')));
  if (src > built) console.warn('warning: packages/*/src is newer than packages/node/dist: run `npm run build` first to measure the current code.');
} catch {
  console.error('packages/node/dist is missing: run `npm run build` first.');
  process.exit(1);
}

function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s+/)[3]);
  return Number.isFinite(soft) ? soft : 1024;
}
const fdLimit = openFileLimit();
// Each side of a connection is one descriptor in its own process; keep a margin.
const IDLE = Math.min(IDLE_WANTED, fdLimit - 512);
if (IDLE < IDLE_WANTED) {
  console.warn(`note: open-file limit is ${fdLimit}: idle-connection test capped at ${IDLE} (raise with \`ulimit -n\` before running).`);
}

// ---- children ---------------------------------------------------------------------------

const children = new Set();
let nextId = 1;

/** Forks a child speaking the request/answer protocol; resolves with its ready message. */
async function start(script, argv, { execArgv = [], onMark, env } = {}) {
  const child = fork(join(here, script), argv, { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: root });
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
    /** Sends a request; rejects after `timeoutMs`. */
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
      try {
        await this.call('exit', {}, 5000);
      } catch {
        /* it may already be gone */
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts the echo server of `impl` (`wsflow-b` is wsflow from the --wsflow-b build). */
function startServer(impl, tag) {
  const options = { execArgv: serverArgs(impl, tag) };
  if (impl === 'wsflow-b') options.env = { ...process.env, WSFLOW_MODULE: WSFLOW_B };
  return start('server.mjs', [impl === 'wsflow-b' ? 'wsflow' : impl], options);
}

function serverArgs(impl, tag) {
  const execArgv = ['--expose-gc'];
  if (CPU_PROF) {
    mkdirSync(profDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${impl}-${tag}.cpuprofile`);
  }
  return execArgv;
}

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

/** User + system CPU seconds of a process so far, from /proc/<pid>/stat (10 ms ticks). */
function procCpuSeconds(pid) {
  return procCpu(pid).total;
}
/** User and system (kernel) CPU seconds and minor page faults of a process so far, from /proc. */
function procCpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the whole line (utime, stime) are 11 and 12 after the command name.
  const user = Number(fields[11]) / CLOCK_TICKS;
  const system = Number(fields[12]) / CLOCK_TICKS;
  // Field 10 (minflt): minor page faults, e.g. first touches of freshly mapped memory.
  return { user, system, total: user + system, minorFaults: Number(fields[7]) };
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuSeconds = (u) => (u.cpuUser + u.cpuSystem) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x, digits = 0) =>
  !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const KiB = 1024;
const MiB = 1024 * 1024;

/** Orders the implementations for repetition `rep`: alternate who goes first. */
const orderFor = (rep) => (IMPLS.length === 2 ? (rep % 2 === 0 ? IMPLS : [...IMPLS].reverse()) : [...IMPLS.slice(rep % IMPLS.length), ...IMPLS.slice(0, rep % IMPLS.length)]);

// ---- the run ----------------------------------------------------------------------------

const ECHO_CASES = [
  { key: 'echo16', label: 'echo 16 B text', size: 16, opcode: 1, conns: 4, batch: 1000, window: 4000, unit: 'msgs/s' },
  { key: 'echo1k', label: 'echo 1 KiB text', size: KiB, opcode: 1, conns: 4, batch: 64, window: 256, unit: 'msgs/s' },
  { key: 'echo64k', label: 'echo 64 KiB binary', size: 64 * KiB, opcode: 2, conns: 4, batch: 8, window: 32, unit: 'MB/s' },
  { key: 'echo1m', label: 'echo 1 MiB binary', size: MiB, opcode: 2, conns: 4, batch: 1, window: 4, unit: 'MB/s' },
];
// Optional overrides: --conns=N (connections per echo case), --depth=X (scales batch and window).
for (const c of ECHO_CASES) {
  if (args.conns !== undefined) c.conns = Number(args.conns);
  if (args.depth !== undefined) {
    c.batch = Math.max(1, Math.round(c.batch * Number(args.depth)));
    c.window = Math.max(c.batch, Math.round(c.window * Number(args.depth)));
  }
}
/** Upper bound on messages per echo measurement (the time bound normally ends it first). */
const MAX_MESSAGES = 50_000_000;

const t0 = Date.now();
console.log(
  `wsflow vs ws — Node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`${REPS} repetition(s), ${MEASURE_MS} ms measured per echo case after ${WARM_MS} ms warm-up; medians shown.\n`);

const marks = { start: null, end: null };
let markServer = null;
const load = await start('load.mjs', [], {
  onMark: (mark) => {
    // The load generator opened/closed its measuring window: sample the server's CPU now,
    // from /proc (a busy server may answer IPC late).
    if (markServer !== null) {
      const cpu = procCpu(markServer.child.pid);
      marks[mark] = { cpu: cpu.total, system: cpu.system, minorFaults: cpu.minorFaults, at: performance.now() };
    }
  },
});

const results = {}; // results[key][impl] = [samples]
const record = (key, impl, sample) => {
  results[key] ??= Object.fromEntries(IMPLS.map((i) => [i, []]));
  results[key][impl].push(sample);
};
const wanted = (key) => only === null || only.test(key);

try {
  // -- memory per idle connection: fresh servers, so that memory freed by earlier phases
  //    cannot hide the cost of new connections.
  if (wanted('idle')) {
    for (let rep = 0; rep < Math.min(REPS, 2); rep++) {
      for (const impl of orderFor(rep)) {
        const server = await startServer(impl, `idle-${rep}`);
        const { port } = server.ready;
        // Warm the handshake path so its one-time allocations are not counted per connection.
        await load.call('handshakes', { port, total: 200, concurrency: 8, maxMs: 10_000 });
        await waitConnections(server, 0, 10_000);
        const before = await server.call('gc');
        const opened = await load.call('open', { port, count: IDLE, concurrency: 128, maxMs: 60_000 }, 90_000);
        await waitConnections(server, opened.opened, 10_000);
        await sleep(300);
        const after = await server.call('gc');
        await load.call('close');
        await waitConnections(server, 0, 15_000);
        await server.stop();
        const n = after.connections;
        if (process.env.BENCH_DEBUG) {
          const d = (k) => fmt((after[k] - before[k]) / n);
          console.log(`    per connection: rss ${d('rss')}, heapTotal ${d('heapTotal')}, heapUsed ${d('heapUsed')}, external ${d('external')}, arrayBuffers ${d('arrayBuffers')}`);
          console.log(`    physical heap space growth per connection: ${Object.keys(after.spaces).map((k) => `${k} ${fmt((after.spaces[k] - before.spaces[k]) / n)}`).join(', ')}`);
        }
        record('idle', impl, {
          connections: n,
          failed: opened.failed,
          rssPerConn: (after.rss - before.rss) / n,
          heapPerConn: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
        });
        console.log(
          `  idle      ${impl.padEnd(6)} ${n} connections: ${fmt((after.rss - before.rss) / n)} B RSS, ` +
            `${fmt((after.heapUsed + after.external - before.heapUsed - before.external) / n)} B heap+external per connection`,
        );
      }
    }
  }

  // -- the long-lived servers for throughput and handshakes
  const servers = {};
  const details = {};
  for (const impl of IMPLS) {
    servers[impl] = await startServer(impl, 'main');
    details[impl] = servers[impl].ready.details;
  }

  if (wanted('handshake')) {
    for (let rep = 0; rep < REPS; rep++) {
      for (const impl of orderFor(rep)) {
        const server = servers[impl];
        await waitConnections(server, 0, 10_000);
        const u0 = await server.call('usage');
        const r = await load.call('handshakes', { port: server.ready.port, total: HANDSHAKES, concurrency: 8, maxMs: 20_000 });
        const u1 = await server.call('usage');
        const perSecond = r.completed / r.seconds;
        record('handshake', impl, { perSecond, failed: r.failed, cpuPer: (cpuSeconds(u1) - cpuSeconds(u0)) / r.completed });
        console.log(
          `  handshake ${impl.padEnd(6)} ${r.completed} in ${r.seconds.toFixed(2)} s: ${fmt(perSecond)}/s` +
            `${r.failed ? ` (${r.failed} failed)` : ''}, server CPU ${fmt(((cpuSeconds(u1) - cpuSeconds(u0)) / r.completed) * 1e6)} µs each`,
        );
      }
    }
  }

  for (const c of ECHO_CASES) {
    if (!wanted(c.key)) continue;
    for (let rep = 0; rep < REPS; rep++) {
      for (const impl of orderFor(rep)) {
        const server = servers[impl];
        await waitConnections(server, 0, 10_000);
        markServer = server;
        marks.start = marks.end = null;
        const r = await load.call(
          'echo',
          { port: server.ready.port, size: c.size, opcode: c.opcode, conns: c.conns, batch: c.batch, window: c.window, warmMs: WARM_MS, measureMs: MEASURE_MS, maxMessages: MAX_MESSAGES },
          MEASURE_MS + WARM_MS + 30_000,
        );
        markServer = null;
        const serverCpu = marks.end.cpu - marks.start.cpu;
        if (process.env.BENCH_DEBUG) console.log(`    marks ${(marks.end.at - marks.start.at).toFixed(0)} ms apart; window ${(r.seconds * 1000).toFixed(0)} ms`);
        const sample = {
          msgsPerSecond: r.messages / r.seconds,
          mbPerSecond: r.payloadBytes / r.seconds / 1e6,
          serverCpuPerMillion: (serverCpu / r.messages) * 1e6,
          serverCpuShare: serverCpu / r.seconds,
          // The part of the server's CPU spent in the kernel (socket reads and writes, page faults).
          serverSystemShare: (marks.end.system - marks.start.system) / r.seconds,
          serverFaultsPerMessage: (marks.end.minorFaults - marks.start.minorFaults) / r.messages,
          // The server's memory right after the window (its connections may still be closing).
          serverMemory: process.env.BENCH_DEBUG ? await server.call('usage') : undefined,
          loadCpuShare: r.loadCpu,
          lost: r.sent - r.echoed,
          checked: r.checked,
          corrupt: r.corrupt,
        };
        if (r.corrupt > 0 || r.checked === 0) {
          console.error(`  ERROR: ${impl} ${c.key}: ${r.corrupt} of ${r.checked} sampled echoes differ from what was sent`);
          process.exitCode = 1;
        }
        record(c.key, impl, sample);
        console.log(
          `  ${c.key.padEnd(9)} ${impl.padEnd(6)} ${fmt(sample.msgsPerSecond).padStart(10)} msgs/s ${fmt(sample.mbPerSecond, 1).padStart(8)} MB/s` +
            `  server CPU ${fmt(sample.serverCpuShare * 100)}% (system ${fmt(sample.serverSystemShare * 100)}%, ${fmt(sample.serverFaultsPerMessage, 1)} page faults/msg), load CPU ${fmt(sample.loadCpuShare * 100)}%` +
            `${sample.lost ? `, ${sample.lost} not echoed in time` : ''}${r.errors ? `, ${r.errors} socket errors` : ''}`,
        );
        if (sample.serverMemory !== undefined) {
          const m = sample.serverMemory;
          console.log(`    memory after: rss ${fmt(m.rss / MiB)} MiB, heapUsed ${fmt(m.heapUsed / MiB)} MiB, external ${fmt(m.external / MiB)} MiB, arrayBuffers ${fmt(m.arrayBuffers / MiB)} MiB`);
        }
      }
    }
  }

  for (const impl of IMPLS) await servers[impl].stop();
  await load.stop();

  // ---- the table --------------------------------------------------------------------------

  console.log(`\nwsflow: ${details.wsflow}\nws:     ${details.ws}${WSFLOW_B === null ? '' : `\nwsflow-b: ${details['wsflow-b']}`}\n`);
  const rows = [];
  const add = (label, key, pick, unit, better, target = '', meets = null, digits = 0) => {
    if (!results[key]) return;
    addFor('wsflow', label, key, pick, unit, better, target, meets, digits);
    if (WSFLOW_B !== null) addFor('wsflow-b', `${label} [B]`, key, pick, unit, better, target, meets, digits);
  };
  const addFor = (impl, label, key, pick, unit, better, target, meets, digits) => {
    const a = median(results[key][impl].map(pick));
    const b = median(results[key].ws.map(pick));
    const verdict = meets === null ? '' : meets(a, b) ? 'met' : 'NOT met';
    rows.push({ label, unit, wsflow: fmt(a, digits), ws: fmt(b, digits), ratio: `${(a / b).toFixed(2)}×`, better, target, verdict, a, b });
  };
  add('echo 16 B text', 'echo16', (s) => s.msgsPerSecond, 'msgs/s', 'higher', '≥ 1,000,000 and ≥ 7× ws', (a, b) => a >= 1e6 && a >= 7 * b);
  add('echo 1 KiB text', 'echo1k', (s) => s.msgsPerSecond, 'msgs/s', 'higher');
  add('echo 64 KiB binary', 'echo64k', (s) => s.mbPerSecond, 'MB/s', 'higher', '≥ 1.0× ws', (a, b) => a >= b, 1);
  add('echo 1 MiB binary', 'echo1m', (s) => s.mbPerSecond, 'MB/s', 'higher', '≥ 1.0× ws', (a, b) => a >= b, 1);
  add('server CPU per 1M msgs (16 B)', 'echo16', (s) => s.serverCpuPerMillion, 'CPU s', 'lower', '', null, 2);
  // Throughput per CPU-second the server actually got: steadier than raw rates on a shared machine.
  add('16 B msgs per server CPU-second', 'echo16', (s) => s.msgsPerSecond / s.serverCpuShare, 'msgs', 'higher');
  add('1 KiB msgs per server CPU-second', 'echo1k', (s) => s.msgsPerSecond / s.serverCpuShare, 'msgs', 'higher');
  add('64 KiB MB per server CPU-second', 'echo64k', (s) => s.mbPerSecond / s.serverCpuShare, 'MB', 'higher', '', null, 1);
  add('1 MiB MB per server CPU-second', 'echo1m', (s) => s.mbPerSecond / s.serverCpuShare, 'MB', 'higher', '', null, 1);
  add('memory per idle connection', 'idle', (s) => s.rssPerConn, 'B RSS', 'lower', '≤ ws', (a, b) => a <= b);
  add('  (JS heap + external part)', 'idle', (s) => s.heapPerConn, 'B', 'lower');
  add('handshakes', 'handshake', (s) => s.perSecond, 'per s', 'higher', '≥ ws', (a, b) => a >= b);
  add('  server CPU per handshake', 'handshake', (s) => s.cpuPer * 1e6, 'µs', 'lower');

  const head = ['measurement', 'unit', 'wsflow', 'ws', 'wsflow/ws', 'better', 'target', 'verdict'];
  const table = [head, ...rows.map((r) => [r.label, r.unit, r.wsflow, r.ws, r.ratio, r.better, r.target, r.verdict])];
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i >= 2 && i <= 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  console.log(line(table[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table.slice(1)) console.log(line(row));

  // Whether each server was saturated, so that a ratio can be read as a server ratio.
  console.log('\nmedian CPU use during the echo windows (1.00 = one core busy):');
  for (const c of ECHO_CASES) {
    if (!results[c.key]) continue;
    const part = (impl) =>
      `server ${median(results[c.key][impl].map((s) => s.serverCpuShare)).toFixed(2)}, load ${median(results[c.key][impl].map((s) => s.loadCpuShare)).toFixed(2)}`;
    console.log(`  ${c.label.padEnd(20)} wsflow: ${part('wsflow')}   ws: ${part('ws')}${WSFLOW_B === null ? '' : `   wsflow-b: ${part('wsflow-b')}`}`);
  }
  console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(0)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (CPU_PROF) console.log(`profiles in ${profDir} (summarize with: node bench/node/top-profile.mjs FILE)`);

  if (args.json) {
    writeFileSync(args.json, JSON.stringify({ node: process.version, cpus: cpus().length, reps: REPS, measureMs: MEASURE_MS, details, results, rows }, null, 2));
  }
} catch (error) {
  console.error(error);
  for (const child of children) child.kill('SIGKILL');
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
}

/** Waits until the server counts `n` open connections (bounded). */
async function waitConnections(server, n, maxMs) {
  const until = Date.now() + maxMs;
  for (;;) {
    const u = await server.call('usage');
    if (u.connections === n || Date.now() > until) return u;
    await sleep(20);
  }
}
