/**
 * The wsflow demo: one `node:http` server that serves a page and, on `/ws`, a chat/echo
 * over WebSocket (wsflow's `attach`, the server engine on node:http's upgrades), showing
 * each page the frames of its connection; the chat room is one topic.
 *
 *   node demo/server.ts [--port 8080] [--host 127.0.0.1]
 *
 * `--port 0` takes a free port; the line printed at start says which:
 * `wsflow demo on http://127.0.0.1:PORT/`.
 *
 * The wire: a page sends text messages (chat lines) and one-octet binary messages (0x01:
 * "ping me"); the server sends JSON text messages (`welcome`, `chat`, `presence`,
 * `pong`). Frame descriptions go to the page over Server-Sent Events at `/frames?id=…`.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { attach, type ServerConnection } from '@wsflow/node';
import { docsSite } from './docs_site.ts';
import { FrameLog } from './frame_log.ts';
import { tapSocket } from './frame_tap.ts';

// ---- options --------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', short: 'p', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: node demo/server.ts [--port P (default 8080, 0 for any free port)] [--host H (default 127.0.0.1)]');
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer from 0 to 65535, got ${args.port}`);
  process.exit(2);
}
const host = args.host!;

/** The largest message a page may send; a larger one closes its connection with 1009. */
const MAX_MESSAGE = 16 * 1024;
/** How long a closed connection's frame log stays readable, in ms. */
const LOG_LINGER = 60_000;
/** How long shutdown may take before the process exits anyway, in ms. */
const SHUTDOWN_GRACE = 3_000;
/** The binary command a page sends to ask for a Ping. */
const PING_ME = 0x01;

// ---- static files ---------------------------------------------------------------------

const STATIC: Record<string, { type: string; body: Buffer }> = {
  '/': { type: 'text/html', body: readFileSync(new URL('index.html', import.meta.url)) },
  '/app.js': { type: 'text/javascript', body: readFileSync(new URL('app.js', import.meta.url)) },
  '/style.css': { type: 'text/css', body: readFileSync(new URL('style.css', import.meta.url)) },
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendText(response: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...extra });
  response.end(body);
}

// ---- the chat room --------------------------------------------------------------------

/** The topic every page subscribes to: the chat room. */
const ROOM = 'chat';

interface Member {
  readonly id: string;
  readonly name: string;
  readonly log: FrameLog;
  pingSentAt: number;
}

/** Frame logs by member id, kept a while after their connection closed. */
const logs = new Map<string, FrameLog>();
let guests = 0;

/** Publishes a join or leave to the room, with how many pages are in it now. */
function presence(event: 'joined' | 'left', who: Member): void {
  wsServer.publish(ROOM, JSON.stringify({ type: 'presence', event, name: who.name, online: wsServer.subscriberCount(ROOM) }));
}

function onConnection(connection: ServerConnection, request: IncomingMessage): void {
  // The frame log sees every byte of the connection from here on, both ways (the 101 went
  // out before the handler runs; a page sends nothing before it).
  const id = randomUUID();
  const log = new FrameLog();
  logs.set(id, log);
  tapSocket(request.socket, (frame) => log.add(frame), { maxPayload: MAX_MESSAGE });
  request.socket.once('close', () => setTimeout(() => logs.delete(id), LOG_LINGER).unref());
  const member: Member = { id, name: `guest-${++guests}`, log, pingSentAt: 0 };
  connection.subscribe(ROOM);

  connection.onmessage = (data) => {
    if (typeof data === 'string') {
      const text = data.trim();
      if (text === '') return;
      const at = new Date().toISOString();
      // Framed once for the whole room; the sender gets it too, as its echo.
      connection.publish(ROOM, JSON.stringify({ type: 'chat', from: member.name, text, at }), { includeSelf: true });
    } else if (data.length === 1 && data[0] === PING_ME) {
      member.pingSentAt = performance.now();
      connection.ping('wsflow demo');
    }
  };
  connection.onpong = () => {
    if (member.pingSentAt === 0) return;
    const ms = performance.now() - member.pingSentAt;
    member.pingSentAt = 0;
    connection.send(JSON.stringify({ type: 'pong', ms: Math.round(ms * 100) / 100 }));
  };
  connection.onerror = (error) => console.log(`${member.name}: ${error.message}`);
  // A closed connection has left the room by itself (subscriberCount no longer counts it).
  void connection.closed.then((info) => {
    member.log.end(info);
    console.log(`${member.name} left (${info.closeCode}${info.reason ? ` ${info.reason}` : ''})`);
    presence('left', member);
  });

  connection.send(JSON.stringify({ type: 'welcome', id: member.id, name: member.name, online: wsServer.subscriberCount(ROOM), maxMessage: MAX_MESSAGE }));
  presence('joined', member);
  console.log(`${member.name} joined`);
}

// ---- HTTP -----------------------------------------------------------------------------

/** `/docs/`: the API site, once `npm run docs` has built it. */
const serveDocs = docsSite(fileURLToPath(new URL('../docs-site', import.meta.url)));

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(response, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    return;
  }
  if (url.pathname === '/frames') {
    const log = logs.get(url.searchParams.get('id') ?? '');
    if (log === undefined) sendText(response, 404, 'no such connection\n');
    else log.subscribe(response);
    return;
  }
  if (serveDocs(url.pathname, request, response)) return;
  const file = STATIC[url.pathname];
  if (file === undefined) {
    sendText(response, 404, 'not found\n');
    return;
  }
  response.writeHead(200, {
    'content-type': `${file.type}; charset=utf-8`,
    'content-length': file.body.length,
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
  });
  response.end(request.method === 'HEAD' ? undefined : file.body);
});

// The WebSocket endpoint on the same server: upgrades to /ws (others get a 400).
const wsServer = attach(server, { path: '/ws', handler: onConnection, maxMessage: MAX_MESSAGE, maxPayload: MAX_MESSAGE });

server.on('error', (error) => {
  console.error(`wsflow demo: ${error.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  console.log(`wsflow demo on http://${shown}:${address.port}/`);
});

// ---- shutdown -------------------------------------------------------------------------

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing ${wsServer.connections.size} connection(s)…`);
  setTimeout(() => {
    console.log('shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_GRACE).unref();
  server.close();
  // 1001 Going Away to every page, then wait for their Close frames (or the close timeout).
  void wsServer.close({ closeCode: 1001, reason: 'server shutting down' }).then(() => {
    // What is left: idle keep-alive sockets and frame-log streams.
    server.closeAllConnections();
    console.log('bye');
  });
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
