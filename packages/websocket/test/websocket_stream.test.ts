/**
 * `WebSocketStream` and `WebSocketError` (WebSockets Standard): construction, the opened
 * and closed promises, the streams with their backpressure, closing with a code through
 * close(), cancel() and abort(), failures, and the abort signal.
 */
import { describe, expect, it } from 'vitest';
import { WebSocketError, WebSocketStream, createWebSocketStreamClass, defaultNetwork, type TestConnection, type TestServer, type WebSocketOpenInfo } from '../src/index.ts';
import { expectDOMException, rejection, startServer, uniqueUrl } from './helpers.ts';

async function open(
  server: TestServer = startServer(),
  options?: { protocols?: string[] },
): Promise<{ server: TestServer; wss: WebSocketStream; client: TestConnection; info: WebSocketOpenInfo }> {
  const wss = new WebSocketStream(server.url, options);
  const client = await server.nextConnection();
  const info = await wss.opened;
  return { server, wss, client, info };
}

const text = (bytes: Uint8Array | string): string => (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));

describe('WebSocketStream: constructor', () => {
  it('throws a TypeError without arguments', () => {
    const Ctor = WebSocketStream as unknown as new () => WebSocketStream;
    expect(() => new Ctor()).toThrow(TypeError);
  });

  it.each(['ws://ex<a.test/', 'ftp://x.test/', 'ws://x.test/#', 'ws://x.test/#frag'])('throws SyntaxError for %j', (url) => {
    expectDOMException(() => new WebSocketStream(url), 'SyntaxError');
  });

  it('maps http: to ws: and serializes the url', () => {
    const wss = new WebSocketStream('HTTP://Stream.TEST/a?b');
    expect(wss.url).toBe('ws://stream.test/a?b');
    wss.close();
  });

  it.each([[['a', 'a']], [['a', 'A']], [['a b']], [['']]])('throws SyntaxError for the protocols %j', (protocols) => {
    expectDOMException(() => new WebSocketStream(uniqueUrl(), { protocols }), 'SyntaxError');
  });

  it('throws a TypeError for protocols that are not a sequence', () => {
    expect(() => new WebSocketStream(uniqueUrl(), { protocols: 'chat' as unknown as string[] })).toThrow(TypeError);
  });

  it('throws a TypeError for a signal that is not an AbortSignal', () => {
    expect(() => new WebSocketStream(uniqueUrl(), { signal: {} as AbortSignal })).toThrow(TypeError);
  });

  it('throws a TypeError for options that are not an object', () => {
    expect(() => new WebSocketStream(uniqueUrl(), 'x' as unknown as object)).toThrow(TypeError);
  });

  it('accepts null and undefined options', () => {
    new WebSocketStream(uniqueUrl(), undefined).close();
    new WebSocketStream(uniqueUrl(), null as unknown as undefined).close();
  });

  it('offers the protocols in order and resolves opened with the selected one', async () => {
    const server = startServer({ protocols: ['b'] });
    const wss = new WebSocketStream(server.url, { protocols: ['a', 'b'] });
    expect((await server.nextHandshake()).protocols).toEqual(['a', 'b']);
    const info = await wss.opened;
    expect(info.protocol).toBe('b');
    expect(info.extensions).toBe('');
    expect(info.readable).toBeInstanceOf(ReadableStream);
    expect(info.writable).toBeInstanceOf(WritableStream);
  });
});

