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
import { authority, parseOptions, parsePort, required, runMain, UsageError } from './cli.ts';
import { delegate, isDelegated } from './delegate.ts';
import type { ToolServer } from './runtimes.ts';

const USAGE = `usage: npm run fanout-server -- --runtime node --port PORT [--host 127.0.0.1]

  --runtime NAME   the runtime to serve with (node, deno, bun)
  --port PORT      the TCP port; 0 lets the OS choose (printed on the "listening on" line)
  --host HOST      the address to listen on (default 127.0.0.1, loopback only)
`;

/** Milliseconds a shutdown may take before the process exits anyway (connections get 5 s to close). */
const SHUTDOWN_GRACE = 7000;

/** The one room every connection joins. */
export const ROOM = 'room';

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
    handler: (connection) => {
      // The room is a topic: a publish is framed once and written to every subscriber but
      // the sender; a closed connection leaves it by itself.
      connection.subscribe(ROOM);
      // Strings are published as text and bytes as binary: the message keeps its type.
      connection.onmessage = (data) => {
        connection.publish(ROOM, data);
      };
    },
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

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`fanout-server: ${signal} again, exiting at once\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`fanout-server: ${signal}, closing\n`);
    setTimeout(() => {
      process.stderr.write('fanout-server: connections did not close in time, exiting\n');
      process.exit(0);
    }, SHUTDOWN_GRACE).unref();
    server.close().then(
      () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      },
      (error: unknown) => {
        process.stderr.write(`fanout-server: closing failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`listening on ws://${authority(host, server.port)}\n`);
  return undefined;
}

if (import.meta.main) runMain('fanout-server', USAGE, main);
