/**
 * Differential test: the same scripted scenarios run in Chromium with its own `WebSocket`
 * and with wsflow's facade, both against our Node server (`@wsflow/node`'s `attach` on a
 * node:http server on 127.0.0.1, one path per scenario). The page's only network is the
 * native WebSocket, so the facade's dialer tunnels raw TCP bytes through a byte relay on
 * the same server (support/byte-relay.ts, support/relay-duplex.ts) and performs the
 * codec's `clientHandshake` over them: the facade's real frames reach our server.
 *
 * The two event logs (support/differential-page.ts) must be equal step by step: event
 * order and class, readyState, bufferedAmount, protocol, extensions, binaryType, close
 * code/reason/wasClean, message data type and content, what each call threw. So must what
 * the server saw of each client (support/differential-server.ts). Each scenario also
 * checks Chromium's log against what the standard says, so a server that broke both
 * alike would not pass.
 *
 * bufferedAmount is logged where it is defined independently of timing: right after a
 * send() (it grows by the data's size synchronously), at open (0), after everything sent
 * was answered (0), after closing started (sends are counted and never sent). At message
 * events while earlier sends may still be on their way out it is timing-dependent and
 * logged as null (the echo scenario).
 *
 * Differences that remain are listed below and asserted explicitly: one Chromium deviation
 * (the Close code it sends for invalid UTF-8). (The facade's bufferedAmount defect that
 * scenarios 2 and 4 used to allow is fixed: issue 14.)
 */
import { expect, test, type Page } from '@playwright/test';
import type { Outcome, Step } from './support/differential-page.ts';
import { startDifferentialServer, type DifferentialServer } from './support/differential-server.ts';

let server: DifferentialServer;

test.beforeAll(async () => {
  server = await startDifferentialServer();
});

test.afterAll(async () => {
  await server?.close();
});

interface Result extends Outcome {
  serverNative: string[];
  serverFacade: string[];
}

let runs = 0;

/** Opens the page, runs one scenario with both clients, and returns both logs and the server's view of each. */
async function runScenario(page: Page, name: string): Promise<Result> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.origin}/`);
  await page.evaluate(`import('/differential.js')`);
  const runId = `r${++runs}`;
  const outcome = await page.evaluate(([n, base, id]) => differential.run(n, base, id), [name, server.base, runId] as const);
  // The server's view settles a little after the client's close event.
  const settled = (who: string) => server.observations(`${runId}-${who}`).some((l) => /^(closed|rejected|tcp closed)/.test(l));
  await expect.poll(() => settled('native') && settled('facade'), { timeout: 5_000 }).toBe(true);
  expect(errors, 'uncaught errors in the page').toEqual([]);
  const result = { ...outcome, serverNative: server.observations(`${runId}-native`), serverFacade: server.observations(`${runId}-facade`) };
  await test.info().attach(`${name}.json`, { body: JSON.stringify(result, null, 2), contentType: 'application/json' });
  return result;
}

/** One line per step, for the expectations on Chromium's log (the full logs are compared separately). */
function summary(steps: Step[]): string[] {
  return steps.map((s) => {
    const data = s.data === undefined ? '' : s.data.kind === 'string' ? ` string ${JSON.stringify(s.data.value)}` : ` ${s.data.kind} [${s.data.bytes}]`;
    const close = s.code === undefined ? '' : ` ${s.code} ${JSON.stringify(s.reason)} ${s.wasClean ? 'clean' : 'unclean'}`;
    const outcome = s.outcome === undefined ? '' : ` -> ${s.outcome}`;
    return `${s.at}${data}${close}${outcome} (readyState ${s.readyState}, bufferedAmount ${s.bufferedAmount})`;
  });
}

/**
 * A way to allow a known facade defect in bufferedAmount at a message event: it counts
 * `facade` bytes of application data that were transmitted long ago (the server answered
 * them), where Chromium reports `native`. No scenario uses it since issue 14, where the
 * facade stopped reading bufferedAmount off the connection's byte count.
 *
 * The cause then: the facade computed bufferedAmount as min(bytes it handed to the connection,
 * `WebSocketConnection.bufferedAmount`) and forgets the handed bytes only when it sees the
 * connection's count at 0. The connection's count includes control frames; when a frame
 * arrives together with a Close (or the connection fails on it), the codec queues its
 * Close before the message event fires (the facade's tasks are promise jobs), so the
 * count is not 0 then and the stale handed bytes show. Fixing it needs the codec to say
 * how much *application* data is pending (see the report); the facade alone cannot tell
 * control bytes from data bytes in that count.
 *
 * The exception accepts the stale value or the right one, so the test stays meaningful
 * both before and after the fix; every other field of the step must still match.
 */
interface KnownBufferedAmountDefect {
  stepIndex: number;
  native: number;
  facade: number;
}

/**
 * Compares the logs: equal, but for the listed defect steps (checked as described there)
 * and one deliberate difference: the facade's `error` event is an `ErrorEvent` (the
 * page's own class, an `Event`) whose `message` and `error` say why the connection
 * failed, as undici's and Deno's are, where Chromium fires a plain `Event`. Its type,
 * its place in the order and every other field must match.
 */
function expectSameLogs(r: Result, defects: KnownBufferedAmountDefect[] = []): void {
  const facade = r.facade.map((s) => ({ ...s }));
  for (const [i, f] of facade.entries()) {
    if (f.at !== 'error' || r.native[i]?.at !== 'error') continue;
    expect([r.native[i].eventClass, f.eventClass], `the error event's class at step ${i} (Chromium, facade)`).toEqual(['Event', 'ErrorEvent']);
    f.eventClass = 'Event';
  }
  for (const d of defects) {
    const n = r.native[d.stepIndex];
    const f = facade[d.stepIndex];
    expect(n?.bufferedAmount, `Chromium's bufferedAmount at step ${d.stepIndex}`).toBe(d.native);
    expect([d.native, d.facade], `the facade's bufferedAmount at step ${d.stepIndex} (${f?.at})`).toContain(f?.bufferedAmount);
    if (f !== undefined && f.bufferedAmount === d.facade && d.facade !== d.native) {
      test.info().annotations.push({ type: 'known facade defect', description: `bufferedAmount ${d.facade} where Chromium has ${d.native} at step ${d.stepIndex} (${f.at})` });
      f.bufferedAmount = d.native;
    }
  }
  expect(facade, `facade log\n${summary(r.facade).join('\n')}\nChromium log\n${summary(r.native).join('\n')}`).toEqual(r.native);
}

