/**
 * `WebSocket#close(code, reason)`: the [Clamp] code conversion, "validate close code and
 * reason", and "close the WebSocket" in each state, from the WebSockets Standard.
 */
import { describe, expect, it } from 'vitest';
import { createWebSocketClass, defaultNetwork, WebSocket, type Dialer, type TestConnection, type TestServer } from '../src/index.ts';
import { expectDOMException, nextEvent, record, startServer } from './helpers.ts';

async function open(server: TestServer = startServer()): Promise<{ server: TestServer; ws: WebSocket; client: TestConnection; log: string[] }> {
  const ws = new WebSocket(server.url);
  const log = record(ws);
  const client = await server.nextConnection();
  await nextEvent(ws, 'open');
  return { server, ws, client, log };
}

describe('WebSocket#close: validation', () => {
  // "If code is not null, but is neither an integer equal to 1000 nor an integer in the
  // range 3000 to 4999, inclusive, throw an "InvalidAccessError" DOMException."
  it.each([0, 1, 999, 1001, 1002, 1005, 1006, 1011, 1015, 2999, 5000, 65535])('throws InvalidAccessError for code %i', (code) => {
    const ws = new WebSocket(startServer().url);
    expectDOMException(() => ws.close(code), 'InvalidAccessError');
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
  });

  it.each([1000, 3000, 4000, 4999])('accepts code %i', async (code) => {
    const { server, ws, client } = await open();
    ws.close(code);
    await server.flush();
    expect(client.closeInfo?.closeCode).toBe(code);
  });

  // `[Clamp] unsigned short`: NaN → 0, clamp to 0–65535, round half to even.
  it.each([
    [999.5, 1000],
    [1000.4, 1000],
    [2999.5, 3000],
    [3000.5, 3000],
    [3001.5, 3002],
    ['4000', 4000],
    [' 3500 ', 3500],
  ])('converts %j to the code %i ([Clamp])', async (code, expected) => {
    const { server, ws, client } = await open();
    ws.close(code as number);
    await server.flush();
    expect(client.closeInfo?.closeCode).toBe(expected);
  });

  it.each([
    [NaN, 'NaN is 0'],
    [-Infinity, '-Infinity clamps to 0'],
    [Infinity, 'Infinity clamps to 65535'],
    [66536, 'clamps to 65535 (a modulo conversion would give 1000)'],
    [-64536, 'clamps to 0 (a modulo conversion would give 1000)'],
    [4999.5, 'rounds half to even: 5000'],
    [null, 'null is 0'],
    ['abc', 'a non-numeric string is NaN, so 0'],
  ])('throws InvalidAccessError for %j: %s', (code, _why) => {
    const ws = new WebSocket(startServer().url);
    expectDOMException(() => ws.close(code as number), 'InvalidAccessError');
  });

  it('throws a TypeError for a BigInt code (ToNumber)', () => {
    const ws = new WebSocket(startServer().url);
    expect(() => ws.close(1000n as unknown as number)).toThrow(TypeError);
  });

  // "Let reasonBytes be the result of UTF-8 encoding reason. If reasonBytes is longer than
  // 123 bytes, then throw a "SyntaxError" DOMException."
  it.each([
    ['124 ASCII bytes', 'x'.repeat(124)],
    ['62 two-byte characters (124 bytes)', 'é'.repeat(62)],
    ['41 three-byte characters and one more byte', `${'€'.repeat(41)}x`],
    ['31 four-byte characters (124 bytes)', '😀'.repeat(31)],
    ['41 lone surrogates and one byte (U+FFFD is 3 bytes)', `${'\uD800'.repeat(41)}x`],
  ])('throws SyntaxError for a reason of %s', (_name, reason) => {
    const ws = new WebSocket(startServer().url);
    expectDOMException(() => ws.close(1000, reason), 'SyntaxError');
  });

  it.each([
    ['123 ASCII bytes', 'x'.repeat(123)],
    ['41 three-byte characters (123 bytes)', '€'.repeat(41)],
  ])('accepts a reason of %s', async (_name, reason) => {
    const { server, ws, client } = await open();
    ws.close(4000, reason);
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 4000, reason, wasClean: true });
  });

  it('checks the code before the reason', () => {
    const ws = new WebSocket(startServer().url);
    expectDOMException(() => ws.close(1001, 'x'.repeat(200)), 'InvalidAccessError');
  });

  it('validates even when already closed', async () => {
    const { server, ws } = await open();
    ws.close();
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expectDOMException(() => ws.close(1001), 'InvalidAccessError');
    expectDOMException(() => ws.close(1000, 'x'.repeat(124)), 'SyntaxError');
    expect(() => ws.close(1000)).not.toThrow();
  });

  // WebIDL USVString conversion, unlike the wsflow API, which sends a Uint8Array reason as its octets.
  it('converts a Uint8Array reason to its string form ("104,105")', async () => {
    const { server, ws, client } = await open();
    ws.close(4000, new Uint8Array([104, 105]) as unknown as string);
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 4000, reason: '104,105', wasClean: true });
  });

  it('sends a lone surrogate in the reason as U+FFFD', async () => {
    const { server, ws, client } = await open();
    ws.close(4000, 'a\uDC00');
    await server.flush();
    expect(client.closeInfo?.reason).toBe('a\uFFFD');
  });
});

