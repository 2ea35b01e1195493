/**
 * A soak run: the server of one runtime in its own process, many connections opened by
 * load-generator processes (`load_worker.ts`, at most `perWorker` connections each, so no
 * process nears the file-descriptor limit), echo traffic at a fixed rate for a duration,
 * the server's RSS sampled from /proc throughout, then an orderly close and a verdict.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerConfig, WorkerCounts } from './load_worker.ts';
import { echoCheck } from './raw_client.ts';
import { ServerProcess, type Runtime, type ServerStats } from './server_process.ts';
import { mib } from './wire.ts';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  runtime: Runtime;
  connections: number;
  /** Seconds of traffic after every connection is open. */
  duration: number;
  /** Messages a second, over all connections. */
  rate: number;
  /** Seconds of traffic before the RSS baseline is taken. Default: a fifth of `duration`, at most 60. */
  warmup?: number;
  /** Seconds between RSS samples. Default 5. */
  sample?: number;
  /** Largest message body in bytes. Default 1024. */
  maxSize?: number;
  /** Connections per load-generator process. Default 5000. */
  perWorker?: number;
  /** Tolerated RSS growth (late window over early window), as a fraction. Default 0.10. */
  flatWithin?: number;
  /** Called with each line of the report as it is made. */
  log?: (line: string) => void;
}

/** One RSS sample. */
export interface RssSample {
  /** Seconds since traffic started. */
  t: number;
  rss: number;
  open: number;
  echoed: number;
}

/** The outcome of {@link runSoak}. */
export interface SoakResult {
  runtime: Runtime;
  connections: number;
  /** Connections whose handshake completed, and how long opening them all took. */
  opened: number;
  connectFailed: number;
  connectMs: number;
  /** Connections still open when the traffic stopped. */
  held: number;
  /** Connections that closed or failed during the traffic. */
  lost: number;
  sent: number;
  sentBytes: number;
  echoed: number;
  corrupt: number;
  /** Messages never echoed (sent − echoed − corrupt once the echoes were awaited). */
  missing: number;
  pings: number;
  pongs: number;
  badPongs: number;
  rttP50: number;
  rttP99: number;
  rttMax: number;
  /** Connections closed with a clean 1000 exchange at the end. */
  cleanClosed: number;
  /** The server's counts after the close: open WebSocket connections (should be 0). */
  serverOpenAfter: number;
  serverAlive: boolean;
  /** RSS before any connection, after opening them, at the warm-up's end, at the end, and its range after the warm-up. */
  rssIdle: number;
  rssConnected: number;
  rssWarm: number;
  rssEnd: number;
  rssMinAfterWarmup: number;
  rssMaxAfterWarmup: number;
  /** (end − warm) / warm: one sample against another, so garbage collection's sawtooth shows in it. */
  rssDrift: number;
  /** Mean RSS over the first third of the time after the warm-up, and over the last third. */
  rssEarly: number;
  rssLate: number;
  /** (late − early) / early. */
  rssWindowDrift: number;
  /**
   * No growth: the last third's mean RSS is at most `flatWithin` above the first third's
   * (after the warm-up). Means over windows of samples smooth garbage collection's sawtooth;
   * a fall is not growth (V8 and the allocators give memory back in steps), and is reported.
   */
  flat: boolean;
  samples: RssSample[];
  /** Whether every message came back intact and no connection was lost. */
  intact: boolean;
  errors: string[];
}