test('(1) echo: text and binary of every kind, then close() without a code', async ({ page }) => {
  const r = await runScenario(page, 'echo');
  const at = (n: number) => `(readyState 1, bufferedAmount ${n})`;
  expect(summary(r.native)).toEqual([
    'open (readyState 1, bufferedAmount 0)',
    `after send text -> ok ${at(5)}`,
    `after send empty text -> ok ${at(5)}`,
    `after send non-ASCII text -> ok ${at(15)}`, // 'héllo €' is 10 bytes of UTF-8
    `after send Uint8Array view -> ok ${at(18)}`,
    `after send ArrayBuffer -> ok ${at(20)}`,
    `after send empty binary -> ok ${at(20)}`,
    `after send Blob -> ok ${at(23)}`,
    `after send 70000 bytes -> ok ${at(70023)}`,
    'message string "hello" (readyState 1, bufferedAmount null)',
    'message string "" (readyState 1, bufferedAmount null)',
    'message string "héllo €" (readyState 1, bufferedAmount null)',
    'message ArrayBuffer [1,2,3] (readyState 1, bufferedAmount null)',
    'message ArrayBuffer [4,5] (readyState 1, bufferedAmount null)',
    'message ArrayBuffer [] (readyState 1, bufferedAmount null)',
    'message ArrayBuffer [6,7,8] (readyState 1, bufferedAmount null)',
    'message ArrayBuffer [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,-70000] (readyState 1, bufferedAmount 0)',
    'after close() (readyState 2, bufferedAmount 0)',
    'close 1005 "" clean (readyState 3, bufferedAmount 0)',
  ]);
  expect(r.native.every((s) => s.protocol === (s.readyState === 0 ? '' : 'chat') && s.extensions === '')).toBe(true);
  expectSameLogs(r);
  expect(r.serverNative).toEqual([
    'open "chat"',
    'received text "hello"',
    'received text ""',
    'received text "héllo €"',
    'received binary 3 [01 02 03]',
    'received binary 2 [04 05]',
    'received binary 0 []',
    'received binary 3 [06 07 08]',
    'received binary 70000 [00 01 02 03 04 05 06 07 …]',
    'closed 1005 "" clean',
  ]);
  expect(r.serverFacade).toEqual(r.serverNative);
});

