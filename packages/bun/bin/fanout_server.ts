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
import { joinRoom } from '../../../tools/tool_handlers.ts';
import { serve } from '../src/index.ts';
import { commandLine, LISTEN_OPTIONS, parseListenArgs, runUntilSignal, RUNTIME_OPTION, serverUsage } from './cli.ts';

const USAGE = serverUsage('fanout_server.ts');

const argv = process.argv.slice(2);
const args = commandLine('fanout-server', USAGE, () => parseListenArgs(argv, { ...LISTEN_OPTIONS, ...RUNTIME_OPTION }));

const server = await serve({
  port: args.port,
  host: args.host,
  // Every connection joins the one room; what it sends goes to everyone else in it.
  handler: joinRoom,
});

runUntilSignal('fanout-server', server);
