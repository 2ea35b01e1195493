/**
 * The client driver that conformance suites test a client with (Autobahn|Testsuite's
 * `fuzzingserver` mode; see {@link runAutobahnClient} for the protocol).
 *
 * ```sh
 * npm run autobahn-client -- --runtime node --url ws://127.0.0.1:9001 --agent wsflow-node
 * ```
 *
 * It prints one line per case and exits 0 once the reports are updated, however the cases
 * went (the suite judges them); 1 when the case count or the report update failed; 2 for
 * a bad command line.
 * @module
 */
import { AUTOBAHN_LIMITS } from './autobahn_limits.ts';
import { runAutobahnClient } from './autobahn_driver.ts';
import { parseCaseList, parseOptions, parsePositiveInteger, parseWsUrl, required, runMain } from './cli.ts';
import { delegate, isDelegated } from './delegate.ts';
import { loadRuntime } from './runtimes.ts';

const USAGE = `usage: npm run autobahn-client -- --runtime node --url ws://127.0.0.1:9001 --agent NAME [options]

  --runtime NAME          the runtime to connect with (node, deno, bun)
  --url URL               the fuzzing server, e.g. ws://127.0.0.1:9001
  --agent NAME            the name the reports are filed under
  --cases LIST            only these cases, e.g. 1,4,10-20 (default: all)
  --case-timeout MS       milliseconds one case may take (default 60000)
  --report-timeout MS     milliseconds /updateReports may take (default 300000)
  --handshake-timeout MS  milliseconds an opening handshake may take (default 10000)
`;

async function main(): Promise<number | undefined> {
  const argv = process.argv.slice(2);
  const runtimeArg = argv[argv.indexOf('--runtime') + 1];
  if (argv.includes('--runtime') && isDelegated(runtimeArg)) return delegate(runtimeArg, 'autobahn_client', argv);
  const args = parseOptions(process.argv.slice(2), {
    runtime: 'string',
    url: 'string',
    agent: 'string',
    cases: 'string',
    'case-timeout': 'string',
    'report-timeout': 'string',
    'handshake-timeout': 'string',
  });
  if (args.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const url = parseWsUrl(required(args.url, 'url'), 'url');
  const agent = required(args.agent, 'agent');
  const cases = args.cases === undefined ? undefined : parseCaseList(args.cases, 'cases');
  const timeout = (name: 'case-timeout' | 'report-timeout' | 'handshake-timeout', fallback: number): number => {
    const text = args[name];
    return text === undefined ? fallback : parsePositiveInteger(text, name);
  };
  const caseTimeout = timeout('case-timeout', 60_000);
  const reportTimeout = timeout('report-timeout', 300_000);
  const handshakeTimeout = timeout('handshake-timeout', 10_000);
  const runtime = await loadRuntime(args.runtime ?? 'node');
  await runAutobahnClient({
    url,
    agent,
    cases,
    caseTimeout,
    reportTimeout,
    // permessage-deflate (RFC 7692) is offered on every connection, for the compression
    // cases (Autobahn's 12.x, 13.x; our fuzzing server's deflate-*); a server may decline it.
    connect: (target) => runtime.connect(target, { ...AUTOBAHN_LIMITS, handshakeTimeout, perMessageDeflate: true }),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  return 0;
}

runMain('autobahn-client', USAGE, main);