test('(2) the server closes with a code and a reason', async ({ page }) => {
  const r = await runScenario(page, 'server close');
  expect(summary(r.native)).toEqual([
    'open (readyState 1, bufferedAmount 0)',
    'message string "closing" (readyState 1, bufferedAmount 0)',
    'close 4001 "server bye" clean (readyState 3, bufferedAmount 0)',
    // WebSockets Standard, send(): after closing, bufferedAmount grows by the size, nothing is sent.
    'send after close event -> ok (readyState 3, bufferedAmount 8)',
  ]);
  // Step 1: "closing" arrives in one TCP segment with the server's Close; "please close" was
  // transmitted long before, and bufferedAmount no longer counts it (issue 14).
  expectSameLogs(r);
  expect(r.serverNative).toEqual(['open ""', 'received text "please close"', 'closed 4001 "server bye" clean']);
  expect(r.serverFacade).toEqual(r.serverNative);
});

test('(3) the client closes with a code and a reason; sends after close() only grow bufferedAmount', async ({ page }) => {
  const r = await runScenario(page, 'client close');
  expect(summary(r.native)).toEqual([
    'open (readyState 1, bufferedAmount 0)',
    'message string "one" (readyState 1, bufferedAmount 0)',
    'close(4000, "client bye") -> ok (readyState 2, bufferedAmount 0)',
    'send while CLOSING -> ok (readyState 2, bufferedAmount 4)',
    'close() again -> ok (readyState 2, bufferedAmount 4)',
    'close 4000 "client bye" clean (readyState 3, bufferedAmount 4)',
    'send after close event -> ok (readyState 3, bufferedAmount 7)',
  ]);
  expectSameLogs(r);
  expect(r.serverNative).toEqual(['open ""', 'received text "one"', 'closed 4000 "client bye" clean']);
  expect(r.serverFacade).toEqual(r.serverNative);
});

/**
 * A Chromium deviation: on a text frame that is not UTF-8, Chromium fails the connection
 * (as RFC 6455 §8.1 requires) but sends Close 1002 (protocol error) with the reason
 * "Invalid UTF-8 in text frame", where RFC 6455 §7.4.1 defines 1007 for exactly this
 * ("data within a message that was not consistent with the type of the message (e.g.,
 * non-UTF-8 [RFC3629] data within a text message)") and §7.1.7 lets the failing endpoint
 * send "an appropriate status code". wsflow's codec sends 1007 (the reason text is ours).
 * What script sees is the same on both: error, then close 1006 (WebSockets Standard,
 * "fail the WebSocket connection": code 1006, wasClean false).
 */
const CHROMIUM_INVALID_UTF8_CLOSE = 'received Close 1002 "Invalid UTF-8 in text frame"';
const FACADE_INVALID_UTF8_CLOSE = 'received Close 1007 "invalid UTF-8 in text data"';

function expectInvalidUtf8ServerLogs(r: Result, before: string[]): void {
  expect(r.serverNative).toEqual([...before, CHROMIUM_INVALID_UTF8_CLOSE, 'tcp closed']);
  expect(r.serverFacade).toEqual([...before, FACADE_INVALID_UTF8_CLOSE, 'tcp closed']);
}

test('(4) the server sends a text frame that is not UTF-8: error, close 1006', async ({ page }) => {
  const r = await runScenario(page, 'invalid UTF-8');
  expect(summary(r.native)).toEqual([
    'open (readyState 1, bufferedAmount 0)',
    'message string "ok" (readyState 1, bufferedAmount 0)',
    'error (readyState 3, bufferedAmount 0)',
    'close 1006 "" unclean (readyState 3, bufferedAmount 0)',
  ]);
  // Step 1: "ok" arrives in one TCP segment with the invalid frame, on which the codec queues
  // its Close 1007; "go" was transmitted long before (issue 14: no longer counted).
  expectSameLogs(r);
  expectInvalidUtf8ServerLogs(r, ['open ""', 'received text "go"', 'sent "ok" and invalid UTF-8']);
});

