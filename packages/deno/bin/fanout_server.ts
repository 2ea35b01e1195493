/**
 * A chat-room fan-out server on `@wsflow/deno`: ONE room, every client that connects joins
 * it, and every message a client sends goes to every OTHER client in the room, text as
 * text and binary as binary (`npm run fanout-server -- --runtime deno` runs this file).
 *
 * ```sh
 * deno run -A packages/deno/bin/fanout_server.ts --port 9001 [--host 127.0.0.1]
 * ```
 *
 * It prints `listening on ws://HOST:PORT` once ready (with `--port 0`, the port the OS
 * chose) and exits 0 after SIGINT or SIGTERM, once every connection is closed (or after
 * 7 s). Exit 2: a bad command line.
 * @module
 */
import { serve } from '../src/index.ts';

/** The one room every connection joins. */
const ROOM = 'room';

const USAGE = `usage: deno run -A packages/deno/bin/fanout_server.ts --port PORT [--host 127.0.0.1]

  --port PORT      the TCP port; 0 lets the OS choose (printed on the "listening on" line)
  --host HOST      the address to listen on (default 127.0.0.1, loopback only)
`;

/** Milliseconds a shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE = 7000;

function usage(message: string): never {
  console.error(`fanout-server: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

/** `--name value` and `--name=value` options; `--help`; unknown names refused. */
function parseArgs(argv: string[]): Record<string, string> {
  const known = new Set(['port', 'host', 'runtime']);
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      Deno.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !known.has(match[1])) usage(`unknown argument ${JSON.stringify(arg)}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) usage(`--${match[1]} needs a value`);
    out[match[1]] = value;
  }
  return out;
}

const args = parseArgs(Deno.args);
if (args.runtime !== undefined && args.runtime !== 'deno') usage(`this server runs on Deno, not ${args.runtime}`);
if (args.port === undefined) usage('--port is required');
if (!/^\d{1,5}$/.test(args.port) || Number(args.port) > 65535) usage(`--port must be 0-65535, not ${JSON.stringify(args.port)}`);
const host = args.host ?? '127.0.0.1';

const server = await serve({
  port: Number(args.port),
  host,
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

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) {
    console.error(`fanout-server: ${signal} again, exiting at once`);
    Deno.exit(1);
  }
  stopping = true;
  console.error(`fanout-server: ${signal}, closing`);
  const timer = setTimeout(() => {
    console.error('fanout-server: connections did not close in time, exiting');
    Deno.exit(0);
  }, SHUTDOWN_GRACE);
  server.close().then(
    () => {
      clearTimeout(timer);
      Deno.exit(0);
    },
    (error: unknown) => {
      console.error(`fanout-server: closing failed: ${String(error)}`);
      Deno.exit(1);
    },
  );
};
Deno.addSignalListener('SIGINT', () => stop('SIGINT'));
Deno.addSignalListener('SIGTERM', () => stop('SIGTERM'));
const shown = host.includes(':') ? `[${host}]` : host;
console.log(`listening on ws://${shown}:${server.port}`);
