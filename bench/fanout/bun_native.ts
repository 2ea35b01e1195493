// Bun's own chat room for bench/fanout: `Bun.serve` with `websocket` handlers, every
// connection `subscribe`s to one topic and each message is `publish`ed to it (Bun's
// publish leaves the sender out), as Bun's own chat benchmark does. permessage-deflate off.
//
//   node_modules/.bin/bun run --no-install bench/fanout/bun_native.ts --port 0
//
// Prints `listening on ws://127.0.0.1:PORT`; SIGTERM/SIGINT stops it.
interface NativeSocket {
  subscribe(topic: string): void;
  publish(topic: string, data: string | Uint8Array): number;
}
interface NativeServer {
  readonly port: number;
  upgrade(request: Request): boolean;
  stop(closeActive?: boolean): void;
}
const Bun = (globalThis as unknown as {
  Bun: {
    serve(options: {
      hostname: string;
      port: number;
      fetch(request: Request, server: NativeServer): Response | undefined;
      websocket: {
        perMessageDeflate: boolean;
        open(ws: NativeSocket): void;
        message(ws: NativeSocket, message: string | Uint8Array): void;
      };
    }): NativeServer;
  };
}).Bun;

const ROOM = 'room';
const at = process.argv.indexOf('--port');
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: at < 0 ? 0 : Number(process.argv[at + 1]),
  fetch(request, srv) {
    if (srv.upgrade(request)) return undefined;
    return new Response('WebSocket only', { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.subscribe(ROOM);
    },
    message(ws, message) {
      ws.publish(ROOM, message);
    },
  },
});
process.stdout.write(`listening on ws://127.0.0.1:${server.port}\n`);
const stop = (): void => {
  server.stop(true);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