test('(4b) the same invalid frame in the TCP write of the 101 response', async ({ page }) => {
  const r = await runScenario(page, 'invalid UTF-8 with the handshake');
  expect(summary(r.native)).toEqual([
    'open (readyState 1, bufferedAmount 0)',
    'message string "ok" (readyState 1, bufferedAmount 0)',
    'error (readyState 3, bufferedAmount 0)',
    'close 1006 "" unclean (readyState 3, bufferedAmount 0)',
  ]);
  expectSameLogs(r);
  expectInvalidUtf8ServerLogs(r, ['open "", sent "ok" and invalid UTF-8 with the 101']);
});

test('(5) a handshake refused with 403 (allowedOrigins): error, close 1006, no open', async ({ page }) => {
  const r = await runScenario(page, 'refused by origin (403)');
  expect(summary(r.native)).toEqual([
    'after constructor (readyState 0, bufferedAmount 0)',
    'error (readyState 3, bufferedAmount 0)',
    // send() in CLOSED does not throw; it only grows bufferedAmount.
    'send in error handler -> ok (readyState 3, bufferedAmount 1)',
    'close 1006 "" unclean (readyState 3, bufferedAmount 1)',
  ]);
  expectSameLogs(r);
  expect(r.serverNative).toEqual(['rejected 403 FORBIDDEN_ORIGIN']);
  expect(r.serverFacade).toEqual(r.serverNative);
});

test('(5b) a handshake refused with 403 by the authorize hook', async ({ page }) => {
  const r = await runScenario(page, 'refused by authorize (403)');
  expect(summary(r.native)).toEqual([
    'after constructor (readyState 0, bufferedAmount 0)',
    'error (readyState 3, bufferedAmount 0)',
    'close 1006 "" unclean (readyState 3, bufferedAmount 0)',
  ]);
  expectSameLogs(r);
  expect(r.serverNative).toEqual(['rejected 403 REJECTED']);
  expect(r.serverFacade).toEqual(r.serverNative);
});

test('(6) protocols offered and none selected: the client fails the connection', async ({ page }) => {
  const r = await runScenario(page, 'no subprotocol selected');
  // WebSockets Standard, "establish a WebSocket connection": "If protocols is not the empty
  // list and extracting header list values given `Sec-WebSocket-Protocol` and response's
  // header list results in null, failure, or the empty byte sequence, then fail the
  // WebSocket connection". Neither client sends a Close: the server sees the TCP end (1006).
  expect(summary(r.native)).toEqual([
    'after constructor (readyState 0, bufferedAmount 0)',
    'error (readyState 3, bufferedAmount 0)',
    'close 1006 "" unclean (readyState 3, bufferedAmount 0)',
  ]);
  expectSameLogs(r);
  expect(r.serverNative).toEqual(['open ""', 'closed 1006 "" unclean']);
  expect(r.serverFacade).toEqual(r.serverNative);
});

test('(7) binaryType switches between messages, and within a burst', async ({ page }) => {
  const r = await runScenario(page, 'binaryType switches');
  const lines = summary(r.native).map((l, i) => `${l} ${r.native[i]!.binaryType}`);
  expect(lines).toEqual([
    'initial binaryType (readyState 0, bufferedAmount 0) blob',
    'open (readyState 1, bufferedAmount 0) blob',
    'message Blob [1] (readyState 1, bufferedAmount 0) blob',
    'switched to arraybuffer (readyState 1, bufferedAmount 0) arraybuffer',
    'message ArrayBuffer [2,2] (readyState 1, bufferedAmount 0) arraybuffer',
    'switched to blob (readyState 1, bufferedAmount 0) blob',
    // The burst: three frames in one TCP write. binaryType is read when each message's
    // task runs (WebSockets Standard, "a WebSocket message has been received", step 2), so
    // the switch made in one handler applies to the next message, already received.
    'message Blob [3,3,3] (readyState 1, bufferedAmount 0) blob',
    'switched to arraybuffer (readyState 1, bufferedAmount 0) arraybuffer',
    'message ArrayBuffer [4,4,4,4] (readyState 1, bufferedAmount 0) arraybuffer',
    'switched to blob (readyState 1, bufferedAmount 0) blob',
    'message Blob [5,5,5,5,5] (readyState 1, bufferedAmount 0) blob',
    'close 1000 "done" clean (readyState 3, bufferedAmount 0) blob',
  ]);
  expect(r.native.filter((s) => s.data?.kind === 'Blob').map((s) => s.data)).toEqual([
    { kind: 'Blob', size: 1, type: '', bytes: [1] },
    { kind: 'Blob', size: 3, type: '', bytes: [3, 3, 3] },
    { kind: 'Blob', size: 5, type: '', bytes: [5, 5, 5, 5, 5] },
  ]);
  expectSameLogs(r);
  expect(r.serverNative).toEqual(['open ""', 'received text "next"', 'received text "next"', 'received text "burst"', 'closed 1000 "done" clean']);
  expect(r.serverFacade).toEqual(r.serverNative);
});

