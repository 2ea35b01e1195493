#!/usr/bin/env node
// Codec benchmarks: wsflow's decoder/encoder against ws's Receiver/Sender, plus masking
// kernels, in one run, with ratios. See bench/README.md.
//
//   npx node bench/codec.mjs [--quick] [--reps=N] [--ms=N] [--warm=N] [--filter=REGEX]
//                            [--clock=cpu|wall] [--extra] [--codec=src|dist|PATH] [--json=FILE] [--cpu-prof]
//
// This process only orchestrates: each implementation family runs in its own forked
// worker (bench/lib/worker.mjs), and the repetitions of one case are interleaved across
// implementations (rotating the order each round) so that load from other processes on
// the machine spreads over all of them instead of biasing one.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHUNK, IMPLS, plan } from './lib/cases.mjs';
import { resolveCodec } from './lib/resolve-codec.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// ---- options ------------------------------------------------------------------------------

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    return [m[1], m[2] ?? true];
  }),
);
if (args.help) {
  console.log('usage: node bench/codec.mjs [--quick] [--reps=N] [--ms=N] [--warm=N] [--filter=REGEX] [--clock=cpu|wall] [--extra] [--codec=src|dist|PATH] [--json=FILE] [--cpu-prof]');
  process.exit(0);
}
const quick = !!args.quick;
const REPS = Number(args.reps ?? (quick ? 3 : 5));
const REP_MS = Number(args.ms ?? (quick ? 60 : 120));
const WARM_MS = Number(args.warm ?? (quick ? 60 : 100));
const MAX_BATCHES = Number(args['max-batches'] ?? 100000);
const filter = args.filter ? new RegExp(args.filter, 'i') : null;
// Which clock the table uses: the worker's main-thread CPU time (default; robust on a
// shared machine) or wall time. Both are recorded in --json output.
const CLOCK = args.clock === 'wall' || typeof process.threadCpuUsage !== 'function' ? 'wall' : 'cpu';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.warn(`warning: running on Node ${process.version}; the project targets Node 24 — run with \`npx node bench/codec.mjs\`.`);
}

// ---- the codec under test -----------------------------------------------------------------

const codecInfo = await resolveCodec(args.codec);

// ---- workers --------------------------------------------------------------------------------

const workers = new Map();
let nextId = 1;
const profDir = join(here, 'profiles');

function getWorker(name) {
  let w = workers.get(name);
  if (w) return w;
  const env = { ...process.env, WSFLOW_BENCH_CODEC: codecInfo.path };
  delete env.WS_NO_BUFFER_UTIL;
  if (name === 'ws-js') env.WS_NO_BUFFER_UTIL = '1';
  const execArgv = [];
  if (args['cpu-prof']) {
    mkdirSync(profDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}.cpuprofile`);
  }
  const child = fork(join(here, 'lib/worker.mjs'), [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let readyResolve;
  const ready = new Promise((r) => (readyResolve = r));
  child.on('message', (m) => {
    if (m.ready) return readyResolve();
    const p = pending.get(m.id);
    pending.delete(m.id);
    p?.(m);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p({ error: `worker ${name} exited with ${code}` });
    pending.clear();
  });
  w = {
    child,
    async call(msg) {
      await ready;
      const id = nextId++;
      return new Promise((res) => {
        pending.set(id, res);
        child.send({ ...msg, id });
      });
    },
  };
  workers.set(name, w);
  return w;
}

// ---- formatting -----------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function formatRate(rate, unit, size, perFrame) {
  if (perFrame) {
    const f = rate / size;
    return f >= 1e6 ? `${(f / 1e6).toFixed(2)} M fr/s*` : `${(f / 1e3).toFixed(0)} k fr/s*`;
  }
  if (unit === 'frames') {
    return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M/s` : `${(rate / 1e3).toFixed(0)} k/s`;
  }
  const mb = rate / 1e6;
  return `${mb >= 100 ? Math.round(mb).toLocaleString('en-US') : mb.toFixed(1)} MB/s`;
}

const pad = (s, n) => String(s).padEnd(n);
const padL = (s, n) => String(s).padStart(n);
const COLS = [16, 42, 14, 6, 8, 10];

function header(row) {
  if (row.section === 'mask') {
    return `\n== masking alone (octets masked per second; "vs" = / wsflow maskInto) ==\n` +
      `${pad('size', COLS[0])}${pad('implementation', COLS[1])}${padL('median', COLS[2])}${padL('±', COLS[3])}${padL('vs', COLS[4])}`;
  }
  const input = row.section === 'decode'
    ? (row.role === 'server' ? `masked frames, as a server receives them, in ${CHUNK / 1024} KiB chunks` : `unmasked frames, as a client receives them, in ${CHUNK / 1024} KiB chunks`)
    : (row.role === 'server' ? 'unmasked frames, as a server sends them' : 'masked frames, as a client sends them');
  return `\n== ${row.section}, ${row.role} role (${input}) ==\n` +
    `${pad('case', COLS[0])}${pad('implementation', COLS[1])}${padL('median', COLS[2])}${padL('±', COLS[3])}${padL('vs ws', COLS[4])}${padL('vs ws(js)', COLS[5])}`;
}

function line(row, impl, r, first, perFrame) {
  const label = first ? `${row.case.label}${row.case.unit === 'frames' ? ' /s' : ''}` : '';
  const name = IMPLS[impl].label;
  if (r.na || r.error) return `${pad(label, COLS[0])}${pad(name, COLS[1])}${padL(r.na ?? 'ERROR', COLS[2])}`;
  return `${pad(label, COLS[0])}${pad(name, COLS[1])}${padL(formatRate(r.rate, row.case.unit, row.case.size, perFrame), COLS[2])}` +
    `${padL(`${r.spread.toFixed(0)}%`, COLS[3])}${padL(r.vs ?? '', COLS[4])}${padL(r.vsJs ?? '', COLS[5])}`;
}

