/**
 * A socket fuzzing campaign against one runtime's server (tools/soak/server.ts, an echo
 * server, in its own process): inputs `0, 1, 2, …` of a seed, each over a fresh TCP
 * connection, `concurrency` at a time, in batches. After every batch the server process
 * must be alive, a control client must get its echo, and the server's RSS is sampled. At
 * the end every connection the server accepted must be closed again.
 * @module
 */
import { echoCheck } from '../soak/raw_client.ts';
import { ServerProcess, type Runtime, type ServerStats } from '../soak/server_process.ts';
import { mib } from '../soak/wire.ts';
import { makeInput } from './mutate.ts';
import { runInput, type Outcome } from './run_input.ts';

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  runtime: Runtime;
  /** Seconds to fuzz for (batches are not cut short). */
  duration: number;
  seed: number;
  /**
   * The server's limits: wsflow's defaults (16 MiB per message; the default here) or the echo
   * tool's 64 MiB. A deflate bomb costs the server up to a message's worth of memory while it
   * inflates, so the limit sets how high RSS goes with several at once.
   */
  limits?: 'default' | 'echo';
  /** Stop after this many inputs even if time is left. Default: no limit. */
  maxInputs?: number;
  /** Inputs in flight at once. Default 48. */
  concurrency?: number;
  /** Inputs between control checks. Default 400. */
  batch?: number;
  /** Per-input deadline in ms. Default 2000. */
  timeoutMs?: number;
  /** Ms after the last write before half-closing. Default 250. */
  quietMs?: number;
  /**
   * Server RSS may never exceed its level at the start by more than this. Default 512 MiB:
   * with `concurrency` 48 and 16 MiB messages, deflate bombs may each hold up to 16 MiB
   * while they inflate (768 MiB if all 48 coincided), and allocators keep some of it.
   */
  rssBound?: number;
  log?: (line: string) => void;
}

/** A problem found: which input, what, and how to replay it. */
export interface FuzzFailure {
  index: number;
  mutations: string[];
  kind: string;
  detail: string;
}