/**
 * A Chromium deviation: with credentials in the URL, Chromium sends no `Authorization` in
 * the handshake request (it would answer a 401 challenge instead), where Fetch, which the
 * WebSockets Standard's "establish a WebSocket connection" fetches with, sends them at once
 * ("HTTP-network-or-cache fetch": the request's current URL includes credentials and its
 * header list has no `Authorization`, so the username and password are the URL's), as
 * Deno, Bun and undici do. The facade follows Fetch. Everything script sees is the same.
 */
test('(8) credentials in the URL: the facade sends them as Basic Authorization, Chromium does not', async ({ page }) => {
  const r = await runScenario(page, 'credentials in the URL');
  expect(summary(r.native)).toEqual([
    'after constructor (readyState 0, bufferedAmount 0)',
    'open (readyState 1, bufferedAmount 0)',
    'close 4002 "seen" clean (readyState 3, bufferedAmount 0)',
  ]);
  expectSameLogs(r);
  // Fetch: the URL's username and password, percent-decoded ("usér" is UTF-8 in the URL).
  const expected = `Basic ${Buffer.from('us\u00e9r:p@ss').toString('base64')}`;
  expect(r.serverFacade).toEqual([`open, Authorization ${JSON.stringify(expected)}`, 'closed 4002 "seen" clean']);
  expect(r.serverNative).toEqual(['open, Authorization null', 'closed 4002 "seen" clean']);
});

test('(10) send() refuses a SharedArrayBuffer, a resizable ArrayBuffer and views on them with a TypeError', async ({ page }) => {
  const r = await runScenario(page, 'send: shared and resizable buffers');
  const refused = ['SharedArrayBuffer', 'view on a SharedArrayBuffer', 'resizable ArrayBuffer', 'view on a resizable ArrayBuffer'];
  expect(summary(r.native)).toEqual([
    ...refused.map((what) => `while connecting, send ${what} -> TypeError (readyState 0, bufferedAmount 0)`),
    'while connecting, send fixed ArrayBuffer -> InvalidStateError (readyState 0, bufferedAmount 0)',
    'open (readyState 1, bufferedAmount 0)',
    ...refused.map((what) => `send ${what} -> TypeError (readyState 1, bufferedAmount 0)`),
    'send fixed ArrayBuffer -> ok (readyState 1, bufferedAmount 2)',
    'message Blob [0,0] (readyState 1, bufferedAmount 0)',
    'close 1000 "done" clean (readyState 3, bufferedAmount 0)',
  ]);
  expectSameLogs(r);
  expect(r.serverNative).toEqual(['open ""', 'received binary 2 [00 00]', 'closed 1000 "done" clean']);
  expect(r.serverFacade).toEqual(r.serverNative);
});

test('(9) the Web IDL shape: the facade class a runtime exports is laid out as Chromium lays out its own', async ({ page }) => {
  await page.goto(`${server.origin}/`);
  await page.evaluate(`import('/differential.js')`);
  const shapes = await page.evaluate(() => differential.shapes());
  await test.info().attach('shapes.json', { body: JSON.stringify(shapes, null, 2), contentType: 'application/json' });
  // Chromium's WebSocket, as Web IDL makes it: checked, so that the comparison means something.
  expect(shapes.WebSocket!.native.parents).toEqual(['EventTarget', 'EventTarget']);
  expect(shapes.WebSocket!.native.members.send).toBe('method ECW length 1');
  expect(shapes.WebSocket!.native.statics.OPEN).toBe('data E-- 1');
  expect(shapes.WebSocket!.native.members['Symbol(Symbol.toStringTag)']).toBe('data -C- "WebSocket"');
  test.info().annotations.push({ type: 'interfaces compared', description: Object.keys(shapes).join(', ') });
  for (const [name, { native, facade }] of Object.entries(shapes)) expect(facade, name).toEqual(native);
});
