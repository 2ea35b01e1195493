/**
 * @wsflow/websocket in a real Chromium: its source, bundled by esbuild at test time, runs
 * in the page against the in-memory test server; its `NativeWebSocketStream` runs over
 * Chromium's own WebSocket against a `ws` server on 127.0.0.1; and the facade is compared
 * with Chromium's own `WebSocket` on the standard's exceptions and event order.
 */
import { expect, test, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type * as WebSocketModule from '../packages/websocket/src/index.ts';

declare global {
  // The package, imported in the page.
  var wsf: typeof WebSocketModule;
}

const entry = fileURLToPath(new URL('../packages/websocket/src/index.ts', import.meta.url));
const PAGE = '<!doctype html><meta charset="utf-8"><title>wsflow websocket e2e</title><p>wsflow websocket e2e</p>';

interface Fixture {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the page, the bundle at /websocket.js, and `ws` endpoints: /echo, /close-4001, /drop, /bad-frame. */
async function startFixture(): Promise<Fixture> {
  const bundle = build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  bundle.catch(() => undefined);
  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/') return send(200, 'text/html', PAGE);
    if (path === '/websocket.js') {
      bundle.then(
        (js) => send(200, 'text/javascript', js),
        (e: Error) => send(500, 'text/plain', e.message),
      );
      return;
    }
    send(404, 'text/plain', 'not found');
  });
  const wss = new WebSocketServer({ server: http, handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
  wss.on('connection', (socket: WsSocket, req) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    socket.on('message', (data, isBinary) => {
      if (path === '/close-4001') socket.close(4001, 'server bye');
      else if (path === '/drop') socket.terminate();
      // A frame with the reserved opcode 0x3, written under ws: the client must fail.
      else if (path === '/bad-frame') (socket as unknown as { _socket: { write(bytes: Uint8Array): void } })._socket.write(new Uint8Array([0x83, 0x00]));
      else socket.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

let fixture: Fixture;

test.beforeAll(async () => {
  fixture = await startFixture();
});

test.afterAll(async () => {
  await fixture.close();
});

/** Opens the page and imports the package as `globalThis.wsf`; fails on uncaught page errors. */
async function load(page: Page): Promise<() => void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(fixture.url);
  await page.evaluate(`import('/websocket.js').then((m) => { globalThis.wsf = m; })`);
  return () => expect(errors, 'uncaught errors in the page').toEqual([]);
}

test('the facade and the test server run in the page, with the browser’s own event classes', async ({ page }) => {
  const checkErrors = await load(page);
  const r = await page.evaluate(async () => {
    const server = new wsf.TestServer('ws://in-page.test/chat', { protocols: ['v2'] });
    const ws = new wsf.WebSocket('ws://in-page.test/chat', ['v1', 'v2']);
    const log: string[] = [];
    let messageEvent: Event | null = null;
    let closeEvent: Event | null = null;
    ws.onopen = () => {
      log.push(`open ${ws.protocol}`);
      ws.send('hello');
      ws.send(new Blob(['blob']));
    };
    ws.onmessage = (e) => {
      messageEvent = e;
      log.push(`message ${e.data instanceof Blob ? `Blob(${e.data.size})` : String(e.data)} ${e.origin}`);
    };
    ws.onerror = () => log.push('error');
    ws.onclose = (e) => {
      closeEvent = e;
      log.push(`close ${e.code} ${e.reason} ${e.wasClean}`);
    };
    const client = await server.nextConnection();
    const first = await client.nextMessage();
    const second = await client.nextMessage();
    client.send('welcome');
    client.send(new Uint8Array([1, 2, 3]));
    await server.flush();
    void client.close(4000, 'bye');
    await server.flush();
    server.stop();
    return {
      log,
      first,
      second: Array.from(second as Uint8Array),
      nativeMessageEvent: (messageEvent as Event | null) instanceof MessageEvent,
      nativeCloseEvent: (closeEvent as Event | null) instanceof CloseEvent,
      readyState: ws.readyState,
    };
  });
  expect(r.log).toEqual(['open v2', 'message welcome ws://in-page.test', 'message Blob(3) ws://in-page.test', 'close 4000 bye true']);
  expect(r.first).toBe('hello');
  expect(r.second).toEqual([0x62, 0x6c, 0x6f, 0x62]);
  expect(r.nativeMessageEvent).toBe(true);
  expect(r.nativeCloseEvent).toBe(true);
  expect(r.readyState).toBe(3);
  checkErrors();
});

test('relative URLs resolve against the page, http mapped to ws', async ({ page }) => {
  const checkErrors = await load(page);
  const r = await page.evaluate(async () => {
    const server = new wsf.TestServer(new URL('/socket', location.href).href, { echo: true });
    const ws = new wsf.WebSocket('/socket?x=1');
    const url = ws.url;
    const echoed = await new Promise<string>((resolve) => {
      ws.onopen = () => ws.send('relative');
      ws.onmessage = (e) => resolve(String(e.data));
    });
    const origin = server.handshakes[0]!.origin;
    server.dropAll();
    return { url, echoed, origin };
  });
  expect(r.url).toBe(`ws://127.0.0.1:${fixture.port}/socket?x=1`);
  expect(r.echoed).toBe('relative');
  expect(r.origin).toBe(`http://127.0.0.1:${fixture.port}`);
  checkErrors();
});

test('WebSocketStream over the test server, with a WebSocketError close', async ({ page }) => {
  const checkErrors = await load(page);
  const r = await page.evaluate(async () => {
    const server = new wsf.TestServer('ws://stream.test/', { echo: true });
    const wss = new wsf.WebSocketStream('ws://stream.test/');
    const { readable, writable } = await wss.opened;
    const writer = writable.getWriter();
    await writer.write('text');
    await writer.write(new Uint8Array([9, 8]));
    const reader = readable.getReader();
    const got = [(await reader.read()).value, Array.from((await reader.read()).value as Uint8Array)];
    writer.releaseLock();
    await writable.abort(new wsf.WebSocketError('', { closeCode: 4321, reason: 'abort' }));
    const closed = await wss.closed;
    await server.flush();
    const serverSaw = server.connections[0]!.closeInfo;
    server.stop();
    return { got, closed, serverSaw };
  });
  expect(r.got).toEqual(['text', [9, 8]]);
  expect(r.closed).toEqual({ closeCode: 4321, reason: 'abort' });
  expect(r.serverSaw).toEqual({ closeCode: 4321, reason: 'abort', wasClean: true });
  checkErrors();
});

test('NativeWebSocketStream over Chromium’s WebSocket: echo, close codes, and a dropped connection', async ({ page }) => {
  const checkErrors = await load(page);
  const r = await page.evaluate(async (port) => {
    const base = `ws://127.0.0.1:${port}`;
    // Echo, text and binary, with the subprotocol.
    const echo = new wsf.NativeWebSocketStream(`${base}/echo`, { protocols: ['chat'] });
    const opened = await echo.opened;
    const writer = opened.writable.getWriter();
    await writer.write('hi');
    await writer.write(new Uint8Array([1, 2, 3]));
    const reader = opened.readable.getReader();
    const echoed = [(await reader.read()).value, Array.from((await reader.read()).value as Uint8Array)];
    echo.close({ closeCode: 4000, reason: 'done' });
    const echoClosed = await echo.closed;

    // The server closes with 4001.
    const closing = new wsf.NativeWebSocketStream(`${base}/close-4001`);
    await (await closing.opened).writable.getWriter().write('go');
    const serverClosed = await closing.closed;

    // The server drops the TCP connection.
    const dropping = new wsf.NativeWebSocketStream(`${base}/drop`);
    await (await dropping.opened).writable.getWriter().write('go');
    const dropError = await dropping.closed.then(
      () => null,
      (e: InstanceType<typeof wsf.WebSocketError>) => ({ name: e.name, closeCode: e.closeCode, isWebSocketError: e instanceof wsf.WebSocketError }),
    );

    // Cancelling with a WebSocketError sends its code.
    const cancelling = new wsf.NativeWebSocketStream(`${base}/echo`);
    await (await cancelling.opened).readable.cancel(new wsf.WebSocketError('', { closeCode: 4555, reason: 'cancel' }));
    const cancelClosed = await cancelling.closed;

    // No server there: opened rejects.
    const refused = new wsf.NativeWebSocketStream(`ws://127.0.0.1:1/`).opened.then(
      () => 'opened',
      (e: Error) => e.name,
    );
    return { protocol: opened.protocol, echoed, echoClosed, serverClosed, dropError, cancelClosed, refused: await refused };
  }, fixture.port);
  expect(r.protocol).toBe('chat');
  expect(r.echoed).toEqual(['hi', [1, 2, 3]]);
  expect(r.echoClosed).toEqual({ closeCode: 4000, reason: 'done' });
  expect(r.serverClosed).toEqual({ closeCode: 4001, reason: 'server bye' });
  expect(r.dropError).toEqual({ name: 'WebSocketError', closeCode: 1006, isWebSocketError: true });
  expect(r.cancelClosed).toEqual({ closeCode: 4555, reason: 'cancel' });
  expect(r.refused).toBe('WebSocketError');
  checkErrors();
});

test('the facade throws what Chromium’s own WebSocket throws', async ({ page }) => {
  const checkErrors = await load(page);
  const r = await page.evaluate(async (port) => {
    const echo = `ws://127.0.0.1:${port}/echo`;
    type Ctor = new (url: string, protocols?: unknown) => WebSocket;
    const outcome = (fn: () => unknown): string => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return (e as Error).name;
      }
    };
    const constructs: Array<[string, unknown]> = [
      ['not a url', undefined],
      ['ftp://127.0.0.1/', undefined],
      [`${echo}#`, undefined],
      [`${echo}#frag`, undefined],
      [`http://127.0.0.1:${port}/echo`, undefined],
      ['/echo', undefined],
      [echo, ['a', 'a']],
      [echo, ['a', 'A']],
      [echo, ['']],
      [echo, ['a b']],
      [echo, ['é']],
      [echo, 'chat'],
      [echo, null],
    ];
    const compare = (Native: Ctor, Ours: Ctor) =>
      constructs.map(([url, protocols]) => {
        const run = (C: Ctor) =>
          outcome(() => {
            const ws = protocols === undefined ? new C(url) : new C(url, protocols);
            ws.onerror = () => {};
            ws.close();
          });
        return `${url} ${JSON.stringify(protocols)}: ${run(Native)} / ${run(Ours)}`;
      });
    const constructorResults = compare(WebSocket as unknown as Ctor, wsf.WebSocket as unknown as Ctor);

    // close() and send() exceptions, while CONNECTING, on both.
    const closeArgs: unknown[][] = [[999], [1001], [1005], [2999], [5000], [NaN], [Infinity], [999.5], [4999.5], [66536], [1000, 'x'.repeat(124)], [1000, 'é'.repeat(62)], [1001, 'x'.repeat(200)], ['4000']];
    const closeResults = closeArgs.map((args) => {
      const run = (C: Ctor) => {
        const ws = new C(echo);
        ws.onerror = () => {};
        const result = outcome(() => (ws.close as (...a: unknown[]) => void)(...args));
        const send = outcome(() => ws.send('x'));
        ws.close();
        return `${result},${send}`;
      };
      return `${JSON.stringify(args)}: ${run(WebSocket as unknown as Ctor)} / ${run(wsf.WebSocket as unknown as Ctor)}`;
    });

    // binaryType: invalid values are ignored on both.
    const binaryTypes = [WebSocket as unknown as Ctor, wsf.WebSocket as unknown as Ctor].map((C) => {
      const ws = new C(echo);
      ws.onerror = () => {};
      const seen = [ws.binaryType];
      for (const v of ['arraybuffer', 'Blob', '', 'blob', 'ArrayBuffer']) {
        (ws as unknown as { binaryType: string }).binaryType = v;
        seen.push(ws.binaryType);
      }
      ws.close();
      return seen.join(',');
    });
    // Event handler attributes: what each kind of value reads back as.
    const handlers = [WebSocket as unknown as Ctor, wsf.WebSocket as unknown as Ctor].map((C) => {
      const ws = new C(echo);
      ws.onerror = () => {};
      const object = { handleEvent() {} };
      const seen = ['text', 1, true, object, null, undefined].map((v) => {
        (ws as unknown as { onopen: unknown }).onopen = () => {};
        (ws as unknown as { onopen: unknown }).onopen = v;
        const read = (ws as unknown as { onopen: unknown }).onopen;
        return read === null ? 'null' : read === object ? 'kept' : typeof read;
      });
      ws.close();
      return seen.join(',');
    });
    return { constructorResults, closeResults, binaryTypes, handlers };
  }, fixture.port);
  const knownDivergences = new Set([
    // Chromium accepts protocols repeated in another case; web-platform-tests
    // (websockets/Create-protocols-repeated-case-insensitive) expect a SyntaxError, as wsflow throws.
    `ws://127.0.0.1:${fixture.port}/echo ["a","A"]: ok / SyntaxError`,
    // Chromium truncates a fractional code; Web IDL [Clamp] rounds to the nearest integer,
    // halfway to the even one: 999.5 is 1000 (valid), 4999.5 is 5000 (invalid).
    '[999.5]: InvalidAccessError,InvalidStateError / ok,ok',
    '[4999.5]: ok,ok / InvalidAccessError,InvalidStateError',
  ]);
  for (const line of [...r.constructorResults, ...r.closeResults]) {
    if (knownDivergences.has(line)) continue;
    const [native, ours] = line.slice(line.lastIndexOf(': ') + 2).split(' / ');
    expect(ours, line).toBe(native);
  }
  expect([...r.constructorResults, ...r.closeResults]).toEqual(expect.arrayContaining([...knownDivergences]));
  expect(r.binaryTypes[1]).toBe(r.binaryTypes[0]);
  expect(r.handlers[1]).toBe(r.handlers[0]);
  checkErrors();
});

test('the facade fires the events Chromium fires, in the same order', async ({ page }) => {
  const checkErrors = await load(page);
  const r = await page.evaluate(async (port) => {
    const base = `ws://127.0.0.1:${port}`;
    type Ctor = new (url: string, protocols?: string | string[]) => WebSocket;
    /** Runs a scenario on a socket and returns its event log once it closed. */
    const scenario = (C: Ctor, url: string, act: (ws: WebSocket) => void, protocols?: string[]) =>
      new Promise<string[]>((resolve) => {
        const ws = new C(url, protocols);
        const log: string[] = [];
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => log.push(`open ${ws.readyState} ${ws.protocol}`);
        ws.onmessage = (e) => log.push(`message ${typeof e.data === 'string' ? e.data : `bytes(${(e.data as ArrayBuffer).byteLength})`}`);
        ws.onerror = () => log.push(`error ${ws.readyState}`);
        ws.onclose = (e) => {
          log.push(`close ${e.code} ${JSON.stringify(e.reason)} ${e.wasClean} ${ws.readyState}`);
          resolve(log);
        };
        act(ws);
        log.push(`after constructor ${ws.readyState}`);
      });
    // The facade reaches the same ws server through a dialer over… Chromium's WebSocket is
    // the only network a page has, so the facade is given a test server that behaves like
    // the ws server for each scenario.
    const server = new wsf.TestServer(`${base}/echo`, { echo: true, protocols: ['chat'] });
    const closing = new wsf.TestServer(`${base}/close-4001`, {
      onconnection: (c) => (c.onmessage = () => void c.close(4001, 'server bye')),
    });
    const dropping = new wsf.TestServer(`${base}/drop`, {
      onconnection: (c) => (c.onmessage = () => c.drop()),
    });
    const badFrame = new wsf.TestServer(`${base}/bad-frame`, {
      onconnection: (c) => (c.onmessage = () => c.sendFrame({ opcode: 0x3 })),
    });
    const Ours = wsf.WebSocket as unknown as Ctor;
    const Native = WebSocket as unknown as Ctor;
    const scenarios: Array<[string, string, (ws: WebSocket) => void, string[]?]> = [
      ['echo then client close', `${base}/echo`, (ws) => {
        ws.addEventListener('open', () => {
          ws.send('a');
          ws.send(new Uint8Array([1, 2]));
        });
        let n = 0;
        ws.addEventListener('message', () => ++n === 2 && ws.close(4000, 'bye'));
      }, ['chat']],
      ['close while connecting', `${base}/echo`, (ws) => ws.close()],
      ['close without code', `${base}/echo`, (ws) => ws.addEventListener('open', () => ws.close())],
      ['server closes', `${base}/close-4001`, (ws) => ws.addEventListener('open', () => ws.send('go'))],
      // A lost connection is not a failed one: close 1006, no error.
      ['server drops the connection', `${base}/drop`, (ws) => ws.addEventListener('open', () => ws.send('go'))],
      // A protocol error of the server fails the connection: error, then close 1006.
      ['server sends a reserved opcode', `${base}/bad-frame`, (ws) => ws.addEventListener('open', () => ws.send('go'))],
      // Fetch's port blocking: a network error, no exception.
      ['a bad port', 'ws://127.0.0.1:25/', () => {}],
      ['a bad port (6667)', 'ws://127.0.0.1:6667/', () => {}],
    ];
    const results: Record<string, { native: string[]; ours: string[] }> = {};
    for (const [name, url, act, protocols] of scenarios) {
      results[name] = { native: await scenario(Native, url, act, protocols), ours: await scenario(Ours, url, act, protocols) };
    }
    server.stop();
    closing.stop();
    dropping.stop();
    badFrame.stop();
    return results;
  }, fixture.port);
  for (const [name, { native, ours }] of Object.entries(r)) expect(ours, name).toEqual(native);
  checkErrors();
});