/** The outcome of {@link runFuzz}. */
export interface FuzzResult {
  runtime: Runtime;
  seed: number;
  inputs: number;
  validInputs: number;
  /** Valid inputs that hit the deadline before their answers were all in. */
  validTimeouts: number;
  /** Inputs per outcome kind. */
  outcomes: Record<string, number>;
  /** Inputs per mutation applied. */
  mutations: Record<string, number>;
  /** For inputs with exactly one mutation: outcomes per mutation. */
  outcomesByMutation: Record<string, Record<string, number>>;
  /** Inputs that got at least one echo, and echoes in all. */
  echoedInputs: number;
  echoes: number;
  /** Inputs we half-closed. */
  finSent: number;
  /** The slowest input's ms (each is bounded by the deadline). */
  maxInputMs: number;
  controlChecks: number;
  controlFailures: number;
  rssStart: number;
  rssMax: number;
  rssEnd: number;
  rssBound: number;
  /**
   * Runs of 60 s or more: (last third's mean RSS − middle third's) / middle third's; null for
   * shorter runs. Reported, not judged: RSS follows the largest number of deflate bombs
   * inflating at once so far, which rises in steps (Node's allocator keeps what they freed).
   */
  rssTrend: number | null;
  /** RSS stayed under start + `rssBound`. */
  rssBounded: boolean;
  /** The JavaScript heap in use (the runtime's figure) at its highest over the batches. */
  heapMax: number;
  /** WebSocket connections the server accepted, and still had open after the run (should be 0). */
  serverAccepted: number;
  /** Of those, how many were already closed when the server's handler got them, and the inputs behind the first (where known). */
  serverClosedAtHandler: number;
  closedAtHandlerInputs: number[];
  serverOpenAfter: number;
  serverAlive: boolean;
  durationMs: number;
  failures: FuzzFailure[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a campaign. Bounded: `duration` plus one batch (each input within its deadline), plus 20 s for the checks. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const { runtime, duration, seed, maxInputs = Infinity, concurrency = 48, batch = 400, timeoutMs = 2000, quietMs = 250, rssBound = 512 * 1024 * 1024 } = options;
  const log = options.log ?? (() => {});
  const server = await ServerProcess.start(runtime, { limits: options.limits ?? 'default' });
  const started = Date.now();
  const outcomes: Record<string, number> = {};
  const mutations: Record<string, number> = {};
  const outcomesByMutation: Record<string, Record<string, number>> = {};
  const failures: FuzzFailure[] = [];
  let inputs = 0;
  let validInputs = 0;
  let validTimeouts = 0;
  let echoedInputs = 0;
  let echoes = 0;
  let finSent = 0;
  let maxInputMs = 0;
  let controlChecks = 0;
  let controlFailures = 0;
  const authority = `127.0.0.1:${server.port}`;
  try {
    const rssStart = (await server.rss()) ?? 0;
    let rssMax = rssStart;
    let heapMax = 0;
    const samples: { t: number; rss: number }[] = [];
    log(`${runtime}: seed ${seed}, server pid ${server.pid}, RSS ${mib(rssStart)} MiB; deadline ${timeoutMs} ms per input, ${concurrency} at once`);
    const record = (index: number, mutated: string[], outcome: Outcome): void => {
      inputs++;
      outcomes[outcome.kind] = (outcomes[outcome.kind] ?? 0) + 1;
      if (mutated.length === 0) validInputs++;
      for (const m of new Set(mutated)) mutations[m] = (mutations[m] ?? 0) + 1;
      if (mutated.length === 1) {
        const counts = (outcomesByMutation[mutated[0]] ??= {});
        counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1;
      }
      if (outcome.echoes > 0) echoedInputs++;
      echoes += outcome.echoes;
      if (outcome.finSent) finSent++;
      if (outcome.validTimeout) validTimeouts++;
      maxInputMs = Math.max(maxInputMs, outcome.ms);
      if (outcome.problem !== undefined && failures.length < 100) failures.push({ index, mutations: mutated, kind: outcome.kind, detail: outcome.problem });
      // The client's own deadline is the hang guard: an input that outlived it by far means one did not hold.
      if (outcome.ms > timeoutMs + 5000 && failures.length < 100) failures.push({ index, mutations: mutated, kind: 'hang', detail: `input took ${outcome.ms} ms` });
    };
    let next = 0;
    for (let b = 0; Date.now() - started < duration * 1000 && next < maxInputs; b++) {
      const end = Math.min(next + batch, maxInputs);
      const worker = async (): Promise<void> => {
        while (next < end) {
          const index = next++;
          const input = makeInput(seed, index, { authority });
          // Source addresses 127.0.1.1-200 in turn: TIME_WAIT entries spread over many address pairs.
          const outcome = await runInput(server.port, input, { timeoutMs, quietMs, localAddress: `127.0.1.${1 + (index % 200)}` });
          record(index, input.mutations, outcome);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (!server.alive) {
        failures.push({ index: next - 1, mutations: [], kind: 'crash', detail: `server ${server.exitStatus}: ${server.stderr.slice(-2000)}` });
        break;
      }
      const control = await echoCheck(server.port, 10_000);
      controlChecks++;
      if (!control.ok) {
        controlFailures++;
        failures.push({ index: next - 1, mutations: [], kind: 'control', detail: `control echo after input ${next - 1} failed: ${control.error}` });
      }
      const rss = (await server.rss()) ?? 0;
      const memory = await server.stats().catch(() => ({ heapUsed: 0, arrayBuffers: 0 }));
      samples.push({ t: (Date.now() - started) / 1000, rss });
      rssMax = Math.max(rssMax, rss);
      heapMax = Math.max(heapMax, memory.heapUsed);
      const top = Object.entries(outcomes)
        .sort((x, y) => y[1] - x[1])
        .slice(0, 6)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      log(`${runtime}: ${String(next).padStart(7)} inputs, ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s, RSS ${mib(rss)} MiB (heap ${mib(memory.heapUsed)}, buffers ${mib(memory.arrayBuffers)}), control ${control.ok ? `ok ${control.ms} ms` : 'FAILED'}, problems ${failures.length}; ${top}`);
    }
    // Every connection the server took must be closed again: those still open get their close timeout.
    // A crashed server has no counts to give: its crash is the failure already recorded.
    const statsNow = async (): Promise<Pick<ServerStats, 'open' | 'accepted' | 'closedAtHandler' | 'closedAtHandlerInputs' | 'oldest'>> =>
      server.alive ? server.stats() : { open: 0, accepted: 0, closedAtHandler: 0, closedAtHandlerInputs: [], oldest: [] };
    let stats = await statsNow();
    for (let waited = 0; stats.open > 0 && waited < 15_000; waited += 250) {
      await sleep(250);
      stats = await statsNow();
    }
    if (stats.open > 0) {
      failures.push({ index: -1, mutations: [], kind: 'leak', detail: `${stats.open} WebSocket connections still open 15 s after the last input` });
      for (const o of stats.oldest) {
        const index = o.input === null ? -1 : Number(o.input);
        const detail = `still open after ${o.ageMs} ms (state ${o.state}, ${o.buffered} bytes buffered)`;
        failures.push({ index, mutations: index < 0 ? [] : makeInput(seed, index, { authority }).mutations, kind: 'leak', detail });
      }
    }
    const closedAtHandlerInputs = stats.closedAtHandlerInputs.filter((input): input is string => input !== null).map(Number);
    // A handler must get a live connection: one whose onclose already fired never tells the
    // handler it closed, so per-connection cleanup would never run.
    if (stats.closedAtHandler > 0) {
      const which = closedAtHandlerInputs.length > 0 ? ` (inputs ${closedAtHandlerInputs.join(', ')})` : '';
      failures.push({ index: closedAtHandlerInputs[0] ?? -1, mutations: [], kind: 'closed-at-handler', detail: `${stats.closedAtHandler} connections were already closed when the handler got them${which}` });
    }
    const rssEnd = (await server.rss()) ?? 0;
    rssMax = Math.max(rssMax, rssEnd);
    let rssTrend: number | null = null;
    const span = samples.length > 0 ? samples[samples.length - 1].t : 0;
    if (span >= 60) {
      const mean = (from: number, to: number): number => {
        const values = samples.filter((x) => x.t >= from && x.t <= to).map((x) => x.rss);
        return values.reduce((a, v) => a + v, 0) / Math.max(1, values.length);
      };
      const middle = mean(span / 3, (2 * span) / 3);
      rssTrend = (mean((2 * span) / 3, span) - middle) / middle;
    }
    const rssBounded = rssMax - rssStart <= rssBound;
    if (!rssBounded) failures.push({ index: -1, mutations: [], kind: 'memory', detail: `RSS ${mib(rssStart)} MiB at the start, max ${mib(rssMax)} MiB` });
    const result: FuzzResult = {
      runtime,
      seed,
      inputs,
      validInputs,
      validTimeouts,
      outcomes,
      mutations,
      outcomesByMutation,
      echoedInputs,
      echoes,
      finSent,
      maxInputMs,
      controlChecks,
      controlFailures,
      rssStart,
      rssMax,
      rssEnd,
      rssBound,
      rssTrend,
      rssBounded,
      heapMax,
      serverAccepted: stats.accepted,
      serverClosedAtHandler: stats.closedAtHandler,
      closedAtHandlerInputs,
      serverOpenAfter: stats.open,
      serverAlive: server.alive,
      durationMs: Date.now() - started,
      failures,
    };
    log(
      `${runtime}: ${inputs} inputs (${validInputs} valid, ${validTimeouts} of them slow) in ${(result.durationMs / 1000).toFixed(0)} s; ${echoedInputs} echoed (${echoes} echoes); ` +
        `slowest ${maxInputMs} ms; control checks ${controlChecks} (${controlFailures} failed); server accepted ${stats.accepted} WebSocket connections (${stats.closedAtHandler} already closed when its handler ran), ${stats.open} open after; ` +
        `RSS ${mib(rssStart)} start, max ${mib(rssMax)}, end ${mib(rssEnd)} MiB (bound start + ${mib(rssBound)})` +
        `${rssTrend === null ? '' : `, last third ${(rssTrend * 100).toFixed(1)}% over the middle third`}; JS heap max ${mib(heapMax)} MiB; problems ${failures.length}`,
    );
    if (closedAtHandlerInputs.length > 0) log(`${runtime}: inputs whose connection was closed before the handler ran: ${closedAtHandlerInputs.join(', ')}`);
    for (const m of ['frame:deflate-bomb', 'frame:oversized-length', 'frame:invalid-utf8', 'handshake:huge-head']) {
      if (outcomesByMutation[m] !== undefined) log(`${runtime}: ${m} alone -> ${JSON.stringify(outcomesByMutation[m])}`);
    }
    log(`${runtime}: outcomes ${JSON.stringify(Object.fromEntries(Object.entries(outcomes).sort((x, y) => y[1] - x[1])))}`);
    return result;
  } finally {
    await server.stop();
  }
}
