/**
 * The test kit's matchers, written once for Vitest and Jest (both call a matcher with
 * `this.equals` and `this.isNot`): what a server, one of its connections or a client
 * received, whether it is connected, how it closed. Every one that waits has a timeout
 * and fails with a message naming what it waited for.
 * @module
 */
import { Cursor, TestConnection, TestServer, realTimers, showMessage, showMessages, testKitDefaults } from '@wsflow/websocket';

/** What a matcher receives from the runner (the part Vitest and Jest share). */
export interface MatcherContext {
  isNot: boolean;
  equals(a: unknown, b: unknown): boolean;
}

/** A matcher's verdict. */
export interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/** Options of a waiting matcher. */
export interface MatcherWaitOptions {
  /** Milliseconds to wait. Default: the server's `timeout` option (for a server or one of its connections), else the test kit's (see `configureTestKit`). */
  timeout?: number;
}

/** What a client-side WebSocket looks like to the matchers: the WHATWG one, this package's `ws` drop-in, a browser's. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly url: string;
  addEventListener(type: string, listener: (event: never) => void): void;
}

/** A client WebSocket's record: what it received and how it closed, from when it was watched. */
interface ClientRecord {
  messages: unknown[];
  /** What the matchers took of {@link messages}. */
  cursor: Cursor<unknown>;
  /** Called once at the next event (open, message or close). */
  waiters: Array<() => void>;
  close: { code: number; reason: string } | null;
}

// One map per process, not per bundle: each entry point (index, vitest, jest) is bundled on
// its own, and `watch` from one must be seen by the matchers of another.
const RECORDS = Symbol.for('@wsflow/testing.records');
const holder = globalThis as { [RECORDS]?: WeakMap<object, ClientRecord> };
const records: WeakMap<object, ClientRecord> = (holder[RECORDS] ??= new WeakMap());

/**
 * Starts recording what a client WebSocket receives and how it closes, so that
 * `toHaveReceivedMessages` and `toBeClosedWith` see everything from now on (a matcher
 * otherwise starts recording when first used on it). Returns the socket.
 * @example
 * ```ts
 * const ws = watch(new WebSocket(url));
 * ```
 */
export function watch<W extends object>(ws: W): W {
  if (!isWebSocketLike(ws)) throw new TypeError(`watch() takes a WebSocket, got ${showMessage(ws)}`);
  recordOf(ws);
  return ws;
}

function recordOf(ws: WebSocketLike): ClientRecord {
  let record = records.get(ws);
  if (record !== undefined) return record;
  const messages: unknown[] = [];
  const created: ClientRecord = { messages, cursor: new Cursor(messages), waiters: [], close: null };
  record = created;
  records.set(ws, record);
  const wake = (): void => {
    for (const waiter of created.waiters.splice(0)) waiter();
  };
  ws.addEventListener('message', ((event: { data: unknown }) => {
    created.messages.push(event.data);
    created.cursor.added();
    wake();
  }) as (event: never) => void);
  ws.addEventListener('close', ((event: { code: number; reason: string }) => {
    const close = { code: event.code, reason: event.reason };
    created.close = close;
    created.cursor.close(() => new Error(`WebSocket ${ws.url}: closed (${close.code}) before another message arrived (received so far: ${showMessages(messages)})`));
    wake();
  }) as (event: never) => void);
  ws.addEventListener('open', wake as (event: never) => void);
  return record;
}

function isWebSocketLike(value: unknown): value is WebSocketLike {
  return typeof value === 'object' && value !== null && typeof (value as WebSocketLike).readyState === 'number' && typeof (value as WebSocketLike).addEventListener === 'function';
}

/** How a subject of the matchers is read. */
interface Subject {
  label: string;
  timeout: number;
  received(): readonly unknown[];
  next(timeout: number): Promise<unknown>;
  connected(): boolean;
  /** How it closed; null while open; undefined when the subject has no close (a server). */
  closeInfo(): { code: number; reason: string } | null | undefined;
  /** Resolves when something may have changed (or after a short poll). */
  changed(): Promise<void>;
}

const poll = (): Promise<void> => new Promise((resolve) => realTimers.setTimeout(resolve, 5));

