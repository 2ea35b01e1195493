/**
 * @wsflow/node's server against a real browser: Chromium's own WebSocket connects to an
 * `attach()`ed endpoint on a node:http server (127.0.0.1, port 0) that also serves the page,
 * so the page's origin is the server's. Every exchange runs inside the page; the results
 * come back as plain data.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { attach, type AttachedEndpoint, type NodeRejectionInfo } from '../packages/node/src/index.ts';

const PAGE = '<!doctype html><meta charset="utf-8"><title>wsflow node e2e</title><p>wsflow node e2e</p>';

let server: Server;
let origin: string;
const endpoints: AttachedEndpoint[] = [];
const rejections: NodeRejectionInfo[] = [];

test.beforeAll(async () => {
  server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const onReject = (info: NodeRejectionInfo): void => void rejections.push(info);
  endpoints.push(
    attach(server, {
      path: '/ws',
      allowedOrigins: [origin],
      handleProtocols: (offered) => (offered.includes('chat') ? 'chat' : null),
      authorize: async ({ url }) => (url.searchParams.get('auth') === 'deny' ? { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } : undefined),
      onReject,
      handler: (conn) => {
        conn.onmessage = (data) => {
          const command = typeof data === 'string' ? /^close (\d+) (.*)$/.exec(data) : null;
          if (command) conn.close({ closeCode: Number(command[1]), reason: command[2] });
          else conn.send(data);
        };
      },
    }),
    attach(server, { path: '/strict', allowedOrigins: ['https://elsewhere.example'], onReject, handler: () => {} }),
  );
});

test.afterAll(async () => {
  await Promise.all(endpoints.map((endpoint) => endpoint.close()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test.beforeEach(async ({ page }) => {
  await page.goto(`${origin}/`);
});

test('Chromium exchanges text, binary and 1 MiB with our server, then closes cleanly', async ({ page }) => {
  const result = await page.evaluate(async (url) => {
    const ws = new WebSocket(url, ['x-other', 'chat']);
    ws.binaryType = 'arraybuffer';
    const received: Array<string | number[]> = [];
    const sizes: number[] = [];
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 0xff);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (event) => {
        if (typeof event.data === 'string') received.push(event.data);
        else if (event.data.byteLength > 1000) {
          const bytes = new Uint8Array(event.data);
          sizes.push(bytes.length, bytes.every((b, i) => b === ((i * 7) & 0xff)) ? 1 : 0);
        } else received.push(Array.from(new Uint8Array(event.data)));
        if (received.length === 2 && sizes.length === 2) resolve();
      };
    });
    ws.send('héllo 👋 世界');
    ws.send(new Uint8Array([0, 1, 254, 255]));
    ws.send(big);
    await done;
    const close = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
      ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
    });
    ws.close(1000, 'done');
    return { protocol: ws.protocol, received, sizes, close: await close };
  }, `ws://127.0.0.1:${new URL(origin).port}/ws`);
  expect(result).toEqual({
    protocol: 'chat',
    received: ['héllo 👋 世界', [0, 1, 254, 255]],
    sizes: [1024 * 1024, 1],
    // The close event carries the server's Close frame, which echoes the code and reason.
    close: { code: 1000, reason: 'done', wasClean: true },
  });
});

test('our server closing with a code and reason reaches the browser', async ({ page }) => {
  const close = await page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    ws.onopen = () => ws.send('close 4001 adiós ✓');
    return new Promise((resolve) => {
      ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
    });
  }, `ws://127.0.0.1:${new URL(origin).port}/ws`);
  expect(close).toEqual({ code: 4001, reason: 'adiós ✓', wasClean: true });
});

test("a refused Origin (403) and the upgrade hook's 401 fail the browser's connection", async ({ page }) => {
  const port = new URL(origin).port;
  const outcomes = await page.evaluate(async (urls) => {
    const attempt = (url: string) =>
      new Promise<string[]>((resolve) => {
        const events: string[] = [];
        const ws = new WebSocket(url);
        ws.onopen = () => events.push('open');
        ws.onerror = () => events.push('error');
        ws.onclose = (event) => {
          events.push(`close ${event.code}`);
          resolve(events);
        };
      });
    return Promise.all(urls.map(attempt));
  }, [`ws://127.0.0.1:${port}/strict`, `ws://127.0.0.1:${port}/ws?auth=deny`]);
  expect(outcomes).toEqual([
    ['error', 'close 1006'],
    ['error', 'close 1006'],
  ]);
  expect(rejections.map(({ status, code }) => ({ status, code }))).toEqual(
    expect.arrayContaining([
      { status: 403, code: 'FORBIDDEN_ORIGIN' },
      { status: 401, code: 'REJECTED' },
    ]),
  );
});
