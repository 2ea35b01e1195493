/**
 * The echo server conformance suites test a server with (Autobahn|Testsuite's
 * `fuzzingclient` mode), on wsflow's Bun shim: every text message comes back as text,
 * every binary message as binary, up to 64 MiB per message, with permessage-deflate
 * negotiated when offered.
 *
 * ```sh
 * cd /work/main && node_modules/.bin/bun run --no-install packages/bun/bin/echo.ts --port 9001 [--host 127.0.0.1]
 * ```
 *
 * Prints `listening on ws://HOST:PORT` once ready (with `--port 0`, the port the OS chose)
 * and exits 0 after SIGINT or SIGTERM, once every connection is closed (at most 7 s).
 * @module
 */
import { serve } from '../src/index.ts';

const MiB = 1024 * 1024;
/** 64 MiB per frame and per message; four times the 65 536 fragments Autobahn's case 9.3.1 sends. */
const LIMITS = { maxPayload: 64 * MiB, maxMessage: 64 * MiB, maxFragments: 4 * 65536 };
const SHUTDOWN_GRACE = 7000;
const USAGE = `usage: bun run packages/bun/bin/echo.ts --port PORT [--host 127.0.0.1]

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
    else if (name === '--help' || name === '-h') return null;
    else throw new Error(`unknown option ${JSON.stringify(argv[i])}`);
  }
  if (port === undefined) throw new Error('--port is required');
  return { port, host };
}

let args: { port: number; host: string } | null;
try {
  args = parseArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`echo: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args === null) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const server = await serve({
  port: args.port,
  host: args.host,
  ...LIMITS,
  // permessage-deflate (RFC 7692) with the defaults, for Autobahn's compression cases (12.x, 13.x).
  perMessageDeflate: true,
  handler: (connection) => {
    // Strings are sent as text and bytes as binary: each message keeps its type.
    connection.onmessage = (data) => {
      connection.send(data);
    };
  },
});

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) {
    process.stderr.write(`echo: ${signal} again, exiting at once\n`);
    process.exit(1);
  }
  stopping = true;
  process.stderr.write(`echo: ${signal}, closing\n`);
  setTimeout(() => {
    process.stderr.write('echo: connections did not close in time, exiting\n');
    process.exit(0);
  }, SHUTDOWN_GRACE).unref();
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`echo: closing failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname;
process.stdout.write(`listening on ws://${host}:${server.port}\n`);
