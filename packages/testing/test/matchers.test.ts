/**
 * The matchers under Vitest, installed with one line, on a TestServer, a TestConnection
 * and a client WebSocket, with their negative forms and their failure messages.
 */
import '@wsflow/testing/vitest';
import { TestServer, configureTestKit, watch } from '@wsflow/testing';
import { WebSocket } from '@wsflow/websocket';
import { afterEach, describe, expect, it } from 'vitest';

let counter = 0;
const url = (): string => `ws://matchers-${++counter}.test/`;

/** The message of the assertion error `run` fails with. */
async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the assertion passed');
}

afterEach(() => configureTestKit({ timeout: 2000 }));

describe('toReceiveMessage', () => {
  it('waits for the next message on a server, a connection and a client', async () => {
    const server = new TestServer(url(), { handler: (conn) => void (conn.onmessage = (m) => conn.send(`re: ${String(m)}`)) });
    // watch(): a client's messages are recorded from here (else from the first matcher on it).
    const ws = watch(new WebSocket(server.url));
    ws.onopen = () => ws.send('hello');
    await expect(server).toReceiveMessage('hello');
    await expect(ws).toReceiveMessage('re: hello');
    ws.send('again');
    await expect(server.connections[0]).toReceiveMessage('hello'); // the connection's own cursor
    await expect(server.connections[0]).toReceiveMessage('again');
  });

  it('fails naming what came instead, or that nothing came within the timeout', async () => {
    const server = new TestServer(url());
    const ws = new WebSocket(server.url);
    ws.onopen = () => ws.send('a');
    expect(await failure(() => expect(server).toReceiveMessage('b'))).toBe(`expected TestServer ${server.url.href} to receive "b", but the next message was "a" (received so far: 1 message: "a")`);
    expect(await failure(() => expect(server).toReceiveMessage('b', { timeout: 20 }))).toBe(
      `expected TestServer ${server.url.href} to receive "b", but: TestServer ${server.url.href}: no message within 20 ms (received so far: 1 message: "a")`,
    );
  });

  it('.not passes when another message comes or none does, and fails on the message', async () => {
    const server = new TestServer(url());
    const ws = new WebSocket(server.url);
    await expect(ws).toBeConnected(); // with the default timeout: the set-up is not what is tested
    configureTestKit({ timeout: 30 });
    await expect(server).not.toReceiveMessage('anything');
    ws.send('x');
    await expect(server).not.toReceiveMessage('y');
    ws.send('z');
    expect(await failure(() => expect(server).not.toReceiveMessage('z'))).toMatch(/not to receive "z", but it did/);
  });

  it("a client's message after a timed-out toReceiveMessage goes to the next one, not to the one that gave up", async () => {
    const server = new TestServer(url());
    const ws = watch(new WebSocket(server.url));
    const connection = await server.nextConnection();
    expect(await failure(() => expect(ws).toReceiveMessage('late', { timeout: 20 }))).toMatch(/no message within 20 ms/);
    connection.send('late');
    await expect(ws).toReceiveMessage('late');
  });

  it("waits for the server's timeout option on a server and its connections, not the test kit's", async () => {
    const server = new TestServer(url(), { timeout: 25 });
    const ws = new WebSocket(server.url);
    const connection = await server.nextConnection({ timeout: 2000 });
    expect(await failure(() => expect(server).toReceiveMessage('x'))).toMatch(/no message within 25 ms/);
    expect(await failure(() => expect(connection).toReceiveMessage('x'))).toMatch(/no message within 25 ms/);
    expect(await failure(() => expect(connection).toBeClosedWith(1000))).toMatch(/within 25 ms, but it is still open/);
    expect(await failure(() => expect(server).toHaveReceivedMessages(['x']))).toMatch(/in order within 25 ms/);
    expect(await failure(() => expect(server).toReceiveMessage('x', { timeout: 15 }))).toMatch(/no message within 15 ms/);
    ws.close();
  });

  it('compares JSON-mode messages deeply', async () => {
    const server = new TestServer<{ op: string; n: number }>(url(), { json: true });
    const ws = new WebSocket(server.url);
    ws.onopen = () => ws.send(JSON.stringify({ op: 'add', n: 2 }));
    await expect(server).toReceiveMessage({ op: 'add', n: 2 });
  });
});

