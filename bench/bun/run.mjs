#!/usr/bin/env node
// Bun server benchmark: wsflow's `serve` on Bun (@wsflow/bun) against Bun's native
// WebSocket server (`Bun.serve` with `websocket` handlers), side by side in one run.
//
//   npx node bench/bun/run.mjs [--quick] [--reps=N] [--ms=N] [--only=REGEX] [--conns=N] [--depth=X] [--json=FILE]
//                              [--wsflow=FILE] [--wsflow-b=FILE]   (another build of @wsflow/bun; -b: a third
//                                                                    server, `wsflow-b`, for an A/B run)
//
// Processes: this one (Node) orchestrates; each server runs in its own Bun process
// (bench/bun/server.ts); the load generator is bench/node/load.mjs, used as is, in a Node
// child: it writes PRE-MASKED client frames, built once, in batches over raw sockets and
// counts the echoes by their headers, keeping at most `window` messages in flight per
// connection. Repetitions alternate which server goes first; the table shows medians.
// Server CPU is read from /proc at the load generator's window marks. Every phase is
// bounded in time and count, and the whole run has a watchdog.
//
// Targets (the issue): wsflow >= 0.5x native msgs/s at 16 B, >= 1.0x at 1 MiB.
import { fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../lib/args.mjs';
import { bin, root } from '../lib/paths.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const args = parseArgs(import.meta.url);
const quick = !!args.quick;
const REPS = Number(args.reps ?? (quick ? 1 : 3));
const MEASURE_MS = Number(args.ms ?? (quick ? 1500 : 3000));
const WARM_MS = quick ? 300 : 500;
const only = args.only ? new RegExp(args.only, 'i') : null;
const WSFLOW = typeof args.wsflow === 'string' ? resolve(args.wsflow) : null;
const WSFLOW_B = typeof args['wsflow-b'] === 'string' ? resolve(args['wsflow-b']) : null;
const IMPLS = WSFLOW_B === null ? ['wsflow', 'native'] : ['wsflow', 'native', 'wsflow-b'];
const WATCHDOG_MS = 9 * 60_000;
const MAX_MESSAGES = 50_000_000;
const KiB = 1024;
const MiB = 1024 * 1024;
const CLOCK_TICKS = 100;

const ECHO_CASES = [
  { key: 'echo16t', label: 'echo 16 B text', size: 16, opcode: 1, conns: 4, batch: 1000, window: 4000, unit: 'msgs/s', target: 0.5 },
  { key: 'echo16b', label: 'echo 16 B binary', size: 16, opcode: 2, conns: 4, batch: 1000, window: 4000, unit: 'msgs/s', target: 0.5 },
  { key: 'echo1k', label: 'echo 1 KiB text', size: KiB, opcode: 1, conns: 4, batch: 64, window: 256, unit: 'msgs/s' },
  { key: 'echo64k', label: 'echo 64 KiB binary', size: 64 * KiB, opcode: 2, conns: 4, batch: 8, window: 32, unit: 'MB/s' },
  { key: 'echo1m', label: 'echo 1 MiB binary', size: MiB, opcode: 2, conns: 4, batch: 1, window: 4, unit: 'MB/s', target: 1.0 },
];
for (const c of ECHO_CASES) {
  if (args.conns !== undefined) c.conns = Number(args.conns);
  if (args.depth !== undefined) {
    c.batch = Math.max(1, Math.round(c.batch * Number(args.depth)));
    c.window = Math.max(c.batch, Math.round(c.window * Number(args.depth)));
  }
}

// ---- children ---------------------------------------------------------------------------

const children = new Set();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
const watchdog = setTimeout(() => {
  console.error(`watchdog: the run took over ${WATCHDOG_MS / 60_000} min, stopping`);
  killAll();
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Reads one JSON line from a line reader, within `ms`. */
function nextLine(lines, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      lines.off('line', onLine);
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
    const onLine = (line) => {
      clearTimeout(timer);
      lines.off('line', onLine);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${what}: not JSON: ${line}`));
      }
    };
    lines.on('line', onLine);
  });
}

/** Starts a Bun echo server; resolves once it listens. */
async function startServer(impl) {
  const bun = bin('bun');
  const module = impl === 'wsflow-b' ? WSFLOW_B : impl === 'wsflow' ? WSFLOW : null;
  const env = module === null ? process.env : { ...process.env, WSFLOW_MODULE: module };
  const child = spawn(bun, ['run', '--no-install', join(here, 'server.ts'), impl === 'wsflow-b' ? 'wsflow' : impl], { cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const lines = createInterface({ input: child.stdout });
  const ready = await nextLine(lines, 20_000, `${impl} server start`);
  return {
    ready,
    child,
    connections: async () => (await (async () => {
      const answer = nextLine(lines, 5000, `${impl} connections`);
      child.stdin.write('connections\n');
      return answer;
    })()).connections,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.write('exit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Forks bench/node/load.mjs (IPC request/answer protocol); resolves once it is ready. */
async function startLoad(onMark) {
  const child = fork(join(root, 'bench/node/load.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: root });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const waiting = new Map();
  let nextId = 1;
  child.on('message', (message) => {
    if (message.mark !== undefined) onMark(message.mark);
    if (message.id === undefined) return;
    const w = waiting.get(message.id);
    if (w === undefined) return;
    waiting.delete(message.id);
    clearTimeout(w.timer);
    if (message.error !== undefined) w.reject(new Error(message.error));
    else w.resolve(message.result);
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`load.mjs exited (${code}) before it was ready`)));
  });
  return {
    call(op, payload, ms = 60_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`load ${op}: no answer within ${ms} ms`));
        }, ms);
        waiting.set(id, { resolve, reject, timer });
        child.send({ id, op, ...payload });
      });
    },
    stop: () => child.kill('SIGTERM'),
  };
}

// ---- helpers ----------------------------------------------------------------------------

function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x, digits = 0) =>
  !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const orderFor = (rep) => (IMPLS.length === 2 ? (rep % 2 === 0 ? IMPLS : [...IMPLS].reverse()) : [...IMPLS.slice(rep % IMPLS.length), ...IMPLS.slice(0, rep % IMPLS.length)]);

async function waitConnections(server, n, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await server.connections()) === n) return;
    await sleep(50);
  }
}

// ---- the run ----------------------------------------------------------------------------

const bunVersion = spawn(bin('bun'), ['--version']);
const version = await new Promise((resolve) => {
  let out = '';
  bunVersion.stdout.on('data', (d) => (out += d));
  bunVersion.on('close', () => resolve(out.trim()));
});
console.log(
  `wsflow-on-Bun vs Bun.serve — Bun ${version}, load generator on Node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), ` +
    `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
console.log(`${REPS} repetition(s), ${MEASURE_MS} ms measured per case after ${WARM_MS} ms warm-up; medians shown.\n`);

const marks = { start: null, end: null };
let markPid = null;
const load = await startLoad((mark) => {
  if (markPid !== null) marks[mark] = { cpu: procCpuSeconds(markPid), at: performance.now() };
});
const servers = {};
const results = {};
try {
  for (const impl of IMPLS) servers[impl] = await startServer(impl);
  for (const impl of IMPLS) console.log(`  ${impl.padEnd(8)} ${servers[impl].ready.details}`);
  console.log('');
  for (const c of ECHO_CASES) {
    if (only !== null && !only.test(c.key)) continue;
    results[c.key] = Object.fromEntries(IMPLS.map((i) => [i, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const impl of orderFor(rep)) {
        const server = servers[impl];
        await waitConnections(server, 0, 10_000);
        markPid = server.ready.pid;
        marks.start = marks.end = null;
        const r = await load.call(
          'echo',
          { port: server.ready.port, size: c.size, opcode: c.opcode, conns: c.conns, batch: c.batch, window: c.window, warmMs: WARM_MS, measureMs: MEASURE_MS, maxMessages: MAX_MESSAGES },
          MEASURE_MS + WARM_MS + 30_000,
        );
        markPid = null;
        const serverCpu = marks.end !== null && marks.start !== null ? marks.end.cpu - marks.start.cpu : NaN;
        const sample = {
          msgsPerSecond: r.messages / r.seconds,
          mbPerSecond: r.payloadBytes / r.seconds / 1e6,
          serverCpuShare: serverCpu / r.seconds,
          loadCpuShare: r.loadCpu,
          lost: r.sent - r.echoed,
          checked: r.checked,
          corrupt: r.corrupt,
        };
        if (r.corrupt > 0 || r.checked === 0) {
          console.error(`  ERROR: ${impl} ${c.key}: ${r.corrupt} of ${r.checked} sampled echoes differ from what was sent`);
          process.exitCode = 1;
        }
        results[c.key][impl].push(sample);
        const value = c.unit === 'MB/s' ? `${fmt(sample.mbPerSecond, 1)} MB/s` : `${fmt(sample.msgsPerSecond)} msgs/s`;
        console.log(
          `  ${c.key.padEnd(8)} ${impl.padEnd(6)} ${value.padStart(16)}  server CPU ${fmt(sample.serverCpuShare * 100)}%, load CPU ${fmt(sample.loadCpuShare * 100)}%` +
            `${r.errors ? `, ${r.errors} socket errors` : ''}`,
        );
      }
    }
  }
} finally {
  for (const impl of IMPLS) await servers[impl]?.stop();
  load.stop();
}

// ---- the table --------------------------------------------------------------------------

// `per CPU`: the ratio of throughput per server CPU-second (steadier on a shared machine).
console.log('\ncase                      unit        wsflow        native   wsflow/native   target   wsflow CPU  native CPU   per CPU');
for (const c of ECHO_CASES) {
  const r = results[c.key];
  if (r === undefined) continue;
  const rate = (s) => (c.unit === 'MB/s' ? s.mbPerSecond : s.msgsPerSecond);
  const pick = (impl) => median(r[impl].map(rate));
  const perCpu = (impl) => median(r[impl].map((s) => rate(s) / s.serverCpuShare));
  const cpu = (impl) => median(r[impl].map((s) => s.serverCpuShare));
  const n = pick('native');
  for (const impl of IMPLS.filter((i) => i !== 'native')) {
    const w = pick(impl);
    const ratio = w / n;
    const target = c.target === undefined ? '' : `>=${c.target.toFixed(1)} ${ratio >= c.target ? 'ok' : 'MISS'}`;
    const label = impl === 'wsflow' ? c.label : `${c.label} [B]`;
    console.log(
      `${label.padEnd(26)}${c.unit.padEnd(8)}${fmt(w, c.unit === 'MB/s' ? 1 : 0).padStart(10)}${fmt(n, c.unit === 'MB/s' ? 1 : 0).padStart(14)}` +
        `${fmt(ratio, 2).padStart(16)}   ${target.padEnd(9)}${`${fmt(cpu(impl) * 100)}%`.padStart(10)}${`${fmt(cpu('native') * 100)}%`.padStart(12)}` +
        `${fmt(perCpu(impl) / perCpu('native'), 2).padStart(10)}`,
    );
  }
}
if (typeof args.json === 'string') {
  writeFileSync(args.json, JSON.stringify({ bun: version, node: process.version, reps: REPS, measureMs: MEASURE_MS, cases: ECHO_CASES, results }, null, 2));
  console.log(`\nsamples written to ${args.json}`);
}
process.exit(process.exitCode ?? 0);