function subjectOf(received: unknown, options: MatcherWaitOptions): Subject {
  if (received instanceof TestServer) {
    const server = received as TestServer<unknown>;
    return {
      label: server.label,
      timeout: options.timeout ?? server.timeout,
      received: () => server.messages,
      next: (ms) => server.nextMessage({ timeout: ms }),
      connected: () => server.connections.some((c) => c.state === 'open'),
      closeInfo: () => undefined,
      changed: poll,
    };
  }
  if (received instanceof TestConnection) {
    const connection = received as TestConnection<unknown>;
    return {
      label: connection.label,
      timeout: options.timeout ?? connection.timeout,
      received: () => connection.messages,
      next: (ms) => connection.nextMessage({ timeout: ms }),
      connected: () => connection.state === 'open',
      closeInfo: () => (connection.closeInfo === null ? null : { code: connection.closeInfo.closeCode, reason: connection.closeInfo.reason }),
      changed: poll,
    };
  }
  if (isWebSocketLike(received)) {
    const ws = received;
    const record = recordOf(ws);
    const label = `WebSocket ${ws.url}`;
    const changed = (): Promise<void> => new Promise((resolve) => record.waiters.push(resolve));
    return {
      label,
      timeout: options.timeout ?? testKitDefaults.timeout,
      received: () => record.messages,
      next: (ms) => record.cursor.next(ms, (t) => `${label}: no message within ${t} ms (received so far: ${showMessages(record.messages)})`),
      connected: () => ws.readyState === 1,
      closeInfo: () => record.close ?? (ws.readyState === 3 ? { code: -1, reason: '' } : null),
      changed: () => Promise.race([changed(), poll()]),
    };
  }
  throw new TypeError(`expected a TestServer, a TestConnection or a WebSocket, got ${showMessage(received)}`);
}

/** Waits until `condition` holds or `ms` pass; true if it held. */
async function eventually(subject: Subject, ms: number, condition: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  let expired = false;
  const timer = realTimers.setTimeout(() => (expired = true), ms);
  try {
    while (!condition()) {
      if (expired || Date.now() > until) return condition();
      await subject.changed();
    }
    return true;
  } finally {
    realTimers.clearTimeout(timer);
  }
}

/**
 * `await expect(server | connection | ws).toReceiveMessage(expected)`: the next message
 * not yet taken (by `nextMessage` or this matcher) arrives within the timeout and equals
 * `expected`. With `.not`: the next message within the timeout is not `expected` (or none comes).
 */
async function toReceiveMessage(this: MatcherContext, received: unknown, expected: unknown, options: MatcherWaitOptions = {}): Promise<MatcherResult> {
  const subject = subjectOf(received, options);
  let message: unknown;
  try {
    message = await subject.next(subject.timeout);
  } catch (error) {
    const why = (error as Error).message;
    return { pass: false, message: () => (this.isNot ? `${why}` : `expected ${subject.label} to receive ${showMessage(expected)}, but: ${why}`) };
  }
  const pass = this.equals(message, expected);
  return {
    pass,
    message: () =>
      pass
        ? `expected ${subject.label} not to receive ${showMessage(expected)}, but it did`
        : `expected ${subject.label} to receive ${showMessage(expected)}, but the next message was ${showMessage(message)} (received so far: ${showMessages(subject.received())})`,
  };
}

/** Whether `expected` appear in `messages` in that order (others may come between). */
function inOrder(context: MatcherContext, messages: readonly unknown[], expected: readonly unknown[]): number {
  let at = 0;
  for (const message of messages) {
    if (at < expected.length && context.equals(message, expected[at])) at++;
  }
  return at;
}

/**
 * `expect(server | connection | ws).toHaveReceivedMessages([...])`: every expected
 * message was received, in this order (others may come between). Waits up to the
 * timeout for the rest to come; `.not` passes at once when they are not all there.
 */
