/**
 * @wsflow/testing/playwright: a page's WebSockets — a Web Worker's too — routed to a
 * handler running in this process, with real frames through Chromium's network stack and
 * wsflow's codec and engine (permessage-deflate negotiated shows the frames are real).
 */
import type { ConnectionHandler } from '@wsflow/node';
import { expect, test } from '@wsflow/testing/playwright';

/** The handler as production code writes it for serve(). */
const chat: ConnectionHandler = (conn, request) => {
  conn.send(`hello ${new URL(request.url).pathname} [${conn.extensions}]`);
  conn.onmessage = (message) => conn.send(`echo: ${String(message)}`);
};

const PAGE = '<!doctype html><meta charset="utf-8"><title>app</title><p>app</p>';
const page = (): Response => new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } });

test('routes the page’s WebSocket to the in-process handler, real frames included', async ({ page: tab, wsflow }) => {
  wsflow.handle({ handler: chat, fetch: page });
  await tab.goto('http://app.example/');
  const got = await tab.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const ws = new WebSocket('ws://app.example/chat');
        const messages: string[] = [];
        ws.onopen = () => ws.send('x'.repeat(2000));
        ws.onmessage = (event) => {
          messages.push(String(event.data).slice(0, 40));
          if (messages.length === 2) resolve([...messages, ws.extensions]);
        };
        ws.onerror = () => reject(new Error('the WebSocket failed'));
      }),
  );
  expect(got[0]).toMatch(/^hello \/chat \[permessage-deflate/);
  expect(got[1]).toBe(`echo: ${'x'.repeat(34)}`);
  expect(got[2]).toMatch(/^permessage-deflate/);
});

test('routes a Web Worker’s WebSocket too (routeWebSocket does not see workers)', async ({ page: tab, wsflow }) => {
  wsflow.handle({ handler: chat, fetch: page });
  await tab.goto('http://app.example/');
  const got = await tab.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const code = `
          const ws = new WebSocket('ws://app.example/worker');
          ws.onopen = () => ws.send('from a worker');
          ws.onmessage = (event) => { if (String(event.data).startsWith('echo')) postMessage(event.data); };
          ws.onerror = () => postMessage('error');
        `;
        const worker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
        worker.onmessage = (event) => resolve(String(event.data));
        worker.onerror = () => reject(new Error('the worker failed'));
      }),
  );
  expect(got).toBe('echo: from a worker');
});

test('applies the route’s policy: a refused origin fails the page’s WebSocket', async ({ page: tab, wsflow }) => {
  wsflow.handle({ handler: chat, fetch: page, allowedOrigins: ['https://elsewhere.example'] });
  await tab.goto('http://app.example/');
  const outcome = await tab.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket('ws://app.example/chat');
        ws.onopen = () => resolve('open');
        ws.onclose = (event) => resolve(`close ${event.code}`);
      }),
  );
  expect(outcome).toBe('close 1006');
});
