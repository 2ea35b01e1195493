// Deno's own chat room for bench/fanout: `Deno.serve` + `Deno.upgradeWebSocket` (in Rust),
// with a broadcast loop over the open sockets (Deno has no topics): every message goes to
// every other open socket, text as text, binary as binary.
//
//   node_modules/.bin/deno run -A bench/fanout/deno_native.ts --port 0
//
// Prints `listening on ws://127.0.0.1:PORT`; SIGTERM/SIGINT stops it.
const at = Deno.args.indexOf('--port');
const sockets = new Set<WebSocket>();
const server = Deno.serve(
  { hostname: '127.0.0.1', port: at < 0 ? 0 : Number(Deno.args[at + 1]), onListen: () => {} },
  (request) => {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('WebSocket only', { status: 426 });
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => sockets.add(socket);
    socket.onclose = () => sockets.delete(socket);
    socket.onerror = () => sockets.delete(socket);
    socket.onmessage = (event) => {
      for (const other of sockets) if (other !== socket && other.readyState === WebSocket.OPEN) other.send(event.data);
    };
    return response;
  },
);
console.log(`listening on ws://127.0.0.1:${server.addr.port}`);
const stop = (): void => {
  void server.shutdown();
  Deno.exit(0);
};
Deno.addSignalListener('SIGTERM', stop);
Deno.addSignalListener('SIGINT', stop);