// ---- run -------------------------------------------------------------------------------------

const rows = plan({ extra: !!args.extra })
  .map((row) => ({ ...row, impls: row.impls.filter((i) => !filter || filter.test(`${row.section} ${row.role} ${row.case.label} ${i}`)) }))
  .filter((row) => row.impls.length > 0);

const started = performance.now();
const load0 = loadavg();
console.log(`wsflow codec benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`codec: ${codecInfo.from}`);
console.log(`each cell: median of ${REPS} repetitions of ≥${REP_MS} ms timed work (bounded also by ${MAX_BATCHES} batches), after ${WARM_MS} ms warm-up; ± = half the min–max range, % of median`);
console.log(`rates per ${CLOCK === 'cpu' ? 'second of the worker main thread\'s CPU time (time preempted by other processes left out; --clock=wall for wall time)' : 'second of wall time'}`);
{
  const wsInfo = await getWorker('ws').call({ cmd: 'info' });
  if (wsInfo.error) throw new Error(`ws worker failed: ${wsInfo.error}`);
  const wsJsInfo = rows.some((r) => r.impls.includes('ws-js')) ? await getWorker('ws-js').call({ cmd: 'info' }) : null;
  console.log(`ws: ${wsInfo.result.wsBufferUtil ? 'bufferutil active' : 'bufferutil NOT active'}` +
    (wsJsInfo ? `; ws(js) worker: ${wsJsInfo.result.wsBufferUtil ? 'bufferutil still active (!)' : 'JS masking (WS_NO_BUFFER_UTIL=1)'}` : ''));
}

const results = [];
let lastHeader = '';
let zeroCopy = false;
for (const row of rows) {
  const h = header(row);
  if (h !== lastHeader) {
    console.log(h);
    lastHeader = h;
  }
  const samples = Object.fromEntries(row.impls.map((i) => [i, []]));
  const wallSamples = {};
  const status = {};
  // Warm-up: one untimed-for-the-table repetition each.
  for (const impl of row.impls) {
    const m = await getWorker(IMPLS[impl].worker).call({ cmd: 'rep', row, impl, ms: WARM_MS, maxBatches: MAX_BATCHES });
    if (m.na) status[impl] = { na: m.na };
    else if (m.error) {
      status[impl] = { error: m.error };
      console.error(`error in ${impl}: ${m.error}`);
    }
  }
  const live = row.impls.filter((i) => !status[i]);
  for (let r = 0; r < REPS; r++) {
    for (let k = 0; k < live.length; k++) {
      const impl = live[(k + r) % live.length];
      const m = await getWorker(IMPLS[impl].worker).call({ cmd: 'rep', row, impl, ms: REP_MS, maxBatches: MAX_BATCHES });
      if (m.error) {
        status[impl] = { error: m.error };
        console.error(`error in ${impl}: ${m.error}`);
      } else {
        samples[impl].push((m.result.units / (CLOCK === 'cpu' ? m.result.cpuMs : m.result.ms)) * 1000);
        (wallSamples[impl] ??= []).push((m.result.units / m.result.ms) * 1000);
      }
    }
  }
  const stats = {};
  for (const impl of row.impls) {
    if (status[impl]) {
      stats[impl] = status[impl];
      continue;
    }
    const xs = samples[impl];
    const med = median(xs);
    stats[impl] = {
      rate: med,
      spread: ((Math.max(...xs) - Math.min(...xs)) / 2 / med) * 100,
      samples: xs,
      wallRate: median(wallSamples[impl]),
      wallSamples: wallSamples[impl],
    };
  }
  const base = row.section === 'mask' ? stats['mask-maskInto'] : stats.ws;
  const baseJs = stats['ws-js'];
  for (const impl of row.impls) {
    const s = stats[impl];
    if (!s.rate) continue;
    if (base?.rate) s.vs = (s.rate / base.rate).toFixed(2);
    if (baseJs?.rate && impl !== 'ws') s.vsJs = (s.rate / baseJs.rate).toFixed(2);
  }
  // Above 100 GB/s a payload was clearly passed on by reference, not copied: then the
  // whole row is shown in frames/s, which says more (ratios are the same either way).
  const perFrame = row.case.unit === 'MB' && Object.values(stats).some((x) => x.rate > 1e11);
  if (perFrame) zeroCopy = true;
  row.impls.forEach((impl, i) => console.log(line(row, impl, stats[impl], i === 0, perFrame)));
  results.push({ section: row.section, role: row.role, case: row.case.label, unit: row.case.unit, stats });
}

const load1 = loadavg();
const secs = ((performance.now() - started) / 1000).toFixed(0);
if (zeroCopy) {
  console.log('\n* row in frames/s: some implementations pass a large payload on uncopied (header written separately), so MB/s would be meaningless');
}
console.log(`\ndone in ${secs} s; load average now ${load1.map((x) => x.toFixed(2)).join(' ')} (on a shared machine, treat differences under ~10% as noise)`);

if (args.json) {
  writeFileSync(args.json === true ? join(here, 'codec-results.json') : args.json, JSON.stringify({
    node: process.version,
    codec: codecInfo.from,
    reps: REPS,
    repMs: REP_MS,
    clock: CLOCK,
    loadavg: { start: load0, end: load1 },
    results,
  }, null, 2));
}
for (const w of workers.values()) w.child.disconnect();
if (args['cpu-prof']) console.log(`CPU profiles written to ${profDir}/ (one per worker; open in Chrome DevTools or speedscope)`);
