/**
 * An echo server on `@wsflow/deno`, for conformance suites (Autobahn|Testsuite's
 * `fuzzingclient` mode) and benchmarks: every text message comes back as text, every
 * binary message as binary, up to 64 MiB, with permessage-deflate negotiated when offered.
 *
 * ```sh
 * deno run -A packages/deno/bin/echo.ts --port 9001 [--host 127.0.0.1]
 * ```
 *
 * It prints `listening on ws://HOST:PORT` once ready (with `--port 0`, the port the OS
 * chose) and exits 0 after SIGINT or SIGTERM, once every connection is closed (or after
 * 7 s). Exit 2: a bad command line.
 * @module
 */
import { AUTOBAHN_LIMITS } from '../../../tools/autobahn_limits.ts';
import { echoBack } from '../../../tools/tool_handlers.ts';
import { serve } from '../src/index.ts';
import { parseServerArgs, runUntilSignal, serverUsage } from './cli.ts';

/** 64 MiB per frame and per message; 262 144 fragments (Autobahn sends 16 MiB messages and 65 536 fragments). */
export const ECHO_LIMITS = AUTOBAHN_LIMITS;

const USAGE = serverUsage('echo.ts');

// `--runtime deno` is accepted (and only that), so the repo's `npm run echo` arguments pass through.
const { port, host } = parseServerArgs('echo', USAGE, Deno.args);

const server = await serve({
  port,
  host,
  ...ECHO_LIMITS,
  // permessage-deflate (RFC 7692) with the defaults, for Autobahn's compression cases (12.x, 13.x).
  perMessageDeflate: true,
  handler: echoBack,
});

runUntilSignal('echo', server, host);
