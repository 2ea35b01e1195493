/**
 * A chat-room fan-out server: ONE room, every client that connects joins it, and every
 * message a client sends goes to every OTHER client in the room, text as text and binary
 * as binary. It is the server side of `bench/fanout/` and a quick way to watch fan-out
 * by hand.
 *
 * ```sh
 * npm run fanout-server -- --runtime node --port 9001 [--host 127.0.0.1]
 * ```
 *
 * It prints `listening on ws://HOST:PORT` once ready (with `--port 0`, the port the OS
 * chose) and exits 0 after SIGINT or SIGTERM, once every connection is closed.
 * `--runtime deno` and `--runtime bun` run `packages/<runtime>/bin/fanout_server.ts`.
 * @module
 */
import { serve } from '@wsflow/node';
import { parseOptions, parsePort, required, runMain, serverUsage, UsageError } from './cli.ts';
import { delegate, isDelegated } from './delegate.ts';
import { processHost } from './process_host.ts';
import type { ToolServer } from './runtimes.ts';
import { joinRoom } from './tool_handlers.ts';
import { closeOnSignal, listeningLine } from './tool_lifecycle.ts';

const USAGE = serverUsage('fanout-server');

/** The one room every connection joins. */
export { ROOM } from './tool_handlers.ts';

/** Options of {@link startFanoutServer}. */
export interface FanoutServerOptions {
  port: number;
  host: string;
}

/**
 * Starts the one-room fan-out server on `@wsflow/node`.
 *
 * @example
 * ```ts
 * const server = await startFanoutServer({ port: 0, host: '127.0.0.1' });
 * console.log(server.port);
 * await server.close();
 * ```
 */
export async function startFanoutServer(options: FanoutServerOptions): Promise<ToolServer> {
  return serve({
    port: options.port,
    host: options.host,
    handler: joinRoom,
  });
}

async function main(): Promise<number | undefined> {
  const argv = process.argv.slice(2);
  const runtimeArg = argv[argv.indexOf('--runtime') + 1];
  if (argv.includes('--runtime') && isDelegated(runtimeArg)) return delegate(runtimeArg, 'fanout_server', argv);
  const args = parseOptions(argv, { runtime: 'string', port: 'string', host: 'string' });
  if (args.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const runtime = args.runtime ?? 'node';
  if (runtime !== 'node') throw new UsageError(`unknown runtime ${JSON.stringify(runtime)}; known runtimes: node, deno, bun`);
  const port = parsePort(required(args.port, 'port'));
  const host = args.host ?? '127.0.0.1';
  const server = await startFanoutServer({ port, host });

  closeOnSignal('fanout-server', server, processHost(false));
  process.stdout.write(`${listeningLine(host, server.port)}\n`);
  return undefined;
}

if (import.meta.main) runMain('fanout-server', USAGE, main);
