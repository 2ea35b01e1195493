/**
 * A Playwright fixture that routes a page's WebSockets — Web Workers' included — to a
 * handler running in the test process, with real frames: Chromium is launched with
 * `--host-resolver-rules` mapping the fixture's host names (default `app.example`) to a
 * loopback `serve()` of `@wsflow/node` on 127.0.0.1 (port 0), so every handshake and
 * frame goes through Chromium's own network stack and wsflow's codec and engine — the
 * production path — unlike `page.routeWebSocket`, which mocks at the message level and
 * does not see workers.
 *
 * Limits: Chromium only (the launch flag); `ws:` and `http:` only (no TLS on the loopback
 * server); the host names are fixed per Playwright worker (`wsflowHosts` option); every
 * request to them, plain HTTP included, reaches the fixture's server (answered by the
 * test's `fetch`, else 426/404).
 * @module
 */
import { test as base, type PlaywrightWorkerOptions } from '@playwright/test';
import type { ConnectionHandler, FetchHandler, ServerOptions } from '@wsflow/engine';
import { serve } from '@wsflow/node';

/** What a test routes to: the handler of `serve()`, unchanged, and optionally plain HTTP. */
export interface WsflowRouteOptions extends Pick<ServerOptions, 'handleProtocols' | 'allowedOrigins' | 'authorize'> {
  /** The WebSocket handler, as written for `serve()`. */
  handler: ConnectionHandler;
  /** Answers plain HTTP requests to the mapped hosts (e.g. the page itself). Default: 404. */
  fetch?: FetchHandler;
}

/** The per-test side of the fixture. */
export interface WsflowRoute {
  /** Routes WebSockets (and HTTP) to the mapped hosts to this handler until the test ends. */
  handle(options: WsflowRouteOptions): void;
  /** The loopback server's real URL, e.g. `ws://127.0.0.1:41234/`. */
  readonly serverUrl: string;
  /** The host names routed. */
  readonly hosts: readonly string[];
}

interface LoopbackServer {
  port: number;
  url: string;
  current: WsflowRouteOptions | null;
}

const notRouted: FetchHandler = () => new Response('wsflow fixture: no fetch handler for this test\n', { status: 404 });

/**
 * Playwright's `test` with the `wsflow` fixture.
 * @example
 * ```ts
 * import { test, expect } from '@wsflow/testing/playwright';
 * test('chat', async ({ page, wsflow }) => {
 *   wsflow.handle({ handler: chatHandler, fetch: () => new Response('<p>app</p>', { headers: { 'content-type': 'text/html' } }) });
 *   await page.goto('http://app.example/');
 *   // the page's `new WebSocket('ws://app.example/chat')` now runs chatHandler in this process
 * });
 * ```
 */
export const test = base.extend<{ wsflow: WsflowRoute }, { wsflowHosts: string[]; wsflowServer: LoopbackServer }>({
  wsflowHosts: [['app.example'], { scope: 'worker', option: true }],

  wsflowServer: [
    async ({}, use) => {
      const state: LoopbackServer = { port: 0, url: '', current: null };
      const server = await serve({
        port: 0,
        host: '127.0.0.1',
        handler: (conn, request) => {
          const route = state.current;
          if (route === null) {
            conn.close({ closeCode: 1011, reason: 'no handler routed' });
            return;
          }
          return route.handler(conn, request);
        },
        handleProtocols: (offered, request) => state.current?.handleProtocols?.(offered, request) ?? null,
        allowedOrigins: (origin, request) => {
          const allowed = state.current?.allowedOrigins;
          if (allowed === undefined) return true;
          return typeof allowed === 'function' ? allowed(origin, request) : origin !== undefined && allowed.includes(origin);
        },
        authorize: (request) => state.current?.authorize?.(request),
        fetch: (request, info) => (state.current?.fetch ?? notRouted)(request, info),
        perMessageDeflate: true,
      });
      state.port = server.port;
      state.url = server.url;
      await use(state);
      await server.close();
    },
    { scope: 'worker' },
  ],

  launchOptions: [
    async ({ launchOptions, wsflowServer, wsflowHosts }: { launchOptions: PlaywrightWorkerOptions['launchOptions']; wsflowServer: LoopbackServer; wsflowHosts: string[] }, use: (options: PlaywrightWorkerOptions['launchOptions']) => Promise<void>) => {
      const rules = wsflowHosts.map((host) => `MAP ${host} 127.0.0.1:${wsflowServer.port}`).join(',');
      await use({ ...launchOptions, args: [...(launchOptions.args ?? []), `--host-resolver-rules=${rules}`] });
    },
    { scope: 'worker' },
  ],

  wsflow: async ({ wsflowServer, wsflowHosts }, use) => {
    const route: WsflowRoute = {
      handle: (options) => {
        wsflowServer.current = options;
      },
      serverUrl: wsflowServer.url,
      hosts: wsflowHosts,
    };
    await use(route);
    wsflowServer.current = null;
  },
});

export { expect } from '@playwright/test';
