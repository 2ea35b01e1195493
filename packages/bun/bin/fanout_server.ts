/**
 * A chat-room fan-out server on `@wsflow/bun`: ONE room, every client that connects joins
 * it, and every message a client sends goes to every OTHER client in the room, text as
 * text and binary as binary (`npm run fanout-server -- --runtime bun` runs this file).
 *
 * ```sh
 * node_modules/.bin/bun run --no-install packages/bun/bin/fanout_server.ts --port 9001 [--host 127.0.0.1]
 * ```
 *
 * Prints `listening on ws://HOST:PORT` once ready (with `--port 0`, the port the OS chose)
 * and exits 0 after SIGINT or SIGTERM, once every connection is closed (at most 7 s).
 * @module
 */
import { serve } from '../src/index.ts';

/** The one room every connection joins. */
const ROOM = 'room';

const SHUTDOWN_GRACE = 7000;
const USAGE = `usage: bun run packages/bun/bin/fanout_server.ts --port PORT [--host 127.0.0.1]

  --port PORT   the TCP port; 0 lets the OS choose (printed on the "listening on" line)
  --host HOST   the address to listen on (default 127.0.0.1, loopback only)
`;

function parseArgs(argv: string[]): { port: number; host: string } | null {
  let port: number | undefined;
  let host = '127.0.0.1';
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--port') {
      const text = value();
      if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`--port must be 0-65535, not ${JSON.stringify(text)}`);
      port = Number(text);
    } else if (name === '--host') host = value();
    else if (name === '--runtime') {
      const runtime = value();
      if (runtime !== 'bun') throw new Error(`this server runs on Bun, not ${runtime}`);
    } else if (name === '--help' || name === '-h') return null;
    else throw new Error(`unknown option ${JSON.stringify(argv[i])}`);
  }
  if (port === undefined) throw new Error('--port is required');
  return { port, host };
}

let args: { port: number; host: string } | null;
try {
  args = parseArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`fanout-server: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args === null) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const server = await serve({
  port: args.port,
  host: args.host,
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
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`fanout-server: closing failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname;
process.stdout.write(`listening on ws://${host}:${server.port}\n`);
