/**
 * The client driver conformance suites test a client with (Autobahn|Testsuite's
 * `fuzzingserver` mode), on wsflow's Bun shim: ask `/getCaseCount`, run each case at
 * `/runCase?case=N&agent=NAME` echoing every message back with its type until the server
 * closes, then `/updateReports?agent=NAME`.
 *
 * ```sh
 * cd /work/main && node_modules/.bin/bun run --no-install packages/bun/bin/autobahn_client.ts \
 *   --url ws://127.0.0.1:9001 --agent wsflow-bun [--cases 1,4,10-20] [--case-timeout 60000]
 * ```
 *
 * Prints one line per case and exits 0 once the reports are updated, however the cases went
 * (the suite judges them); 1 when the case count or the report update failed; 2 for a bad
 * command line. A case whose connection fails or times out is reported and the run goes on.
 * @module
 */
import { AUTOBAHN_LIMITS } from '../../../tools/autobahn_limits.ts';
import { connect, type CloseInfo, type Message, type WebSocketConnection } from '../src/index.ts';
import { commandLine, readOptions, UsageError } from './cli.ts';

/** The most cases a server may announce (Autobahn has about 500). */
const MAX_CASES = 100_000;
const USAGE = `usage: bun run packages/bun/bin/autobahn_client.ts --url ws://127.0.0.1:9001 --agent NAME [options]

  --url URL               the fuzzing server, e.g. ws://127.0.0.1:9001
  --agent NAME            the name the reports are filed under
  --cases LIST            only these cases, e.g. 1,4,10-20 (default: all)
  --case-timeout MS       milliseconds one case may take (default 60000)
  --report-timeout MS     milliseconds /updateReports may take (default 300000)
  --handshake-timeout MS  milliseconds an opening handshake may take (default 10000)
`;

interface Args {
  url: URL;
  agent: string;
  cases: number[] | undefined;
  caseTimeout: number;
  reportTimeout: number;
  handshakeTimeout: number;
}

function parseCases(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (match === null) throw new UsageError(`--cases: ${JSON.stringify(part)} is not N or N-M`);
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    if (from < 1 || to < from || to > MAX_CASES) throw new UsageError(`--cases: bad range ${JSON.stringify(part)}`);
    for (let n = from; n <= to; n++) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** The options, each checked once all are read. */
const OPTIONS = { '--url': null, '--agent': null, '--cases': null, '--case-timeout': null, '--report-timeout': null, '--handshake-timeout': null };

function parseArgs(argv: string[]): Args | null {
  const values = readOptions(argv, OPTIONS);
  if (values === null) return null;
  const required = (name: string): string => {
    const value = values.get(name);
    if (value === undefined || value === '') throw new UsageError(`${name} is required`);
    return value;
  };
  const ms = (name: string, fallback: number): number => {
    const text = values.get(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${name} must be a positive integer`);
    return Number(text);
  };
  let url: URL;
  try {
    url = new URL(required('--url'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('--url is not a valid URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError('--url must be ws: or wss:');
  const cases = values.has('--cases') ? parseCases(values.get('--cases')!) : undefined;
  return {
    url,
    agent: required('--agent'),
    cases,
    caseTimeout: ms('--case-timeout', 60_000),
    reportTimeout: ms('--report-timeout', 300_000),
    handshakeTimeout: ms('--handshake-timeout', 10_000),
  };
}

/** The URL of a fuzzing-server endpoint under `base`, e.g. `…/runCase?case=1&agent=A`. */
function endpoint(base: URL, path: string, params: Record<string, string> = {}): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** Settles with the promise's value, or `null` after `ms`. */
async function deadline<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function describeClose(info: CloseInfo): string {
  return `closed ${info.closeCode}${info.reason === '' ? '' : ` ${JSON.stringify(info.reason)}`}${info.wasClean ? '' : ' (not clean)'}`;
}

const describeError = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

async function run(args: Args): Promise<number> {
  // permessage-deflate (RFC 7692) is offered on every connection, for the compression cases.
  const open = (url: string): Promise<WebSocketConnection> => connect(url, { ...AUTOBAHN_LIMITS, handshakeTimeout: args.handshakeTimeout, proxy: false, perMessageDeflate: true });

  // /getCaseCount: one text message, the number of cases.
  let count: number;
  try {
    const conn = await open(endpoint(args.url, '/getCaseCount'));
    const first = new Promise<Message | null>((resolve) => {
      conn.onmessage = resolve;
      void conn.closed.then(() => resolve(null));
    });
    const message = await deadline(first, 10_000);
    conn.close();
    await deadline(conn.closed, 5000);
    count = typeof message === 'string' && /^\d+$/.test(message.trim()) ? Number(message.trim()) : NaN;
    if (!(count >= 0 && count <= MAX_CASES)) throw new Error(`the case count is not a number: ${JSON.stringify(message)}`);
  } catch (error) {
    process.stderr.write(`autobahn-client: /getCaseCount failed: ${describeError(error)}\n`);
    return 1;
  }
  const cases = (args.cases ?? Array.from({ length: count }, (_, i) => i + 1)).filter((n) => n <= count);
  process.stdout.write(`${count} cases; running ${cases.length} as agent ${JSON.stringify(args.agent)}\n`);

  for (const n of cases) {
    const started = performance.now();
    let line: string;
    try {
      const conn = await open(endpoint(args.url, '/runCase', { case: String(n), agent: args.agent }));
      // Echo: strings back as text, bytes back as binary.
      conn.onmessage = (data) => {
        conn.send(data);
      };
      const info = await deadline(conn.closed, args.caseTimeout);
      if (info === null) {
        conn.abort();
        line = `timed out after ${args.caseTimeout} ms`;
      } else line = describeClose(info);
    } catch (error) {
      line = `failed: ${describeError(error)}`;
    }
    process.stdout.write(`case ${n}/${count}: ${line} (${Math.round(performance.now() - started)} ms)\n`);
  }

  try {
    const conn = await open(endpoint(args.url, '/updateReports', { agent: args.agent }));
    conn.onmessage = () => {};
    const info = await deadline(conn.closed, args.reportTimeout);
    if (info === null) {
      conn.abort();
      throw new Error(`no answer within ${args.reportTimeout} ms`);
    }
    process.stdout.write(`reports updated (${describeClose(info)})\n`);
  } catch (error) {
    process.stderr.write(`autobahn-client: /updateReports failed: ${describeError(error)}\n`);
    return 1;
  }
  return 0;
}

const argv = process.argv.slice(2);
process.exit(await run(commandLine('autobahn-client', USAGE, () => parseArgs(argv))));
