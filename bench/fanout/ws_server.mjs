// The `ws` chat room for bench/fanout: ws's WebSocketServer (bufferutil installed, so its
// native masking is used; permessage-deflate off, ws's default) with the broadcast loop of
// ws's README: every message goes to every other open client, text as text, binary as binary.
//
//   node bench/fanout/ws_server.mjs --port 0
//
// Prints `listening on ws://127.0.0.1:PORT`; SIGTERM/SIGINT closes every client and exits.
import { WebSocket, WebSocketServer } from 'ws';

const at = process.argv.indexOf('--port');
const port = at < 0 ? 0 : Number(process.argv[at + 1]);
const wss = new WebSocketServer({ port, host: '127.0.0.1' });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
wss.on('listening', () => process.stdout.write(`listening on ws://127.0.0.1:${wss.address().port}\n`));
const stop = () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