describe('WebSocketStream: reading and writing', () => {
  it('reads text as strings and binary as Uint8Arrays that own their buffer', async () => {
    const { server, client, info } = await open();
    client.send('hello');
    client.send(new Uint8Array([1, 2, 3]));
    client.send(new Uint8Array([4]));
    await server.flush();
    const reader = info.readable.getReader();
    expect((await reader.read()).value).toBe('hello');
    const first = (await reader.read()).value as Uint8Array;
    const second = (await reader.read()).value as Uint8Array;
    expect(first).toBeInstanceOf(Uint8Array);
    expect(Array.from(first)).toEqual([1, 2, 3]);
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(3);
    expect(Array.from(second)).toEqual([4]);
  });

  it('writes strings as text and BufferSources as binary', async () => {
    const { server, client, info } = await open();
    const writer = info.writable.getWriter();
    await writer.write('text');
    await writer.write(new Uint8Array([1, 2]));
    await writer.write(new Uint8Array([0, 1, 2, 3]).buffer);
    await writer.write(new DataView(new Uint8Array([9, 8, 7]).buffer, 1));
    await server.flush();
    expect(client.messages).toEqual(['text', new Uint8Array([1, 2]), new Uint8Array([0, 1, 2, 3]), new Uint8Array([8, 7])]);
  });

  // "Otherwise, let string be the result of converting chunk to an IDL USVString."
  it('writes anything else as text, a Blob included', async () => {
    const { server, client, info } = await open();
    const writer = info.writable.getWriter();
    await writer.write(42 as unknown as string);
    await writer.write(new Blob(['x']) as unknown as string);
    await writer.write('\uD800' as string);
    await server.flush();
    expect(client.messages).toEqual(['42', '[object Blob]', '\uFFFD']);
  });

  it('rejects a write of a Symbol', async () => {
    const { info } = await open();
    const writer = info.writable.getWriter();
    expect(await rejection(writer.write(Symbol('x') as unknown as string))).toBeInstanceOf(TypeError);
  });

  // "Set data to a copy of the bytes given chunk."
  it('sends a copy of the bytes taken when write() is called', async () => {
    const { server, client, info } = await open();
    const writer = info.writable.getWriter();
    const bytes = new Uint8Array([1, 2, 3]);
    const written = writer.write(bytes);
    bytes[0] = 99;
    await written;
    await server.flush();
    expect(client.messages).toEqual([new Uint8Array([1, 2, 3])]);
  });

  it('echoes through pipeTo', async () => {
    const { server, info } = await open(startServer({ echo: true }));
    const writer = info.writable.getWriter();
    for (const m of ['a', 'b', 'c']) await writer.write(m);
    const reader = info.readable.getReader();
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(text((await reader.read()).value!));
    expect(got).toEqual(['a', 'b', 'c']);
    await server.flush();
  });
});

describe('WebSocketStream: backpressure', () => {
  it('stops reading from the server while the reader does not read', async () => {
    const { server, client, info } = await open();
    const message = new Uint8Array(16 * 1024);
    for (let i = 0; i < 64; i++) client.send(message);
    await server.flush();
    // 1 MiB was sent; the client holds a few messages and the in-memory socket 64 KiB.
    expect(client.bufferedAmount).toBeGreaterThan(512 * 1024);
    const reader = info.readable.getReader();
    for (let i = 0; i < 64; i++) expect((await reader.read()).value).toHaveLength(message.length);
    await server.flush();
    expect(client.bufferedAmount).toBe(0);
  });

  it('keeps a write pending while the server does not read', async () => {
    const { server, client, info } = await open();
    client.pauseReading();
    const writer = info.writable.getWriter();
    const chunk = new Uint8Array(256 * 1024);
    let settled = 0;
    const writes = Array.from({ length: 8 }, () => writer.write(chunk).then(() => settled++));
    await server.flush();
    expect(settled).toBeLessThan(8);
    client.resumeReading();
    await Promise.all(writes);
    await server.flush();
    expect(settled).toBe(8);
    expect(client.messages).toHaveLength(8);
  });
});

