// The one-room fan-out server (tools/fanout_server.ts, `npm run fanout-server`) on each
// runtime, as a child process on a port the OS picks, with three `ws` clients: what one
// sends reaches the others and not itself, binary stays binary, and a client that leaves
// stops receiving.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTool, type RunningTool } from '../../tools/run_tool.ts';
import { until } from '../until.ts';

const TEST_TIMEOUT = 45_000;
const START = { startTimeout: 20_000, timeout: 90_000 };

interface Received {
  text: string;
  isBinary: boolean;
}

/** A client that records every message it receives. */
interface Client {
  ws: WebSocket;
  received: Received[];
}

function open(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const received: Received[] = [];
    ws.on('message', (data, isBinary) => received.push({ text: (data as Buffer).toString('latin1'), isBinary }));
    ws.once('open', () => resolve({ ws, received }));
    ws.once('error', reject);
  });
}

/** A message sent to the whole room and back to the sender only, to know the room has settled. */
async function roundTrip(from: Client, others: Client[], marker: string): Promise<void> {
  from.ws.send(marker);
  await until(() => others.every((c) => c.received.some((m) => m.text === marker)), `${marker} to reach every other client`);
}

describe.each(['node', 'deno', 'bun'])('fan-out server (tools/fanout_server.ts --runtime %s)', (runtime) => {
  let server: RunningTool;
  let a: Client;
  let b: Client;
  let c: Client;

  beforeAll(async () => {
    server = await startTool('fanout_server.ts', ['--runtime', runtime, '--port', '0'], START);
    a = await open(server.url);
    b = await open(server.url);
    c = await open(server.url);
  }, TEST_TIMEOUT);

  afterAll(async () => {
    for (const client of [a, b, c]) client?.ws.terminate();
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('--port 0 prints the port the OS chose', () => {
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(server.output().stdout).toBe(`listening on ${server.url}\n`);
  });

  test("a text message reaches every other client as text, not its sender", async () => {
    await roundTrip(a, [b, c], 'hello room');
    for (const client of [b, c]) expect(client.received.filter((m) => m.text === 'hello room')).toEqual([{ text: 'hello room', isBinary: false }]);
    // B's message reaches A: A is in the room; A got nothing of its own.
    await roundTrip(b, [a, c], 'from b');
    expect(a.received.map((m) => m.text)).toEqual(['from b']);
  }, TEST_TIMEOUT);

  test('a binary message reaches the others as binary', async () => {
    const payload = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    c.ws.send(payload, { binary: true });
    const expected = { text: payload.toString('latin1'), isBinary: true };
    await until(() => [a, b].every((x) => x.received.some((m) => m.isBinary)), 'the binary message');
    for (const client of [a, b]) expect(client.received.filter((m) => m.isBinary)).toEqual([expected]);
    expect(c.received.some((m) => m.isBinary)).toBe(false);
  }, TEST_TIMEOUT);

  test('a client that left stops receiving; the others still do', async () => {
    const closed = new Promise((resolve) => c.ws.once('close', resolve));
    c.ws.close(1000);
    await closed;
    const before = c.received.length;
    await roundTrip(a, [b], 'after c left');
    // And B's answer reaches A: the room still works both ways without C.
    await roundTrip(b, [a], 'b still here');
    expect(c.received.length).toBe(before);
    expect(c.received.some((m) => m.text === 'after c left' || m.text === 'b still here')).toBe(false);
  }, TEST_TIMEOUT);

  test('SIGTERM closes the remaining clients with 1001 and exits 0', async () => {
    const codes = [a, b].map((x) => new Promise<number>((resolve) => x.ws.once('close', (code) => resolve(code))));
    server.child.kill('SIGTERM');
    expect(await Promise.all(codes)).toEqual([1001, 1001]);
    const result = await server.exited;
    expect(result.code).toBe(0);
  }, TEST_TIMEOUT);
});
