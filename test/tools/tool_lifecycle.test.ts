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

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('closeOnSignal', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('%s closes the server, says so, and exits 0 once it is closed', async (signal) => {
    const { host, written, exits, raise } = recordingHost(true);
    const s = controlledServer();
    closeOnSignal('echo', s.server, host);
    raise(signal);
    expect(written).toEqual([`echo: ${signal}, closing`]);
    expect(s.closes()).toBe(1);
    expect(exits).toEqual([]);
    s.settle().resolve();
    await vi.runAllTimersAsync();
    expect(exits).toEqual([0]);
    expect(written).toEqual([`echo: ${signal}, closing`]);
  });

  test('a second signal exits 1 at once, without closing again', () => {
    const { host, written, exits, raise } = recordingHost(true);
    const s = controlledServer();
    closeOnSignal('fanout-server', s.server, host);
    raise('SIGTERM');
    raise('SIGINT');
    expect(written).toEqual(['fanout-server: SIGTERM, closing', 'fanout-server: SIGINT again, exiting at once']);
    expect(exits).toEqual([1]);
    expect(s.closes()).toBe(1);
  });

  test(`a server that does not close within ${SHUTDOWN_GRACE} ms exits 0 anyway`, async () => {
    const { host, written, exits, raise } = recordingHost(true);
    closeOnSignal('echo', controlledServer().server, host);
    raise('SIGINT');
    await vi.advanceTimersByTimeAsync(SHUTDOWN_GRACE - 1);
    expect(exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(exits).toEqual([0]);
    expect(written.at(-1)).toBe('echo: connections did not close in time, exiting');
  });

  test('a failed close exits 1 naming the error', async () => {
    const { host, written, exits, raise } = recordingHost(true);
    const s = controlledServer();
    closeOnSignal('echo', s.server, host);
    raise('SIGTERM');
    s.settle().reject(new Error('boom'));
    await vi.advanceTimersByTimeAsync(0);
    expect(exits).toEqual([1]);
    expect(written.at(-1)).toBe('echo: closing failed: Error: boom');
  });

  test('a host that does not exit when closed stops listening for the signals and lets the grace timer go', async () => {
    const { host, exits, listeners, raise } = recordingHost(false);
    const s = controlledServer();
    closeOnSignal('echo', s.server, host);
    expect([...listeners.keys()].sort()).toEqual(['SIGINT', 'SIGTERM']);
    raise('SIGINT');
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
