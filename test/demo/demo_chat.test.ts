// The demo's chat room (demo/server.ts) is one topic: a chat line is published once to the
// room, so every page in it, the sender included, gets the very same message, byte for
// byte. The demo runs as its own process on a port the OS picks; three `ws` clients stand
// in for three pages.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { REPO_ROOT } from '../../tools/run_tool.ts';
import { until } from '../until.ts';

const TEST_TIMEOUT = 30_000;

interface Page {
  ws: WebSocket;
  name: string;
  /** Every text message received after the welcome, as sent. */
  received: string[];
}

let demo: ChildProcess;
let exited: Promise<number | null>;
let base: string;
let output = '';

beforeAll(async () => {
  demo = spawn(process.execPath, ['demo/server.ts', '--port', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  demo.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
  demo.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
  exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 10 s:\n${output}`)), 10_000);
    demo.stdout!.on('data', () => {
      const m = /wsflow demo on http:\/\/(127\.0\.0\.1:\d+)\//.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(`ws://${m[1]}/ws`);
      }
    });
    void exited.then((code) => reject(new Error(`the demo exited (${code}):\n${output}`)));
  });
}, TEST_TIMEOUT);

afterAll(async () => {
  if (demo !== undefined && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGTERM');
    await exited;
  }
});

function join(): Promise<Page> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base);
    const page: Page = { ws, name: '', received: [] };
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = (data as Buffer).toString('utf8');
      const m = JSON.parse(text) as { type: string; name?: string };
      if (m.type === 'welcome') {
        page.name = m.name!;
        resolve(page);
      } else page.received.push(text);
    });
    ws.once('error', reject);
  });
}

describe('demo chat room (demo/server.ts)', () => {
  test(
    'a chat line is published to the room: the same message reaches the two other pages and the sender',
    async () => {
      const one = await join();
      const two = await join();
      const three = await join();
      // Everyone saw the others join (presence is published to the room too).
      await until(() => two.received.some((t) => t.includes(`"name":"${three.name}"`)), 'presence of page three');

      one.ws.send('hello room');
      const chats = (p: Page): string[] => p.received.filter((t) => JSON.parse(t).type === 'chat');
      await until(() => [one, two, three].every((p) => chats(p).length === 1), 'the chat line on every page');
      const [line] = chats(one);
      expect(JSON.parse(line)).toMatchObject({ type: 'chat', from: one.name, text: 'hello room' });
      // Framed once for the room: byte for byte the same on every page, the sender's echo too.
      expect(chats(two)).toEqual([line]);
      expect(chats(three)).toEqual([line]);

      for (const p of [one, two, three]) p.ws.close(1000);
    },
    TEST_TIMEOUT,
  );

  test(
    'presence counts the pages in the room, and a page that left gets nothing more',
    async () => {
      const one = await join();
      const two = await join();
      await until(() => one.received.some((t) => t.includes(`"name":"${two.name}"`)), 'presence of page two');
      const joinedTwo = JSON.parse(one.received.find((t) => t.includes(`"name":"${two.name}"`))!) as { online: number };
      const closed = new Promise((resolve) => two.ws.once('close', resolve));
      two.ws.close(1000);
      await closed;
      await until(() => one.received.some((t) => t.includes('"event":"left"') && t.includes(`"name":"${two.name}"`)), 'presence: two left');
      const left = JSON.parse(one.received.find((t) => t.includes('"event":"left"') && t.includes(`"name":"${two.name}"`))!) as { online: number };
      expect(left.online).toBe(joinedTwo.online - 1);
      const before = two.received.length;
      one.ws.send('after two left');
      await until(() => one.received.some((t) => t.includes('after two left')), 'the echo');
      expect(two.received.length).toBe(before);
      one.ws.close(1000);
    },
    TEST_TIMEOUT,
  );
});
