/**
 * The demo (`npm start`) in a real Chromium: demo/server.ts runs as its own process on a
 * free port; two pages chat over the browser's native WebSocket, each sees its frame
 * log, and SIGTERM closes them with 1001 before the process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';

const root = fileURLToPath(new URL('..', import.meta.url));
const SCREENSHOT = '/tmp/demo.png';

/** A Node that runs .ts directly: this one if it is new enough, else the repository's Node 24. */
function nodeForTypeScript(): string {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 23 || (major === 23 && minor >= 6)) return process.execPath;
  const local = `${root}node_modules/.bin/node`;
  return existsSync(local) ? local : 'node';
}

interface Demo {
  process: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startDemo(): Promise<Demo> {
  const child = spawn(nodeForTypeScript(), ['demo/server.ts', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 10 s:\n${output}`)), 10_000);
    const check = (): void => {
      const m = /wsflow demo on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(output);
      if (m && m[2] !== '0') {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}) before listening:\n${output}`));
    });
  });
  return { process: child, url, output: () => output, exited };
}

let demo: Demo;

test.beforeAll(async () => {
  demo = await startDemo();
});

test.afterAll(async () => {
  if (demo !== undefined && demo.process.exitCode === null && demo.process.signalCode === null) {
    demo.process.kill('SIGKILL');
    await demo.exited;
  }
});

async function openPage(page: Page, errors: string[]): Promise<void> {
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.goto(demo.url);
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'open');
  await expect(page.locator('#who')).toHaveText(/^you are guest-\d+$/);
}

test('chat over the native WebSocket: echo, broadcast, frame log, ping, graceful shutdown', async ({ browser }) => {
  const errors: string[] = [];
  const one = await (await browser.newContext()).newPage();
  const two = await (await browser.newContext()).newPage();
  await openPage(one, errors);
  await openPage(two, errors);
  const oneName = ((await one.locator('#who').textContent()) ?? '').replace('you are ', '');

  // The page's welcome frame was already logged, replayed from the server's log.
  const oneFrames = one.locator('#frame-log tbody tr');
  await expect(oneFrames.filter({ hasText: 'welcome' })).toHaveCount(1);

  const text = 'hello from page one';
  await one.locator('#text').fill(text);
  await one.locator('#send').click();

  // Echoed to the sender…
  await expect(one.locator('#messages li.self')).toContainText(text);
  // …and broadcast to the other page.
  const received = two.locator('#messages li.other');
  await expect(received).toContainText(text);
  await expect(received.locator('.from')).toHaveText(oneName);

  // The frame log shows the masked text frame that came in, byte for byte…
  const incoming = one.locator('#frame-log tbody tr[data-dir="in"][data-op="text"]');
  await expect(incoming).toHaveCount(1);
  const cells = await incoming.locator('td').allTextContents();
  expect(cells.slice(2, 6)).toEqual(['text (0x1)', '1', '1', String(text.length)]);
  expect(cells[6]).toContain('68 65 6c 6c 6f 20 66 72 6f 6d 20 70 61 67 65 20'); // "hello from page " (16 octets shown)
  // …and the unmasked chat frame that went out.
  const outgoing = one.locator('#frame-log tbody tr[data-dir="out"][data-op="text"]').filter({ hasText: '"type":"chat"' });
  await expect(outgoing).toHaveCount(1);
  expect((await outgoing.locator('td').allTextContents())[4]).toBe('0');

  // Control frames: a binary "ping me", the server's Ping, the browser's automatic Pong.
  await one.locator('#ping').click();
  await expect(one.locator('#messages li.info').filter({ hasText: 'round trip' })).toHaveCount(1);
  await expect(one.locator('#frame-log tbody tr[data-dir="out"][data-op="ping"]')).toHaveCount(1);
  await expect(one.locator('#frame-log tbody tr[data-dir="in"][data-op="pong"]')).toHaveCount(1);
  await expect(one.locator('#frame-log tbody tr[data-dir="in"][data-op="binary"]')).toContainText('01');

  await one.screenshot({ path: SCREENSHOT, fullPage: true });

  // SIGTERM: every page gets 1001, and the process ends by itself.
  demo.process.kill('SIGTERM');
  await expect(one.locator('#status')).toHaveText(/closed: 1001 server shutting down/);
  await expect(two.locator('#status')).toHaveText(/closed: 1001/);
  expect(await demo.exited, demo.output()).toBe(0);
  expect(demo.output()).toContain('bye');
  expect(errors, 'uncaught errors in the pages').toEqual([]);
});