const WORKER = fileURLToPath(new URL('./load_worker.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Worker {
  child: ChildProcess;
  latest: WorkerCounts | null;
  connected: Promise<WorkerCounts>;
  final: Promise<WorkerCounts>;
}

function startWorker(config: WorkerConfig, timeoutMs: number): Worker {
  // A bigger heap than the default for thousands of sockets; type stripping is on in Node 23.6+.
  const child = fork(WORKER, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
  const worker: Worker = { child, latest: null, connected: null!, final: null! };
  let onConnected!: (counts: WorkerCounts) => void;
  let onFinal!: (counts: WorkerCounts) => void;
  let failed!: (error: Error) => void;
  worker.connected = new Promise((resolve, reject) => ((onConnected = resolve), (failed = reject)));
  worker.final = new Promise((resolve, reject) => {
    onFinal = resolve;
    child.once('exit', (code, signal) => {
      const error = new Error(`load worker ${config.worker} exited (${code ?? signal}) before reporting`);
      failed(error);
      reject(error);
    });
  });
  worker.final.catch(() => {});
  worker.connected.catch(() => {});
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.once('exit', () => clearTimeout(timer));
  child.on('message', (message: { type: string; counts: WorkerCounts }) => {
    worker.latest = message.counts;
    if (message.type === 'connected') onConnected(message.counts);
    else if (message.type === 'final') onFinal(message.counts);
  });
  return worker;
}

/** Sums the workers' counters. */
function total(all: readonly WorkerCounts[]): WorkerCounts {
  const sum: WorkerCounts = {
    worker: -1,
    opened: 0,
    connectFailed: 0,
    open: 0,
    lost: 0,
    sent: 0,
    sentBytes: 0,
    echoed: 0,
    corrupt: 0,
    outstanding: 0,
    pings: 0,
    pongs: 0,
    badPongs: 0,
    rttP50: 0,
    rttP99: 0,
    rttMax: 0,
    cleanClosed: 0,
    otherCloses: {},
    errors: [],
  };
  for (const c of all) {
    for (const key of ['opened', 'connectFailed', 'open', 'lost', 'sent', 'sentBytes', 'echoed', 'corrupt', 'outstanding', 'pings', 'pongs', 'badPongs', 'cleanClosed'] as const) sum[key] += c[key];
    // Percentiles of the whole are not sums: report the worst worker's.
    sum.rttP50 = Math.max(sum.rttP50, c.rttP50);
    sum.rttP99 = Math.max(sum.rttP99, c.rttP99);
    sum.rttMax = Math.max(sum.rttMax, c.rttMax);
    for (const [code, n] of Object.entries(c.otherCloses)) sum.otherCloses[code] = (sum.otherCloses[code] ?? 0) + n;
    sum.errors.push(...c.errors);
  }
  return sum;
}

/**
 * Runs a soak and returns its figures. Bounded: opening gets 60 s plus 10 ms a connection,
 * the traffic `duration` s, the close 30 s; every child is killed by pid if it overruns.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { runtime, connections, duration, rate, sample = 5, maxSize = 1024, perWorker = 5000, flatWithin = 0.1 } = options;
  const warmup = options.warmup ?? Math.min(60, duration / 5);
  const log = options.log ?? (() => {});
  const server = await ServerProcess.start(runtime);
  const workers: Worker[] = [];
  try {
    const control = await echoCheck(server.port);
    if (!control.ok) throw new Error(`the ${runtime} server does not echo: ${control.error}`);
    const rssIdle = (await server.rss()) ?? 0;
    const openBudget = 60_000 + connections * 10;
    const workerTimeout = openBudget + duration * 1000 + 120_000;
    const count = Math.max(1, Math.ceil(connections / perWorker));
    const started = Date.now();
    for (let w = 0; w < count; w++) {
      const share = Math.floor(connections / count) + (w < connections % count ? 1 : 0);
      workers.push(
        startWorker(
          {
            port: server.port,
            worker: w,
            connections: share,
            concurrency: 128,
            maxSize,
            connectTimeoutMs: 30_000,
            // Different source addresses per worker: each has its own ephemeral port range.
            localAddresses: [`127.0.0.${2 + w}`],
          },
          workerTimeout,
        ),
      );
    }
    const opened = total(await withTimeout(Promise.all(workers.map((w) => w.connected)), openBudget, 'opening the connections'));
    const connectMs = Date.now() - started;
    const rssConnected = (await server.rss()) ?? 0;
    const serverConnected = await server.stats();
    log(
      `${runtime}: ${opened.opened}/${connections} connections open in ${(connectMs / 1000).toFixed(1)} s (${opened.connectFailed} failed; server counts ${serverConnected.open}); ` +
        `server RSS ${mib(rssIdle)} MiB idle, ${mib(rssConnected)} MiB with the connections`,
    );
    log(`${'t (s)'.padStart(6)} ${'RSS MiB'.padStart(8)} ${'open'.padStart(6)} ${'sent'.padStart(9)} ${'echoed'.padStart(9)} ${'corrupt'.padStart(7)} ${'lost'.padStart(5)} ${'p99 ms'.padStart(7)}`);
    for (const w of workers) w.child.send({ op: 'start', rate: rate / workers.length });
    const trafficStart = Date.now();
    const samples: RssSample[] = [];
    let rssWarm = 0;
    let next = 0;
    while (Date.now() - trafficStart < duration * 1000) {
      await sleep(Math.max(0, trafficStart + next * 1000 - Date.now()));
      const t = (Date.now() - trafficStart) / 1000;
      const rss = await server.rss();
      if (rss === null || !server.alive) throw new Error(`the ${runtime} server died: ${server.exitStatus} ${server.stderr}`);
      const now = total(workers.map((w) => w.latest).filter((c): c is WorkerCounts => c !== null));
      samples.push({ t: Math.round(t), rss, open: now.open, echoed: now.echoed });
      if (rssWarm === 0 && t >= warmup) rssWarm = rss;
      log(
        `${t.toFixed(0).padStart(6)} ${mib(rss).padStart(8)} ${String(now.open).padStart(6)} ${String(now.sent).padStart(9)} ${String(now.echoed).padStart(9)} ` +
          `${String(now.corrupt).padStart(7)} ${String(now.lost).padStart(5)} ${String(now.rttP99).padStart(7)}`,
      );
      next += sample;
      if (next > duration) next = duration;
    }
    const rssEnd = (await server.rss()) ?? 0;
    if (rssWarm === 0) rssWarm = samples.length > 0 ? samples[0].rss : rssEnd;
    samples.push({ t: duration, rss: rssEnd, open: -1, echoed: -1 });
    const afterWarmup = samples.filter((s) => s.t >= warmup).map((s) => s.rss);
    for (const w of workers) w.child.send({ op: 'stop' });
    const final = total(await withTimeout(Promise.all(workers.map((w) => w.final)), 60_000, 'closing the connections'));
    // The server drops its side within its close timeout; give it that long.
    let after: ServerStats = await server.stats();
    for (let waited = 0; after.open > 0 && waited < 10_000; waited += 250) {
      await sleep(250);
      after = await server.stats();
    }
    const held = final.opened - final.lost;
    const missing = final.sent - final.echoed - final.corrupt;
    const rssDrift = (rssEnd - rssWarm) / rssWarm;
    const third = (duration - warmup) / 3;
    const mean = (values: number[]): number => (values.length === 0 ? rssEnd : values.reduce((a, b) => a + b, 0) / values.length);
    const rssEarly = mean(samples.filter((s) => s.t >= warmup && s.t <= warmup + third).map((s) => s.rss));
    const rssLate = mean(samples.filter((s) => s.t >= duration - third).map((s) => s.rss));
    const rssWindowDrift = (rssLate - rssEarly) / rssEarly;
    const result: SoakResult = {
      runtime,
      connections,
      opened: final.opened,
      connectFailed: final.connectFailed,
      connectMs,
      held,
      lost: final.lost,
      sent: final.sent,
      sentBytes: final.sentBytes,
      echoed: final.echoed,
      corrupt: final.corrupt,
      missing,
      pings: final.pings,
      pongs: final.pongs,
      badPongs: final.badPongs,
      rttP50: final.rttP50,
      rttP99: final.rttP99,
      rttMax: final.rttMax,
      cleanClosed: final.cleanClosed,
      serverOpenAfter: after.open,
      serverAlive: server.alive,
      rssIdle,
      rssConnected,
      rssWarm,
      rssEnd,
      rssMinAfterWarmup: Math.min(...afterWarmup),
      rssMaxAfterWarmup: Math.max(...afterWarmup),
      rssDrift,
      rssEarly,
      rssLate,
      rssWindowDrift,
      flat: rssWindowDrift <= flatWithin,
      samples,
      intact: final.opened === connections && final.lost === 0 && final.corrupt === 0 && missing === 0 && final.badPongs === 0 && final.pongs === final.pings,
      errors: final.errors.slice(0, 20),
    };
    log(
      `${runtime}: held ${held}/${connections} connections; messages sent ${final.sent} (${mib(final.sentBytes)} MiB), echoed ${final.echoed}, corrupt ${final.corrupt}, missing ${missing}; ` +
        `pings ${final.pings}, pongs ${final.pongs}; echo RTT p50 ${final.rttP50} ms, p99 ${final.rttP99} ms, max ${final.rttMax} ms; ` +
        `closed cleanly ${final.cleanClosed}; server open after close ${after.open}`,
    );
    log(
      `${runtime}: server RSS ${mib(rssWarm)} MiB at warm-up end (${warmup} s), ${mib(rssEnd)} MiB at the end (${(rssDrift * 100).toFixed(1)}%); ` +
        `mean ${mib(rssEarly)} MiB over the first third after warm-up, ${mib(rssLate)} MiB over the last (${(rssWindowDrift * 100).toFixed(1)}%); ` +
        `range after warm-up ${mib(result.rssMinAfterWarmup)}-${mib(result.rssMaxAfterWarmup)} MiB -> ${result.flat ? 'no growth over' : 'GREW over'} ${flatWithin * 100}%`,
    );
    log(`${runtime}: verdict ${result.intact && result.flat && result.serverAlive ? 'PASS' : 'FAIL'} (intact ${result.intact}, flat ${result.flat}, server alive ${result.serverAlive})`);
    return result;
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await server.stop();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    }),
  ]);
}
