/**
 * A {@link Channel} to the browser driver in a Playwright page, plus the tiny page server
 * it is loaded from (one per origin: the matrix needs an allowed and a refused one).
 * @module
 */
import { build } from 'esbuild';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CommandError, type Channel } from '../processes.ts';

/** Something with Playwright's `page.evaluate` (kept structural: no Playwright import here). */
export interface EvaluatingPage {
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  goto(url: string): Promise<unknown>;
  addScriptTag(options: { content: string }): Promise<unknown>;
  close(): Promise<void>;
}

/** The browser driver bundled for a page (an IIFE that installs `__matrixDriver`). */
export async function bundleBrowserDriver(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./browser_driver.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** A page server on 127.0.0.1 (its own origin): a blank page at `/`. */
export async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end('<!doctype html><meta charset="utf-8"><title>wsflow matrix</title><p>wsflow interop matrix</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Opens `origin` in `page` and installs the drivers (browser_driver.ts). */
export async function loadDrivers(page: EvaluatingPage, origin: string, driverSource: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.addScriptTag({ content: driverSource });
}

/** Driver commands run in the page with `page.evaluate`, by one of its drivers (`websocket`, `stream`). */
export class PageChannel implements Channel {
  readonly label: string;
  readonly #page: EvaluatingPage;
  readonly #driver: string;

  constructor(label: string, page: EvaluatingPage, driver: string) {
    this.label = label;
    this.#page = page;
    this.#driver = driver;
  }

  async request<T = Record<string, unknown>>(command: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label}: no answer to ${JSON.stringify(command).slice(0, 200)} within ${timeoutMs} ms`)), timeoutMs);
    });
    // Errors thrown in the page come back as plain messages: the answer carries them instead.
    const run = this.#page.evaluate(
      async ([name, c]: [string, Record<string, unknown>]) => {
        const drivers = (globalThis as unknown as { __matrixDrivers: Record<string, { handle(c: unknown): Promise<Record<string, unknown>> }> }).__matrixDrivers;
        try {
          const driver = drivers[name];
          if (driver === undefined) throw new Error(`this browser has no ${name} driver`);
          return { ok: true, result: await driver.handle(c) };
        } catch (error) {
          return { ok: false, error: String((error as Error)?.message ?? error) };
        }
      },
      [this.#driver, command] as [string, Record<string, unknown>],
    );
    try {
      const answer = (await Promise.race([run, timeout])) as { ok: boolean; result?: T; error?: string };
      if (!answer.ok) throw new CommandError(answer.error ?? 'failed');
      return answer.result as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The page outlives its channels: the runner closes it. */
  async stop(): Promise<void> {
    await this.request({ op: 'exit' }, 5000).catch(() => {});
  }
}
