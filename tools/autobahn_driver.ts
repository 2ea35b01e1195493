/**
 * The client side of the Autobahn|Testsuite `fuzzingserver` protocol, on any runtime's
 * `connect`: ask `/getCaseCount`, run every case at `/runCase?case=N&agent=A` by echoing
 * each message back with its type until the server closes, then `/updateReports?agent=A`.
 * A case whose connection fails (refused, dropped, timed out) is reported and the run goes on.
 * @module
 */
import type { CloseInfo, Message, WebSocketConnection } from '@wsflow/codec';
import { describeError } from './cli.ts';
import { TIMED_OUT, withDeadline } from './deadline.ts';

/** Options of {@link runAutobahnClient}. */
export interface AutobahnClientOptions {
  /** The fuzzing server's base URL, e.g. `ws://127.0.0.1:9001`. */
  url: URL;
  /** The agent name the reports are filed under. */
  agent: string;
  /** Opens a client connection (a runtime shim's `connect` with the limits applied). */
  connect: (url: string) => Promise<WebSocketConnection>;
  /** Only these case numbers (those beyond the case count are skipped). Default: all. */
  cases?: readonly number[];
  /** Milliseconds a case may take before its connection is dropped. */
  caseTimeout: number;
  /** Milliseconds `/updateReports` may take (the suite writes its reports meanwhile). */
  reportTimeout: number;
  /** Receives one line of progress at a time. */
  log: (line: string) => void;
}

/** How one case's connection ended, from the client's side. */
export interface CaseOutcome {
  case: number;
  /** The close code (1006 when the connection dropped), or `null` if it never opened or timed out. */
  closeCode: number | null;
  /** The close reason, `''` for none. */
  reason: string;
  wasClean: boolean;
  /** Why the case went wrong on our side, if it did. */
  error?: string;
  durationMs: number;
}

/** What a run did. */
export interface AutobahnRun {
  caseCount: number;
  outcomes: CaseOutcome[];
}

/** Milliseconds for `/getCaseCount`. */
const COUNT_TIMEOUT = 10_000;
/** The most cases a server may announce (Autobahn has about 500). */
const MAX_CASES = 100_000;

/** The URL of a fuzzing-server endpoint under `base`, e.g. `…/runCase?case=1&agent=A`. */
export function endpointUrl(base: URL, path: string, params: Record<string, string> = {}): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** Waits for a connection to close, dropping it after `ms`. @returns how it closed, or `null` on timeout */
async function closedWithin(connection: WebSocketConnection, ms: number): Promise<CloseInfo | null> {
  const info = await withDeadline(connection.closed, ms);
  if (info !== TIMED_OUT) return info;
  connection.abort();
  return null;
}

function describeClose(info: CloseInfo): string {
  const reason = info.reason === '' ? '' : ` ${JSON.stringify(info.reason)}`;
  return `closed ${info.closeCode}${reason}${info.wasClean ? '' : ' (not clean)'}`;
}

/** Asks `/getCaseCount`: the one text message the server sends is the number of cases. */
async function fetchCaseCount(options: AutobahnClientOptions): Promise<number> {
  const connection = await options.connect(endpointUrl(options.url, '/getCaseCount'));
  const first = new Promise<Message | null>((resolve) => {
    connection.onmessage = resolve;
    void connection.closed.then(() => resolve(null));
  });
  const message = await withDeadline(first, COUNT_TIMEOUT);
  if (connection.state === 'open') connection.close();
  await closedWithin(connection, COUNT_TIMEOUT);
  if (message === TIMED_OUT) throw new Error(`/getCaseCount sent nothing within ${COUNT_TIMEOUT} ms`);
  if (message === null) throw new Error('/getCaseCount closed without sending the case count');
  if (typeof message !== 'string' || !/^\d{1,9}$/.test(message.trim())) {
    throw new Error(`/getCaseCount sent ${typeof message === 'string' ? JSON.stringify(message.slice(0, 40)) : 'binary data'}, not a number`);
  }
  const count = Number(message.trim());
  if (count > MAX_CASES) throw new Error(`/getCaseCount announced ${count} cases, more than ${MAX_CASES}`);
  return count;
}

/** Runs one case: echo every message with its type until the server closes. */
async function runCase(options: AutobahnClientOptions, number: number): Promise<CaseOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  let connection: WebSocketConnection;
  try {
    connection = await options.connect(endpointUrl(options.url, '/runCase', { case: String(number), agent: options.agent }));
  } catch (error) {
    return { case: number, closeCode: null, reason: '', wasClean: false, error: `could not connect: ${describeError(error)}`, durationMs: elapsed() };
  }
  let failure: string | undefined;
  connection.onerror = (error) => {
    failure ??= describeError(error);
  };
  connection.onmessage = (data) => {
    connection.send(data); // a string goes back as text, bytes as binary
  };
  const info = await closedWithin(connection, options.caseTimeout);
  if (info === null) {
    return { case: number, closeCode: null, reason: '', wasClean: false, error: `timed out after ${options.caseTimeout} ms; dropped`, durationMs: elapsed() };
  }
  return { case: number, closeCode: info.closeCode, reason: info.reason, wasClean: info.wasClean, error: failure, durationMs: elapsed() };
}

/** Asks `/updateReports`: the server writes the agent's reports, then closes. */
async function updateReports(options: AutobahnClientOptions): Promise<void> {
  const connection = await options.connect(endpointUrl(options.url, '/updateReports', { agent: options.agent }));
  connection.onmessage = () => {}; // nothing is expected; anything sent is ignored
  const info = await closedWithin(connection, options.reportTimeout);
  if (info === null) throw new Error(`/updateReports did not close within ${options.reportTimeout} ms`);
}

/**
 * Runs the cases of a fuzzing server against this client and has the server update its
 * reports. Per-case failures are logged, not thrown.
 * @throws when `/getCaseCount` or `/updateReports` fails: there is no run without them
 *
 * @example
 * ```ts
 * const { connect } = await loadRuntime('node');
 * await runAutobahnClient({
 *   url: new URL('ws://127.0.0.1:9001'),
 *   agent: 'wsflow-node',
 *   connect: (url) => connect(url, { ...AUTOBAHN_LIMITS, handshakeTimeout: 10_000 }),
 *   caseTimeout: 60_000,
 *   reportTimeout: 300_000,
 *   log: console.log,
 * });
 * ```
 */
export async function runAutobahnClient(options: AutobahnClientOptions): Promise<AutobahnRun> {
  const caseCount = await fetchCaseCount(options);
  const numbers = options.cases === undefined ? Array.from({ length: caseCount }, (_, i) => i + 1) : options.cases.filter((n) => n >= 1 && n <= caseCount);
  options.log(`${options.url.href}: ${caseCount} cases; running ${numbers.length} as agent ${JSON.stringify(options.agent)}`);
  const width = String(caseCount).length;
  const outcomes: CaseOutcome[] = [];
  for (const number of numbers) {
    const outcome = await runCase(options, number);
    outcomes.push(outcome);
    const closed = outcome.closeCode === null ? '' : describeClose({ closeCode: outcome.closeCode, reason: outcome.reason, wasClean: outcome.wasClean });
    const note = [closed, outcome.error].filter((part) => part !== undefined && part !== '').join('; ');
    options.log(`case ${String(number).padStart(width)}/${caseCount}: ${note} (${outcome.durationMs} ms)`);
  }
  await updateReports(options);
  options.log(`updated the reports of agent ${JSON.stringify(options.agent)}`);
  return { caseCount, outcomes };
}
