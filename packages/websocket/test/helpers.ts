/**
 * Shared helpers of the websocket package's tests: unique URLs, servers stopped after
 * each test, and an event recorder that notes the ready state at each event.
 */
import { afterEach, expect } from 'vitest';
import { TestServer, type TestServerOptions, type WebSocket } from '../src/index.ts';

let counter = 0;

/** A URL no other test uses: `ws://<name>-<n>.test/`. */
export function uniqueUrl(name = 'server', path = '/'): string {
  counter++;
  return `ws://${name}-${counter}.test${path}`;
}

const servers: TestServer[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) server.dropAll();
});

/** A TestServer on a unique URL, dropped after the test. */
export function startServer(options: TestServerOptions = {}, url = uniqueUrl()): TestServer {
  const server = new TestServer(url, options);
  servers.push(server);
  return server;
}

/** Records a WebSocket's events as strings, with the ready state each saw. */
export function record(ws: WebSocket): string[] {
  const log: string[] = [];
  ws.addEventListener('open', () => log.push(`open(${ws.readyState})`));
  ws.addEventListener('message', (event) => {
    const data: unknown = event.data;
    const shown = typeof data === 'string' ? data : data instanceof ArrayBuffer ? `ArrayBuffer(${data.byteLength})` : `Blob(${(data as Blob).size})`;
    log.push(`message(${shown})`);
  });
  ws.addEventListener('error', () => log.push(`error(${ws.readyState})`));
  ws.addEventListener('close', (event) => log.push(`close(${event.code},${JSON.stringify(event.reason)},${event.wasClean},${ws.readyState})`));
  return log;
}

/** Resolves with the next event of `type`. */
export function nextEvent<E extends Event = Event>(target: EventTarget, type: string): Promise<E> {
  return new Promise((resolve) => target.addEventListener(type, (event) => resolve(event as E), { once: true }));
}

/** Runs `fn`, expecting a DOMException named `name`. */
export function expectDOMException(fn: () => unknown, name: string): DOMException {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DOMException);
  expect((thrown as DOMException).name).toBe(name);
  return thrown as DOMException;
}

/** Awaits a promise expected to reject; returns the reason. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** The bytes of a Blob, as an array of numbers. */
export async function blobBytes(blob: Blob): Promise<number[]> {
  return Array.from(new Uint8Array(await blob.arrayBuffer()));
}
