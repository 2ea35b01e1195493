/**
 * The attributes of `WebSocket`: the ready state constants, url, protocol, extensions,
 * binaryType and bufferedAmount, from the WebSockets Standard.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from '../src/index.ts';
import { nextEvent, startServer } from './helpers.ts';

describe('WebSocket: ready state constants', () => {
  const constants = [
    ['CONNECTING', 0],
    ['OPEN', 1],
    ['CLOSING', 2],
    ['CLOSED', 3],
  ] as const;

  it.each(constants)('%s is %i on the class, the prototype and instances', (name, value) => {
    expect(WebSocket[name]).toBe(value);
    expect((WebSocket.prototype as unknown as Record<string, number>)[name]).toBe(value);
    const ws = new WebSocket('ws://constants.test/');
    expect(ws[name]).toBe(value);
    ws.close();
  });

  it.each(constants)('%s is a read-only, enumerable, non-configurable property (Web IDL constant)', (name) => {
    for (const holder of [WebSocket, WebSocket.prototype]) {
      const descriptor = Object.getOwnPropertyDescriptor(holder, name);
      expect(descriptor).toMatchObject({ writable: false, enumerable: true, configurable: false });
    }
    expect(() => {
      (WebSocket as unknown as Record<string, number>)[name] = 9;
    }).toThrow(TypeError);
  });
});

describe('WebSocket: the interface', () => {
  it('has the lengths of its Web IDL operations', () => {
    expect(WebSocket.length).toBe(1);
    expect(WebSocket.prototype.send.length).toBe(1);
    expect(WebSocket.prototype.close.length).toBe(0);
  });

  it('is an EventTarget reporting itself as WebSocket', () => {
    const ws = new WebSocket('ws://interface.test/');
    expect(ws).toBeInstanceOf(EventTarget);
    expect(Object.prototype.toString.call(ws)).toBe('[object WebSocket]');
    ws.close();
  });
});

describe('WebSocket: url', () => {
  it('returns the URL record serialized', () => {
    const ws = new WebSocket('ws://Example.TEST:80/a/../b?c');
    expect(ws.url).toBe('ws://example.test/b?c');
    ws.close();
  });
});

describe('WebSocket: protocol and extensions', () => {
  it('are empty until open, then what the server selected', async () => {
    const server = startServer({ protocols: ['v2'] });
    const ws = new WebSocket(server.url, ['v1', 'v2']);
    expect(ws.protocol).toBe('');
    expect(ws.extensions).toBe('');
    // Still empty after the server accepted, until the open task runs.
    await server.nextConnection();
    expect(ws.protocol).toBe('');
    await nextEvent(ws, 'open');
    expect(ws.protocol).toBe('v2');
    expect(ws.extensions).toBe('');
  });

  it('protocol stays empty when none was offered', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    await nextEvent(ws, 'open');
    expect(ws.protocol).toBe('');
  });

  it('keeps the protocol after close', async () => {
    const server = startServer({ protocols: ['chat'] });
    const ws = new WebSocket(server.url, 'chat');
    await nextEvent(ws, 'open');
    ws.close();
    await nextEvent(ws, 'close');
    expect(ws.protocol).toBe('chat');
  });
});

describe('WebSocket: binaryType', () => {
  it('is "blob" initially', () => {
    const ws = new WebSocket('ws://binarytype.test/');
    expect(ws.binaryType).toBe('blob');
    ws.close();
  });

  it('takes "arraybuffer" and "blob" and ignores other values', () => {
    const ws = new WebSocket('ws://binarytype.test/');
    ws.binaryType = 'arraybuffer';
    expect(ws.binaryType).toBe('arraybuffer');
    for (const value of ['Blob', 'ArrayBuffer', '', 'text', null, undefined, 1]) {
      ws.binaryType = value as unknown as 'blob';
      expect(ws.binaryType).toBe('arraybuffer');
    }
    ws.binaryType = 'blob';
    expect(ws.binaryType).toBe('blob');
    ws.close();
  });

  it('converts the value to a string first (Web IDL enumeration)', () => {
    const ws = new WebSocket('ws://binarytype.test/');
    ws.binaryType = { toString: () => 'arraybuffer' } as unknown as 'arraybuffer';
    expect(ws.binaryType).toBe('arraybuffer');
    expect(() => {
      ws.binaryType = Symbol('x') as unknown as 'blob';
    }).toThrow(TypeError);
    ws.close();
  });

  it('is read when each message is dispatched, not when it arrives', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    await nextEvent(ws, 'open');
    const kinds: string[] = [];
    ws.onmessage = (event) => {
      kinds.push(event.data instanceof Blob ? 'blob' : event.data instanceof ArrayBuffer ? 'arraybuffer' : typeof event.data);
      ws.binaryType = 'arraybuffer';
    };
    // Both arrive together, while binaryType is "blob"; the first handler switches it.
    client.send(new Uint8Array([1]));
    client.send(new Uint8Array([2]));
    await server.flush();
    expect(kinds).toEqual(['blob', 'arraybuffer']);
  });
});

describe('WebSocket: bufferedAmount', () => {
  it('is 0 initially', () => {
    const ws = new WebSocket('ws://buffered.test/');
    expect(ws.bufferedAmount).toBe(0);
    ws.close();
  });

  // "must increase the bufferedAmount attribute by the number of bytes needed to express
  // the argument as UTF-8", "by the size of the Blob", "by the length of the ArrayBuffer",
  // "by the length of data's buffer" (for a view: the bytes it views).
  it.each([
    ['ascii text', 'hello', 5],
    ['two-byte UTF-8', 'é', 2],
    ['three-byte UTF-8', '€', 3],
    ['a surrogate pair', '😀', 4],
    ['a lone surrogate (U+FFFD, 3 bytes)', '\uD800', 3],
    ['an ArrayBuffer', new ArrayBuffer(7), 7],
    ['a view of part of a buffer', new Uint8Array(new ArrayBuffer(16), 4, 6), 6],
    ['a DataView', new DataView(new ArrayBuffer(9)), 9],
    ['a Float64Array', new Float64Array(3), 24],
    ['a Blob', new Blob(['abcd']), 4],
  ])('grows synchronously by the application bytes of %s', async (_name, data, size) => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    await nextEvent(ws, 'open');
    ws.send(data as string);
    expect(ws.bufferedAmount).toBe(size);
    await server.flush();
    expect(ws.bufferedAmount).toBe(0);
  });

  it('counts sends made in the same task together', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    await nextEvent(ws, 'open');
    ws.send('abc');
    ws.send(new Uint8Array(10));
    ws.send(new Blob(['xy']));
    expect(ws.bufferedAmount).toBe(15);
    await server.flush();
    expect(ws.bufferedAmount).toBe(0);
  });

  it('stays up while the server does not read, and drains when it does', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    await nextEvent(ws, 'open');
    client.pauseReading();
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 8; i++) ws.send(chunk);
    await server.flush();
    expect(ws.bufferedAmount).toBeGreaterThan(0);
    expect(ws.bufferedAmount).toBeLessThanOrEqual(8 * chunk.length);
    client.resumeReading();
    await server.flush();
    expect(ws.bufferedAmount).toBe(0);
    expect(client.messages).toHaveLength(8);
  });

  // "If the WebSocket connection is closed, this attribute's value will only increase with
  // each call to the send() method. (The number does not reset to zero once the connection
  // closes.)"
  it('keeps growing with send() after close() and never resets', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    await nextEvent(ws, 'open');
    ws.close();
    ws.send('abcd');
    expect(ws.bufferedAmount).toBe(4);
    await nextEvent(ws, 'close');
    expect(ws.bufferedAmount).toBe(4);
    ws.send(new Uint8Array(6));
    expect(ws.bufferedAmount).toBe(10);
    await server.flush();
    expect(ws.bufferedAmount).toBe(10);
  });

  it('grows with send() after the server closed, and nothing is sent', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    await nextEvent(ws, 'open');
    await client.close(1000);
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    ws.send('xyz');
    expect(ws.bufferedAmount).toBe(3);
    expect(client.messages).toEqual([]);
  });
});
