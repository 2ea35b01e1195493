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
import { AUTOBAHN_LIMITS } from '../../../tools/autobahn_limits.ts';
import { echoBack } from '../../../tools/tool_handlers.ts';
import { serve } from '../src/index.ts';
import { commandLine, parseListenArgs, runUntilSignal, serverUsage } from './cli.ts';

const USAGE = serverUsage('echo.ts');

const argv = process.argv.slice(2);
const args = commandLine('echo', USAGE, () => parseListenArgs(argv));

const server = await serve({
  port: args.port,
  host: args.host,
  // 64 MiB per frame and per message; four times the 65 536 fragments Autobahn's case 9.3.1 sends.
  ...AUTOBAHN_LIMITS,
  // permessage-deflate (RFC 7692) with the defaults, for Autobahn's compression cases (12.x, 13.x).
  perMessageDeflate: true,
  handler: echoBack,
});

runUntilSignal('echo', server);
