// The deadline of an opening handshake: a timeout on injected timers, an outer signal and
// explicit stops, merged into one reason that the handshake's async steps race against.
import { describe, expect, it } from 'vitest';
import { HandshakeDeadline } from '../src/handshake_deadline.ts';
import { manualTimers } from '../../codec/test/manual_timers.ts';

/** A promise and its settlers. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('HandshakeDeadline.forServer', () => {
  it('stops with TIMEOUT when the timeout expires, aborting its signal with the code', () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forServer(1000, timers);
    timers.advance(999);
    expect(deadline.stopped).toBe(false);
    timers.advance(1);
    expect([deadline.stopped, deadline.reason, deadline.signal.aborted, deadline.signal.reason]).toEqual([true, 'TIMEOUT', true, 'TIMEOUT']);
  });

  it('stops with SHUTTING_DOWN when the shutdown signal aborts, whatever its reason', () => {
    const timers = manualTimers();
    const shutdown = new AbortController();
    const deadline = HandshakeDeadline.forServer(1000, timers, shutdown.signal);
    shutdown.abort(new Error('closing'));
    expect(deadline.reason).toBe('SHUTTING_DOWN');
    expect(timers.pending).toBe(0);
  });

  it('is stopped from the start when shutdown already happened, and starts no timer', () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forServer(1000, timers, AbortSignal.abort());
    expect(deadline.reason).toBe('SHUTTING_DOWN');
    expect(timers.delays).toEqual([]);
  });

  it('keeps the first reason: a later timeout or stop changes nothing', () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forServer(1000, timers);
    deadline.stop('SOCKET_CLOSED');
    deadline.stop('OTHER');
    timers.advance(1000);
    expect(deadline.reason).toBe('SOCKET_CLOSED');
  });

  it('dispose clears the timer and detaches from the shutdown signal, without stopping', () => {
    const timers = manualTimers();
    const shutdown = new AbortController();
    const deadline = HandshakeDeadline.forServer(1000, timers, shutdown.signal);
    deadline.dispose();
    deadline.dispose();
    expect(timers.pending).toBe(0);
    shutdown.abort();
    timers.advance(2000);
    expect(deadline.stopped).toBe(false);
  });
});

describe('HandshakeDeadline.forClient', () => {
  it('stops with a TimeoutError DOMException naming the timeout', () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forClient(250, timers);
    timers.advance(250);
    expect(deadline.reason).toBeInstanceOf(DOMException);
    expect(deadline.reason).toMatchObject({ name: 'TimeoutError', message: 'The opening handshake did not complete within 250 ms' });
  });

  it("stops with the caller's abort reason, or an AbortError without one", () => {
    const reason = new Error('user gave up');
    const given = new AbortController();
    const deadline = HandshakeDeadline.forClient(250, manualTimers(), given.signal);
    given.abort(reason);
    expect(deadline.reason).toBe(reason);
    // A signal aborted with `undefined` carries the platform's AbortError DOMException.
    const bare = new AbortController();
    const other = HandshakeDeadline.forClient(250, manualTimers(), bare.signal);
    bare.abort();
    expect(other.reason).toMatchObject({ name: 'AbortError' });
  });
});

describe('HandshakeDeadline without a timeout', () => {
  it('follows only its signal and explicit stops', () => {
    const outer = new AbortController();
    const deadline = new HandshakeDeadline<string>({ signal: outer.signal, abortReason: (signal) => String(signal.reason) });
    expect(deadline.stopped).toBe(false);
    outer.abort('TIMEOUT');
    expect(deadline.reason).toBe('TIMEOUT');
  });
});

describe('settle and run', () => {
  it('settle gives the value or the error of a promise that wins', async () => {
    const deadline = HandshakeDeadline.forServer(1000, manualTimers());
    expect(await deadline.settle(Promise.resolve(7))).toEqual({ value: 7 });
    const error = new Error('hook failed');
    expect(await deadline.settle(Promise.reject(error))).toEqual({ error });
  });

  it('settle ends with the stop reason as soon as the deadline stops first, ignoring the late outcome', async () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forServer(1000, timers);
    const work = deferred<number>();
    const outcome = deadline.settle(work.promise);
    timers.advance(1000);
    expect(await outcome).toEqual({ stopped: 'TIMEOUT' });
    work.reject(new Error('too late')); // handled: no unhandled rejection
  });

  it('settle on a stopped deadline ends at once', async () => {
    const deadline = HandshakeDeadline.forServer(1000, manualTimers());
    deadline.stop('SOCKET_CLOSED');
    expect(await deadline.settle(new Promise(() => {}))).toEqual({ stopped: 'SOCKET_CLOSED' });
  });

  it('run resolves with the value, rejects with the error or with the stop reason', async () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forClient(1000, timers);
    expect(await deadline.run(Promise.resolve('ok'))).toBe('ok');
    await expect(deadline.run(Promise.reject(new TypeError('bad')))).rejects.toThrow(TypeError);
    const never = deadline.run(new Promise(() => {}));
    timers.advance(1000);
    await expect(never).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});

describe('guard', () => {
  /** A resource that records being closed. */
  class Resource {
    closed = 0;
    close = (): void => void this.closed++;
  }
  const close = (resource: Resource): void => resource.close();

  it('leaves the resources of a handshake that succeeds open, and disposes the deadline', async () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forClient(1000, timers);
    const socket = new Resource();
    const value = await deadline.guard(close, async (track) => {
      track(socket);
      return 'open';
    });
    expect([value, socket.closed, timers.pending]).toEqual(['open', 0, 0]);
  });

  it('closes every resource of a handshake that fails, and rethrows its error', async () => {
    const deadline = HandshakeDeadline.forClient(1000, manualTimers());
    const [tunnel, tls] = [new Resource(), new Resource()];
    const error = new Error('refused');
    const outcome = deadline.guard(close, async (track) => {
      track(tunnel);
      track(tls);
      throw error;
    });
    await expect(outcome).rejects.toBe(error);
    expect([tunnel.closed, tls.closed]).toEqual([1, 1]);
  });

  it('closes the resources at once when the deadline stops, and one tracked afterwards when it comes', async () => {
    const timers = manualTimers();
    const deadline = HandshakeDeadline.forClient(1000, timers);
    const [first, late] = [new Resource(), new Resource()];
    const dialed = deferred<void>();
    let seen: AbortSignal | undefined;
    const outcome = deadline.guard(close, async (track) => {
      seen = deadline.signal;
      track(first);
      await dialed.promise;
      track(late);
      return 'never';
    });
    timers.advance(1000);
    expect(first.closed).toBe(1);
    await expect(outcome).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(seen?.aborted).toBe(true);
    dialed.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(late.closed).toBe(1);
  });
});
