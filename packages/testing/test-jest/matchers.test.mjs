// The matchers under Jest, installed with one line, and Jest's fake timers.
import '@wsflow/testing/jest';
import { jest } from '@jest/globals';
import { TestServer, watch } from '@wsflow/testing';
import { WebSocket } from '@wsflow/websocket';

let counter = 0;
const url = () => `ws://jest-${++counter}.test/`;

test('toReceiveMessage and toHaveReceivedMessages on a server and a client', async () => {
  const server = new TestServer(url(), { handler: (conn) => void (conn.onmessage = (m) => conn.send(`re: ${m}`)) });
  const ws = watch(new WebSocket(server.url));
  ws.onopen = () => {
    ws.send('one');
    ws.send('two');
  };
  await expect(server).toReceiveMessage('one');
  await expect(server).toHaveReceivedMessages(['one', 'two']);
  await expect(ws).toHaveReceivedMessages(['re: one', 're: two']);
  await expect(server).not.toReceiveMessage('three', { timeout: 30 });
});

test('toBeConnected and toBeClosedWith, with .not', async () => {
  const server = new TestServer(url());
  const ws = watch(new WebSocket(server.url));
  await expect(ws).toBeConnected();
  const client = await server.nextConnection();
  client.close(4000, 'done');
  await expect(ws).toBeClosedWith(4000, 'done');
  await expect(ws).not.toBeClosedWith(1000);
  await expect(ws).not.toBeConnected();
});

test('a failing matcher says what it waited for', async () => {
  const server = new TestServer(url());
  await expect(expect(server).toReceiveMessage('hello', { timeout: 25 })).rejects.toThrow(
    `expected TestServer ${server.url.href} to receive "hello", but: TestServer ${server.url.href}: no message within 25 ms (received so far: none)`,
  );
});

test('waits end under jest.useFakeTimers() (jest-websocket-mock hangs here)', async () => {
  jest.useFakeTimers();
  try {
    const server = new TestServer(url());
    new WebSocket(server.url);
    const client = await server.nextConnection();
    await expect(client.nextMessage({ timeout: 25 })).rejects.toThrow(/no message within 25 ms/);
  } finally {
    jest.useRealTimers();
  }
});

let leaked;
test('leaves a server listening', () => {
  leaked = new TestServer('ws://jest-leak.test/');
});
test('finds it dropped by the entry\'s afterEach', () => {
  expect(leaked.listening).toBe(false);
});