async function toHaveReceivedMessages(this: MatcherContext, received: unknown, expected: readonly unknown[], options: MatcherWaitOptions = {}): Promise<MatcherResult> {
  if (!Array.isArray(expected)) throw new TypeError('toHaveReceivedMessages takes an array of messages');
  const subject = subjectOf(received, options);
  const found = (): number => inOrder(this, subject.received(), expected);
  const pass = this.isNot ? found() === expected.length : await eventually(subject, subject.timeout, () => found() === expected.length);
  return {
    pass,
    message: () =>
      pass
        ? `expected ${subject.label} not to have received ${expected.map(showMessage).join(', ')} in order, but it did`
        : `expected ${subject.label} to have received ${expected.map(showMessage).join(', ')} in order within ${subject.timeout} ms; ${expected.length - found()} missing from ${showMessage(expected[found()])} on (received so far: ${showMessages(subject.received())})`,
  };
}

/**
 * `await expect(connection | ws).toBeClosedWith(code?, reason?)`: it closes within the
 * timeout, with that code (and reason, if given). With `.not`: it is closed, but not so
 * (or stays open for the whole timeout).
 */
async function toBeClosedWith(this: MatcherContext, received: unknown, code?: number, reason?: string, options: MatcherWaitOptions = {}): Promise<MatcherResult> {
  const subject = subjectOf(received, options);
  if (subject.closeInfo() === undefined) throw new TypeError(`${subject.label} does not close; use toBeClosedWith on one of its connections or a client`);
  await eventually(subject, subject.timeout, () => subject.closeInfo() !== null);
  const info = subject.closeInfo();
  const wanted = `${code === undefined ? 'any code' : code}${reason === undefined ? '' : ` and reason ${showMessage(reason)}`}`;
  if (info === null || info === undefined) {
    return { pass: false, message: () => `expected ${subject.label} to close with ${wanted} within ${subject.timeout} ms, but it is still open` };
  }
  if (info.code === -1) {
    return { pass: false, message: () => `${subject.label} closed before the matchers watched it: call watch(ws) when creating it` };
  }
  const pass = (code === undefined || info.code === code) && (reason === undefined || info.reason === reason);
  return {
    pass,
    message: () =>
      pass
        ? `expected ${subject.label} not to close with ${wanted}, but it did`
        : `expected ${subject.label} to close with ${wanted}, but it closed with ${info.code} and reason ${showMessage(info.reason)}`,
  };
}

/**
 * `await expect(server | connection | ws).toBeConnected()`: it is (or becomes, within the
 * timeout) open — for a server, it has an open connection. With `.not`: it is (or
 * becomes, within the timeout) not open.
 */
async function toBeConnected(this: MatcherContext, received: unknown, options: MatcherWaitOptions = {}): Promise<MatcherResult> {
  const subject = subjectOf(received, options);
  const wanted = !this.isNot;
  await eventually(subject, subject.timeout, () => subject.connected() === wanted);
  const pass = subject.connected();
  return {
    pass,
    message: () => (pass ? `expected ${subject.label} not to be connected within ${subject.timeout} ms, but it still is` : `expected ${subject.label} to be connected within ${subject.timeout} ms, but it is not`),
  };
}

/**
 * The matchers, for `expect.extend(wsflowMatchers)` (what `@wsflow/testing/vitest` and
 * `@wsflow/testing/jest` do for you).
 * @example
 * ```ts
 * expect.extend(wsflowMatchers);
 * await expect(server).toReceiveMessage('hello');
 * ```
 */
export const wsflowMatchers = {
  toReceiveMessage,
  toHaveReceivedMessages,
  toBeClosedWith,
  toBeConnected,
};

/** The matchers' signatures, for a runner's assertion type (module augmentation). */
export interface WsflowMatchers<R = unknown> {
  /** The next message not yet taken equals `expected` (waits up to the timeout). */
  toReceiveMessage(expected: unknown, options?: MatcherWaitOptions): Promise<R>;
  /** These messages were received, in this order (waits up to the timeout for the rest). */
  toHaveReceivedMessages(expected: readonly unknown[], options?: MatcherWaitOptions): Promise<R>;
  /** Closed (within the timeout) with this code, and this reason if given. */
  toBeClosedWith(code?: number, reason?: string, options?: MatcherWaitOptions): Promise<R>;
  /** Open (within the timeout); a server: with an open connection. */
  toBeConnected(options?: MatcherWaitOptions): Promise<R>;
}
