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
import { joinRoom } from '../../../tools/tool_handlers.ts';
import { serve } from '../src/index.ts';
import { parseServerArgs, runUntilSignal, serverUsage } from './cli.ts';

const USAGE = serverUsage('fanout_server.ts');

const { port, host } = parseServerArgs('fanout-server', USAGE, Deno.args);

const server = await serve({
  port,
  host,
  // Every connection joins the one room; what it sends goes to everyone else in it.
  handler: joinRoom,
});

runUntilSignal('fanout-server', server, host);
