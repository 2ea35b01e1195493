// Receive rate of the WHATWG WebSocket facade: a @wsflow/node server sends N small text
// messages over loopback at once; the facade's `message` events are counted, and the time
// from the `open` event to the last message gives messages per second. One short run,
// bounded by a 60 s timeout.
//
//   npx node bench/websocket/facade_receive.mjs [--messages=100000] [--size=16]
//
// Uses the built packages (`npm run build` first).
import { serve, WebSocket } from '@wsflow/node';

const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const messages = arg('messages', 100_000);
const size = arg('size', 16);
const text = 'x'.repeat(size);

const server = await serve({
  host: '127.0.0.1',
  port: 0,
  handler(conn) {
    conn.onmessage = () => {
      for (let i = 0; i < messages; i++) conn.send(text);
    };
  },
});
const timeout = setTimeout(() => {
  console.error('timed out after 60 s');
  process.exit(1);
}, 60_000);
const ws = new WebSocket(server.url);
let received = 0;
let started = 0;
await new Promise((resolve, reject) => {
  ws.onerror = () => reject(new Error('the WebSocket failed'));
  ws.onopen = () => {
    started = performance.now();
    ws.send('go');
  };
  ws.onmessage = () => {
    if (++received === messages) resolve();
  };
});
const ms = performance.now() - started;
clearTimeout(timeout);
console.log(`facade receive: ${messages} messages of ${size} B in ${ms.toFixed(0)} ms = ${Math.round((messages / ms) * 1000).toLocaleString('en-US')} messages/s`);
ws.close();
await server.close();
