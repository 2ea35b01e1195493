/**
 * One echo server under test, on Deno, for bench/deno/run.mjs:
 *
 *   deno run -A bench/deno/server.ts wsflow|wsflow@PATH|native|duplex
 *
 * - `wsflow`: `@wsflow/deno`'s `serve` (direct `conn.read` loop into the codec).
 * - `wsflow@PATH`: the same from another copy of the shim (PATH: its `index.ts` or a
 *   bundle), to compare a change side by side.
 * - `native`: `Deno.serve` + `Deno.upgradeWebSocket` (Deno's own WebSocket server, in Rust).
 * - `duplex`: the codec's `serverHandshake` over `Deno.listen` conns as WHATWG byte
 *   streams (`conn.readable`/`conn.writable`): the stream path the shim chose not to use.
 *
 * Each listens on 127.0.0.1 port 0, echoes every message with its type, prints one JSON
 * line `{ "ready": true, impl, port, details }` and exits on SIGTERM or when stdin closes;
 * SIGUSR2 runs two full garbage collections (under `--v8-flags=--expose-gc`).
 * @module
 */
import { serverHandshake, type WebSocketConnection } from '@wsflow/codec';
import * as shim from '../../packages/deno/src/index.ts';

const impl = Deno.args[0];
const MiB = 1024 * 1024;
const limits = { maxPayload: 64 * MiB, maxMessage: 64 * MiB };
let port: number;
let details: string;

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => {
    conn.send(data);
  };
};

if (impl === 'wsflow' || impl.startsWith('wsflow@')) {
  const path = impl.startsWith('wsflow@') ? impl.slice('wsflow@'.length) : null;
  const { serve } = (path === null ? shim : await import(new URL(path, `file://${Deno.cwd()}/`).href)) as typeof shim;
  const server = await serve({ port: 0, host: '127.0.0.1', ...limits, handler: echo });
  port = server.port;
  details = `@wsflow/deno serve (${path ?? 'packages/deno/src'})`;
} else if (impl === 'native') {
  const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => socket.send(event.data);
    socket.onerror = () => {};
    return response;
  });
  port = server.addr.port;
  details = `Deno.serve + Deno.upgradeWebSocket (Deno ${Deno.version.deno})`;
} else if (impl === 'duplex') {
  const listener = Deno.listen({ port: 0, hostname: '127.0.0.1' });
  port = (listener.addr as Deno.NetAddr).port;
  details = '@wsflow/codec serverHandshake over conn.readable/conn.writable';
  void (async () => {
    for await (const conn of listener) {
      serverHandshake(conn, { ...limits, timers: shim.denoTimers, mutableInput: true }).then(echo, () => {});
    }
  })();
} else {
  console.error('usage: deno run -A bench/deno/server.ts wsflow|wsflow@PATH|native|duplex');
  Deno.exit(2);
}

Deno.addSignalListener('SIGTERM', () => Deno.exit(0));
// SIGUSR2: full garbage collections (with --v8-flags=--expose-gc), before a memory reading.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc !== undefined) {
  Deno.addSignalListener('SIGUSR2', () => {
    gc();
    gc();
  });
}
// The parent holds our stdin: when it goes away, so do we.
void (async () => {
  const buf = new Uint8Array(64);
  while ((await Deno.stdin.read(buf)) !== null);
  Deno.exit(0);
})();
console.log(JSON.stringify({ ready: true, impl, port, details, pid: Deno.pid }));