describe('WebSocketStream: closing', () => {
  it('close() sends the code and reason; closed resolves with what the server answered', async () => {
    const { server, wss, client } = await open();
    wss.close({ closeCode: 4000, reason: 'bye' });
    expect(await wss.closed).toMatchObject({ closeCode: 4000 });
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 4000, reason: 'bye', wasClean: true });
  });

  // WebIDL: the `reason` member is a USVString, so bytes become their string form here, unlike
  // the wsflow API (WebSocketConnection.close), which sends a Uint8Array reason as its octets.
  it('close() converts a Uint8Array reason to its string, as WebIDL does ("104,105")', async () => {
    const { server, wss, client } = await open();
    wss.close({ closeCode: 4000, reason: new Uint8Array([104, 105]) as unknown as string });
    await wss.closed;
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 4000, reason: '104,105', wasClean: true });
  });

  it('close() without a code sends a Close frame without a body (1005)', async () => {
    const { server, wss, client } = await open();
    wss.close();
    expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
    await server.flush();
    expect(client.closeInfo?.closeCode).toBe(1005);
  });

  it('close() with a reason and no code uses 1000', async () => {
    const { server, wss, client } = await open();
    wss.close({ reason: 'done' });
    await wss.closed;
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 1000, reason: 'done', wasClean: true });
  });

  it('close() validates the code and reason', async () => {
    const { wss } = await open();
    expectDOMException(() => wss.close({ closeCode: 1001 }), 'InvalidAccessError');
    expectDOMException(() => wss.close({ closeCode: 1000, reason: 'x'.repeat(124) }), 'SyntaxError');
    // [EnforceRange] unsigned short
    expect(() => wss.close({ closeCode: 70000 })).toThrow(TypeError);
    expect(() => wss.close({ closeCode: NaN })).toThrow(TypeError);
  });

  it('the server closing ends the readable after its messages, errors the writable, resolves closed', async () => {
    const { server, wss, client, info } = await open();
    client.send('last words');
    void client.close(4100, 'server done');
    await server.flush();
    expect(await wss.closed).toEqual({ closeCode: 4100, reason: 'server done' });
    const reader = info.readable.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 'last words' });
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    const error = await rejection(info.writable.getWriter().write('late'));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
  });

  it('cancelling the readable with a WebSocketError closes with its code and reason', async () => {
    const { server, wss, client, info } = await open();
    await info.readable.cancel(new WebSocketError('stop', { closeCode: 4002, reason: 'enough' }));
    await wss.closed;
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 4002, reason: 'enough', wasClean: true });
  });

  it('cancelling the readable with another reason closes without a code', async () => {
    const { server, wss, client, info } = await open();
    await info.readable.cancel(new Error('whatever'));
    await wss.closed;
    await server.flush();
    expect(client.closeInfo?.closeCode).toBe(1005);
  });

  it('cancelling closes even while the transport is paused by unread messages', async () => {
    const { server, wss, client, info } = await open();
    for (let i = 0; i < 200; i++) client.send(new Uint8Array(4096));
    await server.flush();
    await info.readable.cancel();
    await wss.closed;
    await server.flush();
    expect(client.closeInfo?.closeCode).toBe(1005);
  });

  it('aborting the writable with a WebSocketError closes with its code and reason', async () => {
    const { server, wss, client, info } = await open();
    await info.writable.abort(new WebSocketError('', { closeCode: 3003, reason: 'aborted' }));
    await wss.closed;
    await server.flush();
    expect(client.closeInfo).toEqual({ closeCode: 3003, reason: 'aborted', wasClean: true });
  });

  it('closing the writable closes without a code', async () => {
    const { server, wss, client, info } = await open();
    await info.writable.close();
    expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
    await server.flush();
    expect(client.closeInfo?.closeCode).toBe(1005);
  });

  it('a write after close() started rejects without sending', async () => {
    const { server, wss, client, info } = await open();
    const writer = info.writable.getWriter();
    await writer.write('before');
    wss.close();
    expect(await rejection(writer.write('after'))).toMatchObject({ name: 'InvalidStateError' });
    await server.flush();
    expect(client.messages).toEqual(['before']);
  });
});

describe('WebSocketStream: the writer and the closing handshake', () => {
  it("the writer's close() resolves when the closing handshake completes, not before", async () => {
    const { server, client, info } = await open();
    // The server reads nothing: our Close reaches it only when it reads again.
    client.pauseReading();
    const writer = info.writable.getWriter();
    let closeSettled = false;
    const closing = writer.close().then(() => (closeSettled = true));
    await server.flush();
    expect(closeSettled).toBe(false);
    client.resumeReading();
    await closing;
    // By then the server got our Close and answered it.
    expect(client.closeInfo).toMatchObject({ closeCode: 1005, wasClean: true });
  });

  it("the writer's close() rejects with the WebSocketError when the connection drops instead", async () => {
    const { server, client, info } = await open();
    client.pauseReading();
    const writer = info.writable.getWriter();
    const closing = writer.close();
    await server.flush();
    client.drop();
    const error = await rejection(closing);
    expect(error).toBeInstanceOf(WebSocketError);
    expect((error as WebSocketError).closeCode).toBe(1006);
  });

  it('close() with written data still waiting: the waiting writes reject and the close is not clean', async () => {
    const { server, wss, client, info } = await open();
    client.pauseReading();
    const writer = info.writable.getWriter();
    const chunk = new Uint8Array(2 * 1024 * 1024);
    // One goes to the connection and waits for room; the others wait in the stream.
    const writes = Promise.allSettled([1, 2, 3, 4].map(() => writer.write(chunk)));
    await server.flush();
    wss.close();
    client.resumeReading();
    const results = await writes;
    const sent = results.filter((r) => r.status === 'fulfilled').length;
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThan(4);
    // Each write that did not happen rejected: the one that reached the sink after closing
    // started with an InvalidStateError, the ones still queued when the close completed with
    // the error the writable was errored with (which comes first depends on the runtime).
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failures).toHaveLength(4 - sent);
    for (const failure of failures) expect(['InvalidStateError', 'WebSocketError']).toContain((failure.reason as DOMException).name);
    // The closing handshake completed (the server answered 1005), but data was left unsent.
    const error = await rejection(wss.closed);
    expect(error).toBeInstanceOf(WebSocketError);
    expect((error as WebSocketError).closeCode).toBe(1005);
    await server.flush();
    expect(client.messages).toHaveLength(sent);
    expect(client.closeInfo?.wasClean).toBe(true);
  });

  it('close() after every write completed is clean', async () => {
    const { server, wss, client, info } = await open();
    const writer = info.writable.getWriter();
    await writer.write('a');
    await writer.write(new Uint8Array(3));
    wss.close({ closeCode: 1000, reason: 'done' });
    expect(await wss.closed).toEqual({ closeCode: 1000, reason: 'done' });
    await server.flush();
    expect(client.messages).toHaveLength(2);
  });
});

