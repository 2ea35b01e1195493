/**
 * A small fuzzing server of our own that speaks the Autobahn|Testsuite `fuzzingserver`
 * protocol, so that a client driver (tools/autobahn_client.ts) can be tested without the
 * suite:
 *
 * - `/getCaseCount` sends the number of cases as one text message, then closes;
 * - `/runCase?case=N&agent=A` runs case N ({@link DEFAULT_FUZZING_CASES}: the plain cases,
 *   then the permessage-deflate ones) against agent A and
 *   records whether A behaved;
 * - `/updateReports?agent=A` snapshots A's results as its report (and writes every report
 *   to `reportPath`, if given), then closes.
 *
 * The server side runs on raw `node:net` sockets with the codec's `HttpHeadParser`,
 * `acceptUpgrade`, `FrameParser` and `serializeFrame`, so that cases can write exactly the
 * frames they want. Start it in-process with {@link startFuzzingServer}, or from a shell:
 *
 * ```sh
 * node tools/fuzzing_server.ts --port 9001 [--host 127.0.0.1] [--report reports/fuzzing.json]
 * ```
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  CloseCode,
  HandshakeError,
  HttpHeadParser,
  Opcode,
  acceptUpgrade,
  buildRejection,
  encodeUtf8,
  makeFrame,
  type HeaderFieldsInit,
  type RequestHead,
} from '@wsflow/codec';
import { AUTOBAHN_LIMITS } from './autobahn_limits.ts';
import { authority, describeError, parseOptions, parsePort, parsePositiveInteger, runMain } from './cli.ts';
import { withDeadline, TIMED_OUT } from './deadline.ts';
import { FUZZING_CASES, type FuzzingCase, type Verdict } from './fuzzing_cases.ts';
import { DEFLATE_FUZZING_CASES, DeflateChannel, isDeflateCase, negotiateCase, type DeflateTerms } from './fuzzing_deflate_cases.ts';
import { RawPeer } from './raw_peer.ts';

/** Options of {@link startFuzzingServer}. */
export interface FuzzingServerOptions {
  /** The TCP port; default 0, a free port chosen by the OS. */
  port?: number;
  /** The address to listen on; default `127.0.0.1`. */
  host?: string;
  /** A JSON file that `/updateReports` (re)writes with every agent's report. Default: none. */
  reportPath?: string;
  /** Milliseconds a case may take before the agent fails it. Default 10 000. */
  caseTimeout?: number;
  /** The cases to serve. Default {@link DEFAULT_FUZZING_CASES}. */
  cases?: readonly FuzzingCase[];
}

/** The outcome of one case for one agent. */
export interface CaseResult {
  /** The case number, from 1. */
  case: number;
  id: string;
  description: string;
  passed: boolean;
  detail: string;
  durationMs: number;
}

/** An agent's results as of its last `/updateReports`. */
export interface AgentReport {
  agent: string;
  /** ISO 8601 time of the update. */
  updatedAt: string;
  /** How many times `/updateReports` was called for this agent. */
  updates: number;
  /** The results of the cases the agent ran, by case number (a rerun replaces a result). */
  cases: CaseResult[];
  passed: number;
  failed: number;
}

