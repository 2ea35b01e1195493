// The hub hands each accepted connection over with its request, built only when asked for:
// a WHATWG Request costs more than the rest of a handshake.
import { describe, expect, it } from 'vitest';
import type { WebSocketConnection } from '@wsflow/codec';
import { ConnectionHub } from '../src/connection_hub.ts';
import type { PendingConnection } from '../src/pending_connection.ts';

function pending(): PendingConnection & { started: number } {
  const fake = { started: 0, connection: {} as WebSocketConnection, start: () => void fake.started++ };
  return fake;
}

function counted(): { request: () => string; built: () => number } {
  let built = 0;
  return {
    request: () => {
      built++;
      return 'the request';
    },
    built: () => built,
  };
}

const report = (): void => {};
const later = (callback: () => void): void => void setTimeout(callback, 0);

describe('ConnectionHub: the request of an accepted connection', () => {
  it('is not built for a handler that takes only the connection', () => {
    const seen: unknown[] = [];
    const hub = new ConnectionHub<string>((connection) => void seen.push(connection), report, later);
    const { request, built } = counted();
    const one = pending();
    hub.deliver(one, request, { remoteAddress: undefined });
    expect(seen).toEqual([one.connection]);
    expect(built()).toBe(0);
    expect(one.started).toBe(1);
  });

  it('is built once for a handler that declares it', () => {
    const seen: unknown[] = [];
    const hub = new ConnectionHub<string>((_connection, request) => void seen.push(request), report, later);
    const { request, built } = counted();
    hub.deliver(pending(), request, { remoteAddress: undefined });
    expect(seen).toEqual(['the request']);
    expect(built()).toBe(1);
  });

  it('is built for a handler with a rest parameter (whose length is 0)', () => {
    const seen: unknown[] = [];
    const hub = new ConnectionHub<string>((...args: unknown[]) => void seen.push(args[1]), report, later);
    const { request, built } = counted();
    hub.deliver(pending(), request, { remoteAddress: undefined });
    expect(seen).toEqual(['the request']);
    expect(built()).toBe(1);
  });

  it("ignores what a handler returns unless it is a promise (a send's boolean is fine)", () => {
    const hub = new ConnectionHub<string>(() => true, report, later);
    const one = pending();
    hub.deliver(one, counted().request, { remoteAddress: undefined });
    expect(one.started).toBe(1);
  });

  it('is built when the iteration reads it, once', async () => {
    const hub = new ConnectionHub<string>(undefined, report, later);
    const { request, built } = counted();
    hub.deliver(pending(), request, { remoteAddress: undefined });
    const { value } = await hub[Symbol.asyncIterator]().next();
    expect(built()).toBe(0);
    expect(value.request).toBe('the request');
    expect(value.request).toBe('the request');
    expect(built()).toBe(1);
  });
});
