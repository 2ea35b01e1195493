/**
 * Quiescence tracking for the in-memory network: what `flush()` waits for.
 *
 * Everything the facade and the test server do in memory runs on microtasks (streams,
 * promise reactions), except a few operations that complete on the host's own schedule:
 * Web Crypto (the handshake's SHA-1), reading a `Blob`. Those are {@link track}ed; the rest
 * reports progress with {@link noteActivity}. {@link settle} waits until no tracked
 * operation is pending and a stretch of microtask turns, then one macrotask, pass without
 * progress. No timer is used, so it works the same under fake timers
 * (`vi.useFakeTimers()` fakes `setTimeout`/`setImmediate`, never promise jobs or
 * `MessageChannel`).
 * @module
 */

let version = 0;
const pending = new Set<Promise<unknown>>();

/** Microtask turns without progress that count as quiet. Stream hops take a handful each. */
const QUIET_TURNS = 64;
/** Rounds of waiting before `settle` gives up on a network that never goes quiet. */
const MAX_ROUNDS = 2_000;

/** Records that something moved (a chunk read or written, an event dispatched). */
export function noteActivity(): void {
  version++;
}

/** Tracks an operation that completes outside the microtask queue, until it settles. */
export function track<T>(operation: Promise<T>): Promise<T> {
  pending.add(operation);
  const done = (): void => {
    pending.delete(operation);
    version++;
  };
  operation.then(done, done);
  return operation;
}

/** Resolves after one macrotask where the runtime has `MessageChannel` (not faked by fake timers). */
function nextMacrotask(): Promise<void> {
  const Channel = (globalThis as { MessageChannel?: typeof MessageChannel }).MessageChannel;
  if (typeof Channel !== 'function') return Promise.resolve();
  return new Promise((resolve) => {
    const { port1, port2 } = new Channel();
    port1.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * Waits until the in-memory network is quiet: no tracked operation pending, and no
 * progress over {@link QUIET_TURNS} microtask turns and the macrotask after them.
 * @throws Error if it is still busy after many rounds (e.g. two peers echoing forever)
 */
export async function settle(): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (pending.size > 0) {
      await Promise.allSettled([...pending]);
      continue;
    }
    const before = version;
    for (let i = 0; i < QUIET_TURNS; i++) await undefined;
    if (pending.size > 0 || version !== before) continue;
    await nextMacrotask();
    if (pending.size === 0 && version === before) return;
  }
  throw new Error('flush(): the in-memory network is still busy after many rounds (do two peers answer each other forever?)');
}