/** A running fuzzing server. */
export interface FuzzingServer {
  readonly port: number;
  /** The base URL agents connect to, e.g. `ws://127.0.0.1:9001`. */
  readonly url: string;
  /** The number of cases `/getCaseCount` announces. */
  readonly caseCount: number;
  /** The results recorded so far for `agent`, by case number. */
  results(agent: string): CaseResult[];
  /** `agent`'s report as of its last `/updateReports`, or `undefined` before one. */
  report(agent: string): AgentReport | undefined;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** The cases served by default: the plain ones, then the compression ones (as Autobahn's 12.x, 13.x come last). */
export const DEFAULT_FUZZING_CASES: readonly FuzzingCase[] = [...FUZZING_CASES, ...DEFLATE_FUZZING_CASES];

/** Milliseconds a client may take to send its upgrade request. */
const HANDSHAKE_TIMEOUT = 5000;
/** Milliseconds the closing handshake and the TCP close may take at the end of a connection. */
const CLOSE_TIMEOUT = 2000;
/** The longest agent name accepted. */
const MAX_AGENT = 100;

type Route =
  | { readonly kind: 'count' }
  | { readonly kind: 'case'; readonly number: number; readonly agent: string }
  | { readonly kind: 'report'; readonly agent: string }
  | { readonly kind: 'refuse'; readonly status: number; readonly message: string };

/** Reads the upgrade request head off a socket; the socket is left paused after it. */
function readRequestHead(socket: Socket): Promise<{ head: RequestHead; rest: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const parser = new HttpHeadParser('request');
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
    };
    const onData = (chunk: Uint8Array): void => {
      try {
        const result = parser.push(chunk);
        if (result === null) return;
        socket.pause(); // not a byte may be lost before the peer listens
        cleanup();
        resolve({ head: result.head, rest: result.rest });
      } catch (error) {
        cleanup();
        reject(error);
      }
    };
    const onGone = (): void => {
      cleanup();
      reject(new Error('the connection closed before the request head was complete'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no request head within ${HANDSHAKE_TIMEOUT} ms`));
    }, HANDSHAKE_TIMEOUT);
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
  });
}

/** Answers a request with an HTTP error and closes (RFC 6455 §4.2.2). */
function refuse(socket: Socket, status: number, message: string, headers?: HeaderFieldsInit): void {
  socket.end(encodeUtf8(buildRejection(status, headers, `${message}\n`)));
}

/**
 * Ends a connection: with `sendClose`, sends a Close 1000 and waits (bounded) for the reply;
 * then closes the TCP connection, the server's part (RFC 6455 §7.1.1), and drops it if the
 * client lingers.
 */
async function closeConnection(peer: RawPeer, sendClose = true): Promise<void> {
  const deadline = Date.now() + CLOSE_TIMEOUT;
  if (sendClose) {
    peer.sendClose(CloseCode.Normal);
    for (;;) {
      const event = await peer.next(deadline);
      if (event.type !== 'frame' || event.frame.opcode === Opcode.Close) break;
    }
  }
  peer.end();
  if ((await withDeadline(peer.closed, Math.max(0, deadline - Date.now()) + 100)) === TIMED_OUT) peer.destroy();
}

class RunningFuzzingServer implements FuzzingServer {
  readonly port: number;
  readonly url: string;
  readonly #server: Server;
  readonly #cases: readonly FuzzingCase[];
  readonly #caseTimeout: number;
  readonly #reportPath: string | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #results = new Map<string, Map<number, CaseResult>>();
  readonly #reports = new Map<string, AgentReport>();
  /** Cases still running, which a report must wait for. */
  readonly #running = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;

  constructor(server: Server, host: string, options: FuzzingServerOptions) {
    this.#server = server;
    this.#cases = options.cases ?? DEFAULT_FUZZING_CASES;
    this.#caseTimeout = options.caseTimeout ?? 10_000;
    this.#reportPath = options.reportPath;
    this.port = (server.address() as AddressInfo).port;
    this.url = `ws://${authority(host, this.port)}`;
    server.on('connection', (socket) => {
      this.#handle(socket).catch((error: unknown) => {
        // A bug here or an unwritable report must not take the server down: end this connection only.
        process.stderr.write(`fuzzing_server: ${describeError(error)}\n`);
        socket.destroy();
      });
    });
  }

  get caseCount(): number {
    return this.#cases.length;
  }

  results(agent: string): CaseResult[] {
    return [...(this.#results.get(agent)?.values() ?? [])].sort((a, b) => a.case - b.case);
  }

  report(agent: string): AgentReport | undefined {
    return this.#reports.get(agent);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  async #handle(socket: Socket): Promise<void> {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {}); // a reset peer ends its case; it must not crash the server
    socket.setNoDelay(true);
    let head: RequestHead;
    let rest: Uint8Array;
    try {
      ({ head, rest } = await readRequestHead(socket));
    } catch (error) {
      if (error instanceof HandshakeError) refuse(socket, error.status, error.message, error.headers);
      else socket.destroy();
      return;
    }
    const route = this.#route(head.target);
    if (route.kind === 'refuse') {
      refuse(socket, route.status, route.message);
      return;
    }
    // Compression cases answer the agent's permessage-deflate offer with their parameters.
    const deflateCase = route.kind === 'case' ? this.#cases[route.number - 1] : undefined;
    let terms: DeflateTerms | null = null;
    try {
      const { response } = await acceptUpgrade(head, {
        negotiateExtensions:
          deflateCase === undefined || !isDeflateCase(deflateCase)
            ? undefined
            : (offers) => {
                const negotiated = negotiateCase(offers, deflateCase.response);
                terms = negotiated?.terms ?? null;
                return negotiated === null ? [] : [negotiated.accepted];
              },
      });
      socket.write(response, 'latin1');
    } catch (error) {
      if (error instanceof HandshakeError) refuse(socket, error.status, error.message, error.headers);
      else socket.destroy();
      return;
    }
    const peer = new RawPeer(socket, rest, { maxPayload: AUTOBAHN_LIMITS.maxPayload, allowedRsv: terms === null ? 0 : 0x40 });
    switch (route.kind) {
      case 'count':
        peer.send(makeFrame(Opcode.Text, encodeUtf8(String(this.#cases.length))));
        await closeConnection(peer);
        return;
      case 'case': {
        const recorded = this.#runCase(peer, route.number, route.agent, terms);
        this.#running.add(recorded);
        await recorded.finally(() => this.#running.delete(recorded));
        // Cases finish their closing handshakes themselves (or drop the connection on purpose).
        await closeConnection(peer, false);
        return;
      }
      case 'report':
        await Promise.allSettled([...this.#running]);
        await this.#updateReport(route.agent);
        await closeConnection(peer);
        return;
    }
  }

  #route(target: string): Route {
    const url = new URL(target, 'http://fuzzing-server.invalid');
    const agent = url.searchParams.get('agent');
    const checkAgent = (): string | null => (agent !== null && agent !== '' && agent.length <= MAX_AGENT ? agent : null);
    switch (url.pathname) {
      case '/getCaseCount':
        return { kind: 'count' };
      case '/runCase': {
        const text = url.searchParams.get('case') ?? '';
        const number = /^\d{1,6}$/.test(text) ? Number(text) : 0;
        if (number < 1 || number > this.#cases.length) {
          return { kind: 'refuse', status: 400, message: `case must be 1-${this.#cases.length}, got ${JSON.stringify(text)}` };
        }
        const name = checkAgent();
        if (name === null) return { kind: 'refuse', status: 400, message: `agent must be 1-${MAX_AGENT} characters` };
        return { kind: 'case', number, agent: name };
      }
      case '/updateReports': {
        const name = checkAgent();
        if (name === null) return { kind: 'refuse', status: 400, message: `agent must be 1-${MAX_AGENT} characters` };
        return { kind: 'report', agent: name };
      }
      default:
        return { kind: 'refuse', status: 404, message: 'this fuzzing server serves /getCaseCount, /runCase and /updateReports' };
    }
  }

  async #runCase(peer: RawPeer, number: number, agent: string, terms: DeflateTerms | null): Promise<void> {
    const fuzzingCase = this.#cases[number - 1];
    const started = performance.now();
    const deadline = Date.now() + this.#caseTimeout;
    let verdict: Verdict;
    try {
      if (!isDeflateCase(fuzzingCase)) verdict = await fuzzingCase.run(peer, deadline);
      else if (terms === null) {
        verdict = { passed: false, detail: 'the agent offered no permessage-deflate this case could accept' };
        await closeConnection(peer);
      } else {
        const channel = new DeflateChannel(peer, terms);
        try {
          verdict = await fuzzingCase.runDeflate(channel, deadline);
        } finally {
          channel.dispose();
        }
      }
    } catch (error) {
      verdict = { passed: false, detail: `the case itself failed: ${describeError(error)}` };
    }
    let results = this.#results.get(agent);
    if (results === undefined) this.#results.set(agent, (results = new Map()));
    results.set(number, {
      case: number,
      id: fuzzingCase.id,
      description: fuzzingCase.description,
      passed: verdict.passed,
      detail: verdict.detail,
      durationMs: Math.round(performance.now() - started),
    });
  }

  async #updateReport(agent: string): Promise<void> {
    const cases = this.results(agent);
    const passed = cases.filter((result) => result.passed).length;
    this.#reports.set(agent, {
      agent,
      updatedAt: new Date().toISOString(),
      updates: (this.#reports.get(agent)?.updates ?? 0) + 1,
      cases,
      passed,
      failed: cases.length - passed,
    });
    const path = this.#reportPath;
    if (path === undefined) return;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(Object.fromEntries(this.#reports), null, 2)}\n`);
  }
}

/**
 * Starts a fuzzing server and resolves once it listens.
 *
 * @example
 * ```ts
 * const server = await startFuzzingServer({ port: 0 });
 * // node tools/autobahn_client.ts --runtime node --url ${server.url} --agent mine
 * server.report('mine')?.failed; // 0
 * await server.close();
 * ```
 */
export async function startFuzzingServer(options: FuzzingServerOptions = {}): Promise<FuzzingServer> {
  const { port = 0, host = '127.0.0.1' } = options;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new RunningFuzzingServer(server, host, options);
}

const USAGE = `usage: node tools/fuzzing_server.ts [--port 9001] [--host 127.0.0.1] [--report PATH] [--case-timeout MS]

  --port PORT         the TCP port (default 9001; 0 lets the OS choose)
  --host HOST         the address to listen on (default 127.0.0.1)
  --report PATH       a JSON file /updateReports writes every agent's report to
  --case-timeout MS   milliseconds an agent has per case (default 10000)
`;

async function main(): Promise<number | undefined> {
  const args = parseOptions(process.argv.slice(2), { port: 'string', host: 'string', report: 'string', 'case-timeout': 'string' });
  if (args.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const server = await startFuzzingServer({
    port: parsePort(args.port ?? '9001'),
    host: args.host ?? '127.0.0.1',
    reportPath: args.report,
    caseTimeout: args['case-timeout'] === undefined ? undefined : parsePositiveInteger(args['case-timeout'], 'case-timeout'),
  });
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    void server.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`listening on ${server.url} (${server.caseCount} cases)\n`);
  return undefined;
}

if (import.meta.main) runMain('fuzzing_server', USAGE, main);
