/**
 * Playwright fixtures for the codec's browser specs:
 * - `codecServer` (one per worker): the node:http server of codec-server.ts;
 * - `loadCodec(module = 'index')`: opens the server's page, installs the helpers of
 *   `installPageHelpers` as `globalThis.h`, imports `/codec/<module>.js` as
 *   `globalThis.codec`, and returns the module's export names. After the test it checks
 *   that the page raised no uncaught error.
 */
import { test as base, expect } from '@playwright/test';
import type { Frame, PageHelpers } from './codec-api.ts';
import { startCodecServer, type CodecServer } from './codec-server.ts';

export { expect };

/**
 * Runs in the page (Playwright sends its source text), so it must be self-contained.
 */
function installPageHelpers(): void {
  const helpers: PageHelpers = {
    hex: (text) => Uint8Array.from(text.match(/[0-9a-f]{2}/gi) ?? [], (b) => parseInt(b, 16)),
    async pipe(stream, chunks) {
      const source = new ReadableStream({
        start(controller) {
          for (const c of chunks) controller.enqueue(c);
          controller.close();
        },
      });
      const out = [];
      const reader = source.pipeThrough(stream).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(r.value);
      return out;
    },
    concat(chunks) {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) (out.set(c, at), (at += c.length));
      return out;
    },
    plain: (f: Frame) => ({ fin: f.fin, rsv1: f.rsv1, rsv2: f.rsv2, rsv3: f.rsv3, opcode: f.opcode, payload: Array.from(f.payload) }),
  };
  globalThis.h = helpers;
}

export const test = base.extend<{ loadCodec: (module?: string) => Promise<string[]> }, { codecServer: CodecServer }>({
  codecServer: [
    async ({}, use) => {
      const server = await startCodecServer();
      await use(server);
      await server.close();
    },
    { scope: 'worker' },
  ],
  loadCodec: async ({ page, codecServer }, use) => {
    const pageErrors: Error[] = [];
    page.on('pageerror', (e) => pageErrors.push(e));
    await use(async (module = 'index') => {
      // Build first in Node: a build error then reads as esbuild's message, where the
      // browser would only report "Failed to fetch dynamically imported module".
      await codecServer.bundle(module);
      await page.goto(codecServer.url);
      await page.evaluate(installPageHelpers);
      return page.evaluate(`import('/codec/${module}.js').then((m) => { globalThis.codec = m; return Object.keys(m).sort(); })`);
    });
    expect(pageErrors.map(String), 'uncaught errors in the page').toEqual([]);
  },
});