describe('toHaveReceivedMessages', () => {
  it('passes when the messages came in this order, others between', async () => {
    const server = new TestServer(url());
    const ws = new WebSocket(server.url);
    ws.onopen = () => ['one', 'noise', 'two', 'three'].forEach((m) => ws.send(m));
    await expect(server).toHaveReceivedMessages(['one', 'two', 'three']);
    await expect(server).not.toHaveReceivedMessages(['three', 'one']);
  });

  it('fails naming the first missing message and what was received', async () => {
    const server = new TestServer(url());
    const ws = new WebSocket(server.url);
    ws.onopen = () => ws.send('one');
    await expect(server).toHaveReceivedMessages(['one']);
    configureTestKit({ timeout: 30 });
    expect(await failure(() => expect(server).toHaveReceivedMessages(['one', 'two']))).toBe(
      `expected TestServer ${server.url.href} to have received "one", "two" in order within 30 ms; 1 missing from "two" on (received so far: 1 message: "one")`,
    );
  });

  it('records a client WebSocket from when it is watched', async () => {
    const server = new TestServer(url(), { handler: (conn) => ['a', 'b', 'c'].forEach((m) => conn.send(m)) });
    const ws = new WebSocket(server.url);
    await expect(ws).toHaveReceivedMessages(['a', 'c']);
  });
});

describe('toBeClosedWith and toBeConnected', () => {
  it('waits for the close and checks its code and reason, on both ends', async () => {
    const server = new TestServer(url(), { handler: (conn) => void (conn.onmessage = () => conn.close({ closeCode: 4001, reason: 'done' })) });
    const ws = new WebSocket(server.url);
    await expect(ws).toBeConnected();
    await expect(server).toBeConnected();
    const client = server.connections[0]!;
    await expect(client).toBeConnected();
    ws.send('bye');
    await expect(ws).toBeClosedWith(4001, 'done');
    await expect(client).toBeClosedWith(4001);
    await expect(client).not.toBeClosedWith(1000);
    await expect(ws).not.toBeConnected();
    await expect(server).not.toBeConnected();
  });

  it('fails with what happened instead', async () => {
    const server = new TestServer(url());
    const ws = new WebSocket(server.url);
    await expect(ws).toBeConnected();
    configureTestKit({ timeout: 30 });
    expect(await failure(() => expect(ws).toBeClosedWith(1000))).toBe(`expected WebSocket ${server.url.href} to close with 1000 within 30 ms, but it is still open`);
    expect(await failure(() => expect(ws).not.toBeConnected())).toBe(`expected WebSocket ${server.url.href} not to be connected within 30 ms, but it still is`);
    ws.close(4000, 'why');
    expect(await failure(() => expect(ws).toBeClosedWith(1000, undefined, { timeout: 2000 }))).toBe(`expected WebSocket ${server.url.href} to close with 1000, but it closed with 4000 and reason "why"`);
  });

  it('refuses what it cannot match', async () => {
    await expect(expect(42).toReceiveMessage('x')).rejects.toThrow(/expected a TestServer, a TestConnection or a WebSocket, got 42/);
  });
});

describe('@wsflow/testing/vitest cleans up', () => {
  let leaked: TestServer | null = null;
  it('leaves a server listening at the end of a test', () => {
    leaked = new TestServer('ws://leak.test/').install();
  });
  it('finds it dropped, and the globals restored, in the next test', () => {
    expect(leaked!.listening).toBe(false);
    expect(globalThis.WebSocket).not.toBe(leaked!.WebSocket);
    new TestServer('ws://leak.test/'); // the URL is free again
  });
});
