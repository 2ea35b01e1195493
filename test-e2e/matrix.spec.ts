/**
 * The interop matrix (test/matrix/behaviours.ts) with Chromium's own clients, its
 * `WebSocket` and its `WebSocketStream` (the one with receive backpressure), against
 * wsflow's servers on Node, Deno and Bun (each a process started once for this file). The
 * client drivers run in a page (test/matrix/browser/browser_driver.ts, bundled by esbuild)
 * and are driven with `page.evaluate`; only digests cross over.
 *
 * Two pages on two 127.0.0.1 ports give two origins: the servers' `/guarded` path allows
 * the first and refuses the second. `wss://` uses a CA made with openssl at test time;
 * the browser context ignores certificate errors (Playwright's `ignoreHTTPSErrors`).
 * Not-applicable cells are declared skipped with their reason, known limitations as
 * `test.fail` with the runtime's issue; the table is printed at the end.
 */
import { test, type Browser, type BrowserContext } from '@playwright/test';
import { BEHAVIOURS, cleanUp, planCell, type Cell, type ClientHandle } from '../test/matrix/behaviours.ts';
import { bundleBrowserDriver, loadDrivers, PageChannel, startPageServer } from '../test/matrix/browser/page_channel.ts';
import { makeCert, type MatrixCert } from '../test/matrix/cert.ts';
import { startServer, type RunningServer } from '../test/matrix/launch.ts';
import { BROWSER_CLIENTS, WSFLOW_SERVERS, type ClientKind } from '../test/matrix/peers.ts';
import { MatrixReport } from '../test/matrix/report.ts';

interface World {
  cert: MatrixCert;
  /** The origins of the two pages: `/guarded` allows the first. */
  origins: { allowed: string; refused: string };
  pageServers: Array<{ origin: string; close(): Promise<void> }>;
  servers: Map<string, RunningServer>;
  context: BrowserContext;
  /** Per client kind: its channel in the page on the allowed origin and in the one on the refused origin. */
  channels: Map<string, { allowed: PageChannel; refused: PageChannel }>;
}

/** The page driver of each browser client kind (browser_driver.ts). */
const DRIVER_OF: Record<string, string> = { chromium: 'websocket', 'chromium-stream': 'stream' };

let world: World | null = null;
const report = new MatrixReport(BEHAVIOURS);
const started = Date.now();

async function setUp(browser: Browser): Promise<World> {
  const cert = makeCert();
  const pageServers = await Promise.all([startPageServer(), startPageServer()]);
  const [allowedOrigin, refusedOrigin] = pageServers.map((p) => p.origin);
  const [servers, driver] = await Promise.all([
    Promise.all(WSFLOW_SERVERS.map((kind) => startServer(kind, cert, [allowedOrigin]))),
    bundleBrowserDriver(),
  ]);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const [allowedPage, refusedPage] = await Promise.all([context.newPage(), context.newPage()]);
  await Promise.all([loadDrivers(allowedPage, allowedOrigin, driver), loadDrivers(refusedPage, refusedOrigin, driver)]);
  const channels = new Map(
    BROWSER_CLIENTS.map((kind) => [
      kind.id,
      {
        allowed: new PageChannel(`${kind.id} (page on the allowed origin)`, allowedPage, DRIVER_OF[kind.id]),
        refused: new PageChannel(`${kind.id} (page on the refused origin)`, refusedPage, DRIVER_OF[kind.id]),
      },
    ]),
  );
  return { cert, origins: { allowed: allowedOrigin, refused: refusedOrigin }, pageServers, servers: new Map(servers.map((s) => [s.kind.id, s])), context, channels };
}

async function tearDown(w: World): Promise<void> {
  await w.context.close().catch(() => {});
  await Promise.all([...w.servers.values()].map((s) => s.process.stop()));
  await Promise.all(w.pageServers.map((p) => p.close()));
  w.cert.remove();
}

// The cells share the servers and the pages; playwright.config.ts runs one worker, in
// order (not 'serial' mode, which would skip every cell after a failing one; after a
// failure Playwright starts a new worker, which runs beforeAll again).
test.beforeAll(async ({ browser }) => {
  test.setTimeout(60_000);
  world = await setUp(browser);
});

test.afterAll(async () => {
  if (world !== null) await tearDown(world);
  world = null;
  const label = `interop matrix, Chromium client (${((Date.now() - started) / 1000).toFixed(1)} s)`;
  console.log(`${report.format(label)}\n`);
});

const PAIRS: Array<[ServerKindLike, ClientKind]> = WSFLOW_SERVERS.flatMap((s) => BROWSER_CLIENTS.map((c): [ServerKindLike, ClientKind] => [s, c]));
type ServerKindLike = (typeof WSFLOW_SERVERS)[number];

for (const [serverKind, clientKind] of PAIRS) {
  const row = `${serverKind.id} × ${clientKind.id}`;
  test.describe(`${serverKind.title} × ${clientKind.title}`, () => {
    for (const behaviour of BEHAVIOURS) {
      const plan = planCell(serverKind, clientKind, behaviour);
      report.plan(row, behaviour.id, plan);
      if (plan.status === 'n/a') {
        test.skip(`${behaviour.id}: n/a, ${plan.reason}`, () => {});
        continue;
      }
      const title = plan.status === 'known' ? `${behaviour.id}: known limitation, ${plan.limitation.issue}` : `${behaviour.id}: ${behaviour.title}`;
      test(title, async () => {
        if (plan.status === 'known') test.fail();
        test.setTimeout(behaviour.timeoutMs + 5000);
        const w = world;
        if (w === null) throw new Error('the matrix did not start');
        const server = w.servers.get(serverKind.id)!;
        const channels = w.channels.get(clientKind.id)!;
        const client: ClientHandle = {
          kind: clientKind,
          channel: channels.allowed,
          channelForOrigin: (which) => channels[which],
        };
        const cell: Cell = {
          server,
          client,
          tag: `${serverKind.id}.${clientKind.id}.${behaviour.id}`,
          ca: w.cert.ca,
          // What the pages send (channelForOrigin picks the page).
          origins: w.origins,
          opened: [],
          note: (text) => report.observe(row, behaviour.id, text),
        };
        let ok = false;
        try {
          await behaviour.run(cell);
          ok = true;
        } finally {
          await cleanUp(cell);
          report.record(row, behaviour.id, plan.status === 'known' ? (ok ? 'FAIL' : 'known') : ok ? 'ok' : 'FAIL');
        }
      });
    }
  });
}