describe('WebSocketStream: what a write accepts (Web IDL BufferSource, no [AllowShared], no [AllowResizable])', () => {
  const hasResizable = typeof (ArrayBuffer.prototype as { resize?: unknown }).resize === 'function';
  const makeResizable = (): ArrayBuffer => new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4, { maxByteLength: 16 });
  const hasShared = typeof SharedArrayBuffer === 'function'; // not in a page without cross-origin isolation
  const cases: Array<[string, () => unknown]> = hasShared
    ? [
        ['a view on a SharedArrayBuffer', () => new Uint8Array(new SharedArrayBuffer(4))],
        ['a DataView on a SharedArrayBuffer', () => new DataView(new SharedArrayBuffer(4))],
        ['a SharedArrayBuffer', () => new SharedArrayBuffer(4)],
      ]
    : [];
  if (hasResizable) {
    cases.push(['a view on a resizable ArrayBuffer', () => new Uint8Array(makeResizable())]);
    cases.push(['a resizable ArrayBuffer', () => makeResizable()]);
  }

  it.each(cases)('rejects %s with a TypeError, sending nothing', async (_name, make) => {
    const { server, client, info } = await open();
    const writer = info.writable.getWriter();
    expect(await rejection(writer.write(make() as BufferSource))).toBeInstanceOf(TypeError);
    await server.flush();
    expect(client.messages).toEqual([]);
  });

  it.skipIf(!hasShared && !hasResizable)('a refused write errors the writable, and a later close is still clean', async () => {
    const { wss, info } = await open();
    const writer = info.writable.getWriter();
    const refused = hasShared ? new Uint8Array(new SharedArrayBuffer(2)) : new Uint8Array(makeResizable());
    expect(await rejection(writer.write(refused as unknown as BufferSource))).toBeInstanceOf(TypeError);
    expect(await rejection(writer.write('after'))).toBeInstanceOf(TypeError);
    wss.close({ closeCode: 1000, reason: '' });
    expect(await wss.closed).toEqual({ closeCode: 1000, reason: '' });
  });

  it('still takes a view on a fixed-length ArrayBuffer', async () => {
    const { server, client, info } = await open();
    await info.writable.getWriter().write(new Uint8Array([1, 2, 3]).subarray(1));
    await server.flush();
    expect(client.messages.map((m) => Array.from(m as Uint8Array))).toEqual([[2, 3]]);
  });
});

describe('WebSocketStream: failures', () => {
  it('a dropped connection errors both streams and rejects closed with WebSocketError 1006', async () => {
    const { server, wss, client, info } = await open();
    client.drop();
    await server.flush();
    const error = (await rejection(wss.closed)) as WebSocketError;
    expect(error).toBeInstanceOf(WebSocketError);
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('WebSocketError');
    expect(error.closeCode).toBe(1006);
    expect(error.reason).toBe('');
    expect(await rejection(info.readable.getReader().read())).toBe(error);
    expect(await rejection(info.writable.getWriter().write('x'))).toBe(error);
  });

  it('a protocol error of the server rejects closed with 1006', async () => {
    const { server, wss, client } = await open();
    client.sendFrame({ opcode: 0x3 });
    await server.flush();
    expect(((await rejection(wss.closed)) as WebSocketError).closeCode).toBe(1006);
    expect(client.closeInfo?.closeCode).toBe(1002);
  });

  it('a rejected handshake rejects opened and closed with WebSocketErrors', async () => {
    const server = startServer({ onhandshake: (h) => h.reject(403) });
    const wss = new WebSocketStream(server.url);
    const opened = await rejection(wss.opened);
    const closed = (await rejection(wss.closed)) as WebSocketError;
    expect(opened).toBeInstanceOf(WebSocketError);
    expect(closed).toBeInstanceOf(WebSocketError);
    expect(closed.closeCode).toBe(1006);
  });

  it('no server at the URL rejects opened', async () => {
    const wss = new WebSocketStream(uniqueUrl('absent'));
    expect(await rejection(wss.opened)).toBeInstanceOf(WebSocketError);
  });

  it('offered protocols and none selected fails the connection', async () => {
    const server = startServer({ protocols: [] });
    const wss = new WebSocketStream(server.url, { protocols: ['x'] });
    expect(await rejection(wss.opened)).toBeInstanceOf(WebSocketError);
  });

  it('close() while connecting fails the connection', async () => {
    const server = startServer({ autoAccept: false });
    const wss = new WebSocketStream(server.url);
    const handshake = await server.nextHandshake();
    wss.close({ closeCode: 1000 });
    expect(await rejection(wss.opened)).toBeInstanceOf(WebSocketError);
    expect(((await rejection(wss.closed)) as WebSocketError).closeCode).toBe(1006);
    await server.flush();
    expect(handshake.state).toBe('dropped');
  });
});

