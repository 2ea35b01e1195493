// One echo server under test, run by Bun, driven by bench/bun/run.mjs:
//
//   node_modules/.bin/bun run --no-install bench/bun/server.ts wsflow|native
//
// `wsflow`: @wsflow/bun's `serve` (from packages/bun/src, on the built codec) echoing with
// `conn.onmessage = (data) => conn.send(data)`. `native`: `Bun.serve` with `websocket`
// handlers echoing with `ws.send(message)` (permessage-deflate off). Both listen on
// 127.0.0.1, port 0, and accept 64 MiB messages; each message goes back as it came.
//
// It prints one JSON line { ready, impl, port, pid, details } on stdout, then answers lines
// on stdin: "connections" -> { connections }; "exit" (or stdin's end) stops it.
import type * as Shim from '../../packages/bun/src/index.ts';

// WSFLOW_MODULE: another build of @wsflow/bun to measure (a file path, e.g. an esbuild bundle of a patched tree).
const override = process.env.WSFLOW_MODULE;
const { serve } = (override ? await import(override) : await import('../../packages/bun/src/index.ts')) as typeof Shim;

interface NativeSocket {
  send(data: string | Uint8Array, compress?: boolean): number;
}
interface NativeServer {
  readonly port: number;
  upgrade(request: Request): boolean;
  stop(closeActive?: boolean): void;
}
interface BunBench {
  version: string;
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: NativeServer): Response | undefined;
    websocket: {
      maxPayloadLength: number;
      perMessageDeflate: boolean;
      open(ws: NativeSocket): void;
      message(ws: NativeSocket, message: string | Uint8Array): void;
      close(ws: NativeSocket): void;
    };
  }): NativeServer;
  stdin: { stream(): AsyncIterable<Uint8Array> };
}
const Bun = (globalThis as unknown as { Bun: BunBench }).Bun;

const impl = process.argv[2];
const MiB = 1024 * 1024;
let port: number;
let connections: () => number;
let stop: () => Promise<void> | void;
let details: string;

if (impl === 'wsflow') {
  const server = await serve({
    port: 0,
    host: '127.0.0.1',
    maxPayload: 64 * MiB,
    maxMessage: 64 * MiB,
    handler: (conn) => {
      conn.onmessage = (data) => {
        conn.send(data);
      };
    },
  });
  port = server.port;
  connections = () => server.connections.size;
  stop = () => server.close();
  details = `@wsflow/bun (${override ?? 'packages/bun/src'}) on Bun ${Bun.version}`;
} else if (impl === 'native') {
  let open = 0;
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request, srv) {
      if (srv.upgrade(request)) return undefined;
      return new Response('WebSocket only', { status: 426 });
    },
    websocket: {
      maxPayloadLength: 64 * MiB,
      perMessageDeflate: false,
      open() {
        open++;
      },
      message(ws, message) {
        ws.send(message);
      },
      close() {
        open--;
      },
    },
  });
  port = server.port;
  connections = () => open;
  stop = () => server.stop(true);
  details = `Bun.serve websocket (native, uWebSockets) on Bun ${Bun.version}`;
} else {
  process.stderr.write('usage: bun run bench/bun/server.ts wsflow|native\n');
  process.exit(2);
}

process.stdout.write(`${JSON.stringify({ ready: true, impl, port, pid: process.pid, details })}\n`);

const decoder = new TextDecoder();
let pending = '';
for await (const chunk of Bun.stdin.stream()) {
  pending += decoder.decode(chunk);
  let newline: number;
  while ((newline = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    if (line === 'connections') process.stdout.write(`${JSON.stringify({ connections: connections() })}\n`);
    else if (line === 'exit') {
      await stop();
      process.exit(0);
    }
  }
}
await stop();
process.exit(0);
