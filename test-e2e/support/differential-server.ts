/**
 * The Node side of the differential spec: one node:http server on 127.0.0.1 (port 0) that
 * serves the page and its bundle (differential-page.ts with the facade's and codec's
 * sources, built by esbuild at start), our `@wsflow/node` endpoints (`attach`), one path
 * per scenario, a raw-socket endpoint for what our server API refuses to send (invalid
 * UTF-8), and the byte relay the facade reaches the same server through.
 *
 * Each connection's URL carries `?run=<id>`; the server keeps a log per run of what it saw
 * (`observations(id)`), so the spec can compare the server's view of both clients too.
 */
import { build } from 'esbuild';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  acceptUpgrade,
  buildRejection,
  FrameParser,
  HandshakeError,
  makeFrame,
  Opcode,
  parseClosePayload,
  serializeClosePayload,
  serializeFrame,
  type UpgradeRequest,
  type WebSocketConnection,
} from '@wsflow/codec';
// Only the module of attach(), not the package index, so work elsewhere in the shim does not stop this spec.
import { attach, type AttachedEndpoint } from '../../packages/node/src/attach.ts';
import type { EndpointOptions } from '../../packages/node/src/endpoint.ts';
import { createByteRelay } from './byte-relay.ts';

/** How long the endpoints that answer a message wait before answering (see /server-close). */
const ANSWER_DELAY_MS = 50;

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const PAGE = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>wsflow differential e2e</title><p>wsflow differential e2e</p>';

/** The payload of the invalid text frame: "Hi" then U+D800 encoded (ED A0 80), which UTF-8 forbids (RFC 3629 §3). */
export const INVALID_UTF8 = Uint8Array.of(0x48, 0x69, 0xed, 0xa0, 0x80);

export interface DifferentialServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `ws://127.0.0.1:<port>` */
  base: string;
  /** What the server saw of the connection (or refusal) with `?run=id`, in order. */
  observations(run: string): string[];
  close(): Promise<void>;
}