describe('WebSocketStream: the abort signal', () => {
  it('an already aborted signal rejects opened and closed with its reason, and nothing is dialed', async () => {
    const server = startServer();
    const reason = new Error('not today');
    const wss = new WebSocketStream(server.url, { signal: AbortSignal.abort(reason) });
    expect(await rejection(wss.opened)).toBe(reason);
    expect(await rejection(wss.closed)).toBe(reason);
    await server.flush();
    expect(server.handshakes).toEqual([]);
  });

  it('aborting during the handshake rejects both promises with the reason and drops the handshake', async () => {
    const server = startServer({ autoAccept: false });
    const controller = new AbortController();
    const wss = new WebSocketStream(server.url, { signal: controller.signal });
    const handshake = await server.nextHandshake();
    controller.abort();
    const reason = await rejection(wss.opened);
    expect(reason).toBeInstanceOf(DOMException);
    expect((reason as DOMException).name).toBe('AbortError');
    expect(await rejection(wss.closed)).toBe(reason);
    await server.flush();
    expect(handshake.state).toBe('dropped');
  });

  it('aborting after open does nothing', async () => {
    const server = startServer({ echo: true });
    const controller = new AbortController();
    const wss = new WebSocketStream(server.url, { signal: controller.signal });
    const { readable, writable } = await wss.opened;
    controller.abort();
    await writable.getWriter().write('still here');
    expect((await readable.getReader().read()).value).toBe('still here');
  });
});

describe('WebSocketError', () => {
  it('is a DOMException named WebSocketError with a null code and empty reason by default', () => {
    const error = new WebSocketError();
    expect(error).toBeInstanceOf(DOMException);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('WebSocketError');
    expect(error.message).toBe('');
    expect(error.closeCode).toBe(null);
    expect(error.reason).toBe('');
  });

  it('keeps a valid code and reason', () => {
    const error = new WebSocketError('msg', { closeCode: 4000, reason: 'r' });
    expect([error.message, error.closeCode, error.reason]).toEqual(['msg', 4000, 'r']);
  });

  // "If reason is non-empty, but code is not set, then set code to 1000."
  it('uses 1000 for a reason without a code', () => {
    expect(new WebSocketError('', { reason: 'why' }).closeCode).toBe(1000);
  });

  it('validates the code and reason', () => {
    expectDOMException(() => new WebSocketError('', { closeCode: 1001 }), 'InvalidAccessError');
    expectDOMException(() => new WebSocketError('', { closeCode: 1006 }), 'InvalidAccessError');
    expectDOMException(() => new WebSocketError('', { reason: 'é'.repeat(62) }), 'SyntaxError');
    expect(() => new WebSocketError('', { closeCode: -1 })).toThrow(TypeError);
    expect(() => new WebSocketError('', { closeCode: 65536 })).toThrow(TypeError);
  });

  it('truncates a fractional code ([EnforceRange])', () => {
    expect(new WebSocketError('', { closeCode: 3000.9 }).closeCode).toBe(3000);
  });
});

describe('createWebSocketStreamClass', () => {
  it('makes a subclass that dials with the given dialer', async () => {
    const server = startServer({ echo: true });
    const urls: string[] = [];
    const WSS = createWebSocketStreamClass({
      dialer: (request) => {
        urls.push(request.url.href);
        return defaultNetwork.dialer(request);
      },
      baseURL: server.url.href,
    });
    const wss = new WSS('./');
    expect(wss).toBeInstanceOf(WebSocketStream);
    await wss.opened;
    expect(urls).toEqual([server.url.href]);
  });
});
