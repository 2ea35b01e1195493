/**
 * The client driver for a conformance fuzzing server (Autobahn|Testsuite's `fuzzingserver`
 * mode) on `@wsflow/deno`: ask `/getCaseCount`, run every case at
 * `/runCase?case=N&agent=NAME` by echoing each message back with its type until the server
 * closes, then `/updateReports?agent=NAME`.
 *
 * ```sh
 * deno run -A packages/deno/bin/autobahn_client.ts --url ws://127.0.0.1:9001 --agent wsflow-deno [--cases 1,4,10-20]
 * ```
 *
 * One line per case. Exit 0 once the reports are updated, however the cases went (the
 * suite judges them); 1 when the case count or the report update failed; 2 for a bad
 * command line. Every case and request is bounded in time.
 * @module
 */
import { AUTOBAHN_LIMITS } from '../../../tools/autobahn_limits.ts';
import { connect, type CloseInfo, type WebSocketConnection } from '../src/index.ts';
import { parseCommandLine, type CommandLine } from './cli.ts';

/** The most cases a server may announce (Autobahn has about 500). */
const MAX_CASES = 100_000;

const USAGE = `usage: deno run -A packages/deno/bin/autobahn_client.ts --url ws://127.0.0.1:9001 --agent NAME [options]

  --url URL               the fuzzing server, e.g. ws://127.0.0.1:9001
  --agent NAME            the name the reports are filed under (default wsflow-deno)
  --cases LIST            only these cases, e.g. 1,4,10-20 (default: all)
  --case-timeout MS       milliseconds one case may take (default 60000)
  --report-timeout MS     milliseconds /updateReports may take (default 300000)
  --handshake-timeout MS  milliseconds an opening handshake may take (default 10000)
`;

function positive(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) cli.fail(`--${name} must be a positive integer`);
  return Number(text);
}

/** `1,4,10-20` as a sorted list of case numbers. */
function parseCases(text: string): number[] {
  const cases = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part.trim());
    if (match === null) cli.fail(`--cases: ${JSON.stringify(part)} is not N or N-M`);
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    if (from < 1 || to < from) cli.fail(`--cases: ${JSON.stringify(part)} is not a valid range`);
    for (let n = from; n <= to && cases.size <= MAX_CASES; n++) cases.add(n);
  }
  return [...cases].sort((a, b) => a - b);
}

/** The URL of a fuzzing-server endpoint under `base`. */
function endpoint(base: URL, path: string, params: Record<string, string> = {}): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** `closed` of a connection, or `null` after `ms` (the connection then aborted). */
async function closedWithin(conn: WebSocketConnection, ms: number): Promise<CloseInfo | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  const result = await Promise.race([conn.closed, timeout]);
  clearTimeout(timer);
  if (result === null) conn.abort();
  return result;
}

const cli: CommandLine = parseCommandLine(
  { name: 'autobahn-client', usage: USAGE, options: ['url', 'agent', 'cases', 'case-timeout', 'report-timeout', 'handshake-timeout', 'runtime'], role: 'driver' },
  Deno.args,
);
const args = cli.values;
if (args.url === undefined) cli.fail('--url is required');
let base: URL;
try {
  base = new URL(args.url);
  if (base.protocol !== 'ws:' && base.protocol !== 'wss:') throw new Error();
} catch {
  cli.fail(`--url must be a ws: or wss: URL, not ${JSON.stringify(args.url)}`);
}
const agent = args.agent ?? 'wsflow-deno';
const caseTimeout = positive(args['case-timeout'], 'case-timeout', 60_000);
const reportTimeout = positive(args['report-timeout'], 'report-timeout', 300_000);
const handshakeTimeout = positive(args['handshake-timeout'], 'handshake-timeout', 10_000);
// permessage-deflate (RFC 7692) is offered on every connection, for the compression cases.
const options = { ...AUTOBAHN_LIMITS, handshakeTimeout, proxy: false as const, perMessageDeflate: true };

// 1. The case count: one text message, then the server closes.
let count: number;
try {
  const conn = await connect(endpoint(base, '/getCaseCount'), options);
  let text = '';
  conn.onmessage = (data) => {
    if (typeof data === 'string') text = data;
  };
  if ((await closedWithin(conn, 10_000)) === null) throw new Error('timed out');
  count = Number(text);
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_CASES) throw new Error(`the server announced ${JSON.stringify(text)} cases`);
} catch (error) {
  console.error(`autobahn-client: /getCaseCount failed: ${error instanceof Error ? error.message : String(error)}`);
  Deno.exit(1);
}
const cases = args.cases === undefined ? Array.from({ length: count }, (_, i) => i + 1) : parseCases(args.cases).filter((n) => n <= count);
console.log(`${count} cases announced, running ${cases.length} as ${agent}`);

// 2. Every case: echo everything until the server closes.
for (const n of cases) {
  const started = performance.now();
  let line: string;
  try {
    const conn = await connect(endpoint(base, '/runCase', { case: String(n), agent }), options);
    conn.onmessage = (data) => {
      conn.send(data);
    };
    const info = await closedWithin(conn, caseTimeout);
    line = info === null ? 'timed out' : `${info.closeCode}${info.reason === '' ? '' : ` ${JSON.stringify(info.reason)}`}${info.wasClean ? '' : ' (unclean)'}`;
  } catch (error) {
    line = `failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  }
  console.log(`case ${n}/${count}: ${line} in ${Math.round(performance.now() - started)} ms`);
}

// 3. The reports.
try {
  const conn = await connect(endpoint(base, '/updateReports', { agent }), { ...options, handshakeTimeout: Math.max(handshakeTimeout, 60_000) });
  if ((await closedWithin(conn, reportTimeout)) === null) throw new Error('timed out');
} catch (error) {
  console.error(`autobahn-client: /updateReports failed: ${error instanceof Error ? error.message : String(error)}`);
  Deno.exit(1);
}
console.log('reports updated');
Deno.exit(0);
