// The end of a tool server on SIGINT/SIGTERM (tools/tool_lifecycle.ts), shared by
// tools/echo.ts, tools/fanout_server.ts and the Deno and Bun bins: driven here through a
// recording ProcessHost, with fake timers for the grace period.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { closeOnSignal, listeningLine, SHUTDOWN_GRACE, type ProcessHost, type StopSignal } from '../../tools/tool_lifecycle.ts';

/** A host that records what the shutdown wrote and how it exited, and lets the test raise signals. */
function recordingHost(exitWhenClosed: boolean) {
  const listeners = new Map<StopSignal, () => void>();
  const written: string[] = [];
  const exits: number[] = [];
  const host: ProcessHost = {
    writeError: (line) => void written.push(line),
    exit: (code) => void exits.push(code),
    onSignal: (signal, listener) => {
      listeners.set(signal, listener);
      return () => listeners.delete(signal);
    },
    exitWhenClosed,
  };
  const raise = (signal: StopSignal): void => listeners.get(signal)!();
  return { host, written, exits, listeners, raise };
}

/** A server whose close the test settles. */
function controlledServer() {
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  let closes = 0;
  const server = {
    close: () => {
      closes++;
      return new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    },
  };
  return { server, settle: () => settle, closes: () => closes };
}

/** `closeOnSignal(tool, …)` on a controlled server and a recording host, with `signals` raised. */
function signalled(tool: string, signals: StopSignal[], exitWhenClosed = true) {
  const recorder = recordingHost(exitWhenClosed);
  const closable = controlledServer();
  closeOnSignal(tool, closable.server, recorder.host);
  const listenedTo = [...recorder.listeners.keys()].sort();
  for (const signal of signals) recorder.raise(signal);
  return { ...recorder, ...closable, listenedTo };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('closeOnSignal', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('%s closes the server, says so, and exits 0 once it is closed', async (signal) => {
    const s = signalled('echo', [signal]);
    const { written, exits } = s;
    expect(written).toEqual([`echo: ${signal}, closing`]);
    expect(s.closes()).toBe(1);
    expect(exits).toEqual([]);
    s.settle().resolve();
    await vi.runAllTimersAsync();
    expect(exits).toEqual([0]);
    expect(written).toEqual([`echo: ${signal}, closing`]);
  });

  test('a second signal exits 1 at once, without closing again', () => {
    const s = signalled('fanout-server', ['SIGTERM', 'SIGINT']);
    const { written, exits } = s;
    expect(written).toEqual(['fanout-server: SIGTERM, closing', 'fanout-server: SIGINT again, exiting at once']);
    expect(exits).toEqual([1]);
    expect(s.closes()).toBe(1);
  });

  test(`a server that does not close within ${SHUTDOWN_GRACE} ms exits 0 anyway`, async () => {
    const { written, exits } = signalled('echo', ['SIGINT']);
    await vi.advanceTimersByTimeAsync(SHUTDOWN_GRACE - 1);
    expect(exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(exits).toEqual([0]);
    expect(written.at(-1)).toBe('echo: connections did not close in time, exiting');
  });

  test('a failed close exits 1 naming the error', async () => {
    const s = signalled('echo', ['SIGTERM']);
    const { written, exits } = s;
    s.settle().reject(new Error('boom'));
    await vi.advanceTimersByTimeAsync(0);
    expect(exits).toEqual([1]);
    expect(written.at(-1)).toBe('echo: closing failed: Error: boom');
  });

  test('a host that does not exit when closed stops listening for the signals and lets the grace timer go', async () => {
    const s = signalled('echo', ['SIGINT'], false);
    const { exits, listeners } = s;
    expect(s.listenedTo).toEqual(['SIGINT', 'SIGTERM']);
    s.settle().resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(listeners.size).toBe(0);
    // The grace timer was cleared: no late "did not close in time" exit.
    await vi.advanceTimersByTimeAsync(SHUTDOWN_GRACE * 2);
    expect(exits).toEqual([]);
  });
});

describe('listeningLine', () => {
  test('names the address the server listens on, an IPv6 address in brackets', () => {
    expect(listeningLine('127.0.0.1', 9001)).toBe('listening on ws://127.0.0.1:9001');
    expect(listeningLine('::1', 0)).toBe('listening on ws://[::1]:0');
  });
});