describe('WebSocket#close: the Close frame', () => {
  // "If code is null and reason is the empty string, the WebSocket Close frame must not
  // have a body." The server then reports 1005 (RFC 6455 §7.1.5).
  it('sends a Close frame without a body when called without arguments', async () => {
    const { server, ws, client, log } = await open();
    ws.close();
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 1005, reason: '', wasClean: true });
    expect(log).toEqual(['open(1)', 'close(1005,"",true,3)']);
  });

  it('treats explicit undefined arguments as missing', async () => {
    const { server, ws, client } = await open();
    ws.close(undefined, undefined);
    await server.flush();
    expect(client.closeInfo?.closeCode).toBe(1005);
  });

  // "If reason is non-empty but code is null, then set code to 1000 ("Normal Closure")."
  it('uses 1000 for a reason without a code', async () => {
    const { server, ws, client } = await open();
    ws.close(undefined, 'bye');
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 1000, reason: 'bye', wasClean: true });
  });

  it('sends an empty reason with a code as the code alone', async () => {
    const { server, ws, client } = await open();
    ws.close(3001, '');
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 3001, reason: '', wasClean: true });
  });

  it('sends the code and reason, and reports the code the server answered with', async () => {
    const { server, ws, client, log } = await open();
    ws.close(4321, 'see you');
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 4321, reason: 'see you', wasClean: true });
    expect(log[1]).toMatch(/^close\(4321,".*",true,3\)$/);
  });
});

describe('WebSocket#close: the ready state', () => {
  it('moves OPEN to CLOSING synchronously and fires nothing synchronously', async () => {
    const { ws, log } = await open();
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    expect(log).toEqual(['open(1)']);
  });

  it('does nothing when called again while CLOSING or CLOSED', async () => {
    const { server, ws, client, log } = await open();
    ws.close(4000);
    ws.close(4001);
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    await server.flush();
    ws.close(4002);
    expect(client.closeInfo?.closeCode).toBe(4000);
    expect(log.filter((e) => e.startsWith('close'))).toHaveLength(1);
  });

  // "If the WebSocket connection is not yet established: fail the WebSocket connection and
  // set this's ready state to CLOSING (2)." Failing fires error, then close with 1006.
  it('fails the connection when called while CONNECTING: error, then close 1006', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    ws.close(1000, 'never mind');
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    expect(log).toEqual([]);
    await server.flush();
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(server.connections).toEqual([]);
  });

  it('fails while the server holds the handshake, and the server sees it dropped', async () => {
    const server = startServer({ autoAccept: false });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const handshake = await server.nextHandshake();
    ws.close();
    await server.flush();
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(handshake.state).toBe('dropped');
  });

  it('starts the closing handshake when called after the connection is established but before open fired', async () => {
    const server = startServer();
    let dialed!: ReturnType<Dialer>;
    const WS = createWebSocketClass({ dialer: (request) => (dialed = defaultNetwork.dialer(request)) });
    const ws = new WS(server.url);
    const log = record(ws);
    const states: number[] = [];
    // Runs right after the WebSocket learnt that the connection is established, before
    // the task that fires open.
    void dialed.then(() => {
      states.push(ws.readyState);
      ws.close(4000);
      states.push(ws.readyState);
    });
    await server.flush();
    expect(states).toEqual([WebSocket.CONNECTING, WebSocket.CLOSING]);
    // The connection was established, so it closes cleanly; open never fires.
    expect(log).toEqual(['close(4000,"",true,3)']);
    expect(server.connections[0]?.closeInfo?.closeCode).toBe(4000);
  });

  it('sets CLOSING when the server already started the closing handshake', async () => {
    const { server, ws, client, log } = await open();
    void client.close(4000, 'server first');
    // The server's Close has not been processed by the client yet.
    ws.close(4001);
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    await server.flush();
    expect(log[log.length - 1]).toMatch(/^close\(400[01],.*,true,3\)$/);
  });
});