/** Bundles the page module: the facade and the codec from source, `@wsflow/codec` included. */
function bundlePage(): Promise<string> {
  return build({
    entryPoints: [here('./differential-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
    alias: { '@wsflow/codec': here('../../packages/codec/src/index.ts') },
  }).then((r) => r.outputFiles[0]!.text);
}

const runOf = (request: IncomingMessage): string => new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('run') ?? '(no run)';
const pathOf = (request: IncomingMessage): string => new URL(request.url ?? '/', 'http://127.0.0.1').pathname;

function describeMessage(data: string | Uint8Array): string {
  if (typeof data === 'string') return `text ${JSON.stringify(data.length > 32 ? `${data.slice(0, 32)}…(${data.length})` : data)}`;
  const head = Array.from(data.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `binary ${data.length} [${head}${data.length > 8 ? ' …' : ''}]`;
}

/** A node:http request as the codec's `UpgradeRequest`. */
function upgradeRequestOf(request: IncomingMessage): UpgradeRequest {
  return {
    method: request.method ?? 'GET',
    version: `HTTP/${request.httpVersion}`,
    headers: {
      get: (name: string) => {
        const value = request.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : (value ?? null);
      },
    },
  };
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

export async function startDifferentialServer(): Promise<DifferentialServer> {
  const bundle = bundlePage();
  bundle.catch(() => undefined);
  const logs = new Map<string, string[]>();
  const observe = (request: IncomingMessage): string[] => {
    const run = runOf(request);
    let log = logs.get(run);
    if (log === undefined) logs.set(run, (log = []));
    return log;
  };
  const watchClose = (conn: WebSocketConnection, log: string[]) =>
    void conn.closed.then((info) => log.push(`closed ${info.closeCode} ${JSON.stringify(info.reason)} ${info.wasClean ? 'clean' : 'unclean'}`));

  const server: Server = createServer((request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      response.end(body);
    };
    const path = pathOf(request);
    if (path === '/') return send(200, 'text/html', PAGE);
    if (path === '/differential.js') {
      bundle.then(
        (js) => send(200, 'text/javascript', js),
        (e: Error) => send(500, 'text/plain', e.message),
      );
      return;
    }
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  // Our server, one endpoint per scenario. Every endpoint but the refusing ones allows only
  // the page's origin, so the facade must send the Origin a browser sends.
  const common = (log: (request: IncomingMessage) => string[]): Partial<EndpointOptions> => ({
    allowedOrigins: [origin],
    onReject: (info) => void log(info.request).push(`rejected ${info.status} ${info.code}`),
  });
  const endpoint = (path: string, options: Partial<EndpointOptions>, onMessage?: (conn: WebSocketConnection, data: string | Uint8Array) => void): AttachedEndpoint =>
    attach(server, {
      ...common(observe),
      ...options,
      path,
      handler: (conn, request) => {
        const log = observe(request);
        log.push(`open ${JSON.stringify(conn.protocol)}`);
        watchClose(conn, log);
        conn.onmessage = (data) => {
          log.push(`received ${describeMessage(data)}`);
          onMessage?.(conn, data);
        };
      },
    });
  const burst = [Uint8Array.of(3, 3, 3), Uint8Array.of(4, 4, 4, 4), Uint8Array.of(5, 5, 5, 5, 5)];
  const asked = new WeakMap<WebSocketConnection, number>();
  const endpoints = [
    endpoint('/echo', { handleProtocols: (offered) => (offered.includes('chat') ? 'chat' : null) }, (conn, data) => void conn.send(data)),
    // The answers of /server-close and of the invalid-UTF-8 endpoint wait a little: the
    // message then arrives well after what the client sent was transmitted, so both
    // clients' bufferedAmount at the message event has had its later task to drop (a
    // facade task and a network task racing would make it timing-dependent).
    endpoint('/server-close', {}, (conn) => {
      setTimeout(() => {
        conn.send('closing');
        conn.close({ closeCode: 4001, reason: 'server bye' });
      }, ANSWER_DELAY_MS);
    }),
    endpoint('/client-close', {}, (conn, data) => void conn.send(data)),
    endpoint('/forbidden-origin', { allowedOrigins: ['https://elsewhere.example'] }),
    endpoint('/authorize-403', { authorize: () => ({ status: 403, body: 'not you' }) }),
    endpoint('/no-protocol', { handleProtocols: () => null }),
    attach(server, {
      ...common(observe),
      path: '/credentials',
      handler: (conn, request) => {
        const log = observe(request);
        log.push(`open, Authorization ${JSON.stringify(request.headers.authorization ?? null)}`);
        watchClose(conn, log);
        conn.close({ closeCode: 4002, reason: 'seen' });
      },
    }),
    // Answers after ANSWER_DELAY_MS too, for the same reason as /server-close.
    endpoint('/binary-type', {}, (conn, data) => {
      if (data === 'next') {
        // The first answer is 1 byte (01), the second 2 bytes (02 02).
        const n = (asked.get(conn) ?? 0) + 1;
        asked.set(conn, n);
        setTimeout(() => conn.send(new Uint8Array(n).fill(n)), ANSWER_DELAY_MS);
      } else if (data === 'burst') {
        // Three frames sent in one go: each message's task runs after the previous handler.
        setTimeout(() => {
          for (const b of burst) conn.send(b);
        }, ANSWER_DELAY_MS);
      }
    }),
  ];
  const attachedPaths = new Set(endpoints.map((e) => e.options.path));

  const relay = createByteRelay({ path: '/relay', targetPort: () => port });

  /** Accepts the upgrade by hand and sends "ok" then a text frame that is not UTF-8. */
  const rawInvalidUtf8 = async (request: IncomingMessage, socket: Duplex, head: Buffer, early: boolean): Promise<void> => {
    const log = observe(request);
    socket.on('error', () => undefined);
    let accepted;
    try {
      accepted = await acceptUpgrade(upgradeRequestOf(request), { allowedOrigins: [origin] });
    } catch (error) {
      log.push(`rejected ${error instanceof HandshakeError ? error.status : 500}`);
      socket.end(buildRejection(error instanceof HandshakeError ? error.status : 500));
      return;
    }
    const frames = concat(serializeFrame(makeFrame(Opcode.Text, new TextEncoder().encode('ok'))), serializeFrame(makeFrame(Opcode.Text, INVALID_UTF8)));
    const response = new TextEncoder().encode(accepted.response);
    socket.write(early ? concat(response, frames) : response);
    log.push(`open ${JSON.stringify(accepted.protocol)}${early ? ', sent "ok" and invalid UTF-8 with the 101' : ''}`);
    let closeSent = false;
    const parser = new FrameParser(
      { role: 'server', maxPayload: 1 << 20 },
      {
        frameHeader() {},
        framePartial() {},
        frame(_fin, _rsv, opcode, payload) {
          if (opcode === Opcode.Text) {
            log.push(`received text ${JSON.stringify(new TextDecoder().decode(payload))}`);
            if (!early) {
              setTimeout(() => {
                socket.write(frames);
                log.push('sent "ok" and invalid UTF-8');
              }, ANSWER_DELAY_MS);
            }
          } else if (opcode === Opcode.Close) {
            const { code, reason } = parseClosePayload(payload);
            log.push(`received Close ${code} ${JSON.stringify(reason)}`);
            // Answer as a server does (RFC 6455 §5.5.1), then close the TCP connection first (§7.1.1).
            if (!closeSent && !socket.destroyed) {
              closeSent = true;
              socket.end(serializeFrame(makeFrame(Opcode.Close, serializeClosePayload(code === 1005 ? undefined : code))));
            }
          } else log.push(`received opcode ${opcode}`);
        },
      },
    );
    const feed = (chunk: Uint8Array) => {
      try {
        parser.push(chunk);
      } catch (error) {
        log.push(`protocol error ${(error as Error).message}`);
        socket.destroy();
      }
    };
    if (head.length > 0) feed(head);
    socket.on('data', feed);
    socket.on('close', () => log.push('tcp closed'));
  };

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(request);
    if (relay.matches(request)) relay.handleUpgrade(request, socket, head);
    else if (path === '/invalid-utf8' || path === '/invalid-utf8-early') void rawInvalidUtf8(request, socket, head, path === '/invalid-utf8-early');
    else if (!attachedPaths.has(path)) socket.destroy();
  });

  return {
    origin,
    base: `ws://127.0.0.1:${port}`,
    observations: (run) => [...(logs.get(run) ?? [])],
    async close() {
      relay.close();
      await Promise.all(endpoints.map((e) => e.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
