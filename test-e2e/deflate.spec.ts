/**
 * permessage-deflate (RFC 7692) between Chromium's native WebSocket and @wsflow/node's
 * server. Chromium offers `permessage-deflate; client_max_window_bits`; the server answers
 * with each parameter set in turn (its defaults, no context takeover either way, a 2^9
 * window asked of Chromium, a 2^10 window for itself). In the page, the run of
 * test/deflate/plan.ts (text and binary, 0 B to 1 MiB, compressible and random, 100 in a
 * row) is sent and every echo checked; on the way, the relay of test/deflate/wire_relay.ts
 * decodes both directions with node:zlib and the agreed terms.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { expect, test } from '@playwright/test';
import { serve, type WebSocketServer } from '../packages/node/src/index.ts';
import { echoCompressOf, fullPlan, shortPlan, type PlanItem, type RunResult } from '../test/deflate/plan.ts';
import { checkRun, summary, termsOfSet, type ExpectFn } from '../test/deflate/wire_checks.ts';
import { WireRelay } from '../test/deflate/wire_relay.ts';

const PAGE = '<!doctype html><meta charset="utf-8"><title>wsflow deflate e2e</title><p>wsflow deflate e2e</p>';

/** The server's settings, each with the terms Chromium's offer and it agree on. */
const SETS = {
  default: {},
  server_no_context_takeover: { serverNoContextTakeover: true },
  client_no_context_takeover: { clientNoContextTakeover: true },
  'client_max_window_bits=9': { clientMaxWindowBits: 9 },
  'server_max_window_bits=10': { serverMaxWindowBits: 10 },
} as const;

/** plan.ts as a script for the page: `globalThis.deflatePlan`. */
const PLAN_SCRIPT = buildSync({
  entryPoints: [fileURLToPath(new URL('../test/deflate/plan.ts', import.meta.url))],
  bundle: true,
  format: 'iife',
  globalName: 'deflatePlan',
  write: false,
  target: 'es2022',
}).outputFiles[0].text;

let page_server: Server;
let origin: string;
const servers = new Map<string, WebSocketServer>();

test.beforeAll(async () => {
  page_server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(PAGE);
  });
  await new Promise<void>((resolve) => page_server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(page_server.address() as AddressInfo).port}`;
  for (const [name, params] of Object.entries(SETS)) {
    servers.set(
      name,
      await serve({
        port: 0,
        maxMessage: 16 * 1024 * 1024,
        perMessageDeflate: params,
        handler: (conn) => {
          conn.onmessage = (data) => void conn.send(data, { compress: echoCompressOf(data) });
        },
      }),
    );
  }
});

test.afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.close()));
  page_server.closeAllConnections();
  await new Promise<void>((resolve) => page_server.close(() => resolve()));
});

for (const [name, params] of Object.entries(SETS)) {
  test(`Chromium negotiates permessage-deflate with our server (${name}) and every message round-trips, valid on the wire`, async ({ page }) => {
    test.setTimeout(60_000);
    await page.goto(`${origin}/`);
    await page.addScriptTag({ content: PLAN_SCRIPT });
    const plan: PlanItem[] = name === 'default' ? fullPlan() : shortPlan();
    const relay = await WireRelay.start(servers.get(name)!.port);
    try {
      const result = await page.evaluate(
        async ({ url, plan }) => {
          const { runPlan } = (globalThis as unknown as { deflatePlan: typeof import('../test/deflate/plan.ts') }).deflatePlan;
          const started = Date.now();
          const ws = new WebSocket(url);
          ws.binaryType = 'arraybuffer';
          const queue: Array<string | Uint8Array> = [];
          let wake: (() => void) | null = null;
          let closeCode = -1;
          const closed = new Promise<void>((resolve) => (ws.onclose = (event) => ((closeCode = event.code), resolve(), wake?.())));
          ws.onmessage = (event) => {
            queue.push(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer));
            wake?.();
          };
          await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
          const tally = await runPlan(plan, {
            send: (data) => ws.send(data),
            next: async () => {
              while (queue.length === 0) {
                if (ws.readyState !== WebSocket.OPEN) throw new Error(`closed ${closeCode}`);
                await new Promise<void>((resolve) => (wake = resolve));
                wake = null;
              }
              return queue.shift()!;
            },
          });
          ws.close(1000);
          await closed;
          return { extensions: ws.extensions, ...tally, closeCode, ms: Date.now() - started } satisfies RunResult;
        },
        { url: `ws://127.0.0.1:${relay.port}/`, plan },
      );
      const [record] = await relay.settled();
      console.log(`chromium × node server, ${name}: ${summary(result, record)}`);
      expect(record.offered, "Chromium's offer").toBe('permessage-deflate; client_max_window_bits');
      checkRun(expect as unknown as ExpectFn, result, record, {
        plan,
        negotiated: true,
        wsflow: 's2c',
        params,
        terms: termsOfSet(params),
        clientCompressOption: false,
        serverMarks: 'both',
        takeoverGain: true,
      });
    } finally {
      await relay.close();
    }
  });
}
