/**
 * The echo server that conformance suites test a server with (Autobahn|Testsuite's
 * `fuzzingclient` mode): every text message comes back as text, every binary message as
 * binary, up to 64 MiB ({@link AUTOBAHN_LIMITS}), with permessage-deflate negotiated when offered.
 * A client that sends without reading the echoes is closed with 1008 once 80 MiB are queued
 * for it: the servers' default write-buffer limit, 16 MiB plus `maxMessage`, so that an echo
 * of the largest message always fits (see `defaultMaxBufferedAmount` in `@wsflow/codec`).
 *
 * ```sh
 * npm run echo -- --runtime node --port 9001 [--host 127.0.0.1]
 * ```
 *
 * It prints `listening on ws://HOST:PORT` once ready (with `--port 0`, the port the OS
 * chose) and exits 0 after SIGINT or SIGTERM, once every connection is closed.
 * @module
 */
import { parseOptions, parsePort, required, runMain, serverUsage } from './cli.ts';
import { AUTOBAHN_LIMITS } from './autobahn_limits.ts';
import { delegate, isDelegated } from './delegate.ts';
import { processHost } from './process_host.ts';
import { loadRuntime, type RuntimeShim, type ToolServer } from './runtimes.ts';
import { echoBack } from './tool_handlers.ts';
import { closeOnSignal, listeningLine } from './tool_lifecycle.ts';

const USAGE = serverUsage('echo');

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions {
  port: number;
  host: string;
}

/**
 * Starts an echo server on a runtime's shim.
 *
 * @example
 * ```ts
 * const server = await startEchoServer(await loadRuntime('node'), { port: 0, host: '127.0.0.1' });
 * console.log(server.port);
 * await server.close();
 * ```
 */
export function startEchoServer(runtime: RuntimeShim, options: EchoServerOptions): Promise<ToolServer> {
  return runtime.serve({
    port: options.port,
    host: options.host,
    ...AUTOBAHN_LIMITS,
    // permessage-deflate (RFC 7692) with the defaults, for Autobahn's compression cases (12.x, 13.x):
    // the shim accepts the first valid offer; inflated messages are held to the same 64 MiB.
    perMessageDeflate: true,
    // No maxBufferedAmount: the servers' safe default applies (16 MiB + 64 MiB = 80 MiB, close with 1008).
    handler: echoBack,
  });
}

async function main(): Promise<number | undefined> {
  const argv = process.argv.slice(2);
  const runtimeArg = argv[argv.indexOf('--runtime') + 1];
  if (argv.includes('--runtime') && isDelegated(runtimeArg)) return delegate(runtimeArg, 'echo', argv);
  const args = parseOptions(process.argv.slice(2), { runtime: 'string', port: 'string', host: 'string' });
  if (args.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = parsePort(required(args.port, 'port'));
  const host = args.host ?? '127.0.0.1';
  const runtime = await loadRuntime(args.runtime ?? 'node');
  const server = await startEchoServer(runtime, { port, host });

  closeOnSignal('echo', server, processHost(false));
  process.stdout.write(`${listeningLine(host, server.port)}\n`);
  return undefined;
}

if (import.meta.main) runMain('echo', USAGE, main);
