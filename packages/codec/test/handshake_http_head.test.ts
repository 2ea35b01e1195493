import { describe, expect, it } from 'vitest';
import { HandshakeError } from '../src/errors.ts';
import {
  DEFAULT_MAX_HEAD_SIZE,
  type HttpHeadKind,
  type HttpHeadOptions,
  HttpHeadParser,
  checkHeaderField,
  headerFieldEntries,
  parseRequestHead,
  parseResponseHead,
  serializeRequestHead,
  serializeResponseHead,
} from '../src/http_head.ts';

/** Text to bytes one-to-one (latin1), so tests can write any octet as \xNN. */
function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/**
 * Pushes chunks until a head completes; returns the result and every byte after the head
 * (the rest of the completing chunk plus the chunks never pushed).
 */
function feed(kind: HttpHeadKind, chunks: readonly Uint8Array[], options?: HttpHeadOptions) {
  const parser = new HttpHeadParser(kind, options);
  for (let i = 0; i < chunks.length; i++) {
    const result = parser.push(chunks[i]);
    if (result !== null) return { result, leftover: concat([result.rest, ...chunks.slice(i + 1)]) };
  }
  return { result: null, leftover: new Uint8Array(0) };
}

/** Every way the tests deliver a byte string: whole, one byte at a time, split in two at every boundary. */
function deliveries(data: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[data], Array.from(data, (_, i) => data.subarray(i, i + 1))];
  for (let k = 1; k < data.length; k++) ways.push([data.subarray(0, k), data.subarray(k)]);
  return ways;
}

/** Expects `data` to fail the same way however it is delivered. */
function expectRefusal(kind: HttpHeadKind, data: Uint8Array, code: string, status: number, options?: HttpHeadOptions): void {
  for (const chunks of deliveries(data)) {
    const error = thrown(() => feed(kind, chunks, options));
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code, status });
  }
}

// The client handshake of RFC 6455 §1.2.
const RFC_REQUEST =
  'GET /chat HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

// The server handshake of RFC 6455 §1.2.
const RFC_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  'Sec-WebSocket-Protocol: chat\r\n' +
  '\r\n';

describe('HttpHeadParser: request heads (RFC 9112 §3)', () => {
  it('parses the RFC 6455 §1.2 client handshake', () => {
    const parsed = parseRequestHead(bytes(RFC_REQUEST));
    expect(parsed).not.toBeNull();
    expect(parsed?.bytesConsumed).toBe(RFC_REQUEST.length);
    expect(parsed?.rest).toHaveLength(0);
    expect(parsed?.head).toMatchObject({ kind: 'request', method: 'GET', target: '/chat', version: 'HTTP/1.1' });
    expect(parsed?.head.headers.get('host')).toBe('server.example.com');
    expect(parsed?.head.headers.get('sec-websocket-protocol')).toBe('chat, superchat');
    expect(parsed?.head.headers.size).toBe(7);
    expect(parsed?.head.rawHeaders[0]).toEqual(['Host', 'server.example.com']);
  });

  it('yields the same head and bytesConsumed whole, byte by byte, and split at every boundary', () => {
    const data = bytes(RFC_REQUEST);
    const expected = parseRequestHead(data);
    for (const chunks of deliveries(data)) {
      const { result, leftover } = feed('request', chunks);
      expect(result?.head).toStrictEqual(expected?.head);
      expect(result?.bytesConsumed).toBe(data.length);
      expect(leftover).toHaveLength(0);
    }
  });

  it('preserves the bytes after the head (an early masked frame) under every split', () => {
    // A masked text frame "Hello" (RFC 6455 §5.7) sent right behind the head.
    const frame = hex('818537fa213d7f9f4d5158');
    const data = concat([bytes(RFC_REQUEST), frame]);
    for (const chunks of deliveries(data)) {
      const { result, leftover } = feed('request', chunks);
      expect(result?.bytesConsumed).toBe(RFC_REQUEST.length);
      expect(leftover).toEqual(frame);
    }
  });

  it('returns null until the final CRLF CRLF has arrived', () => {
    const parser = new HttpHeadParser('request');
    expect(parser.push(bytes('GET / HTTP/1.1\r\nHost: a\r\n'))).toBeNull();
    expect(parser.push(bytes('\r'))).toBeNull();
    expect(parser.bytesBuffered).toBe(26);
    expect(parser.push(bytes('\n'))?.head.headers.get('host')).toBe('a');
  });

  it('combines repeated fields with ", " under a lower-case name and keeps every raw line', () => {
    const head = parseRequestHead(bytes('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\nX-A:3\r\n\r\n'))?.head;
    expect(head?.headers.get('x-a')).toBe('1, 2, 3');
    expect(head?.rawHeaders).toEqual([['Host', 'a'], ['X-A', '1'], ['x-a', '2'], ['X-A', '3']]);
  });

  it('trims optional whitespace around values and keeps it inside', () => {
    const head = parseRequestHead(bytes('GET / HTTP/1.1\r\nA:  \t x \t y\t \r\nB:\r\nC: \r\n\r\n'))?.head;
    expect(head?.headers.get('a')).toBe('x \t y');
    expect(head?.headers.get('b')).toBe('');
    expect(head?.headers.get('c')).toBe('');
  });

  it('decodes obs-text octets in values one-to-one (latin1)', () => {
    // "X: caf\xE9" — a 0xE9 octet is obs-text, allowed in a value (RFC 9110 §5.5).
    const data = concat([bytes('GET / HTTP/1.1\r\nX: caf'), hex('e9'), bytes('\r\n\r\n')]);
    expect(parseRequestHead(data)?.head.headers.get('x')).toBe('caf\u00e9');
  });

  it('keeps the method case and an absolute-form target as sent', () => {
    const head = parseRequestHead(bytes('get http://a/b?c=%20 HTTP/1.1\r\n\r\n'))?.head;
    expect(head).toMatchObject({ method: 'get', target: 'http://a/b?c=%20' });
    expect(head?.headers.size).toBe(0);
  });

  it('refuses to be pushed again after a head or an error', () => {
    const done = new HttpHeadParser('request');
    done.push(bytes('GET / HTTP/1.1\r\n\r\n'));
    expect(() => done.push(bytes('x'))).toThrow(TypeError);
    const failed = new HttpHeadParser('request');
    expect(() => failed.push(bytes('GET / HTTP/1.1\n'))).toThrow(HandshakeError);
    expect(() => failed.push(bytes('\n'))).toThrow(TypeError);
  });
});

describe('HttpHeadParser: response heads (RFC 9112 §4)', () => {
  it('parses the RFC 6455 §1.2 server handshake under every split', () => {
    const data = bytes(RFC_RESPONSE);
    for (const chunks of deliveries(data)) {
      const { result } = feed('response', chunks);
      expect(result?.head).toMatchObject({ kind: 'response', version: 'HTTP/1.1', status: 101, reason: 'Switching Protocols' });
      expect(result?.head.headers.get('sec-websocket-accept')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      expect(result?.bytesConsumed).toBe(data.length);
    }
  });

  it('preserves a server frame sent right behind the 101', () => {
    // An unmasked text frame "Hello" (RFC 6455 §5.7).
    const frame = hex('810548656c6c6f');
    const parsed = parseResponseHead(concat([bytes(RFC_RESPONSE), frame]));
    expect(parsed?.rest).toEqual(frame);
  });

  it('accepts an empty reason phrase with or without its SP', () => {
    expect(parseResponseHead(bytes('HTTP/1.1 101 \r\n\r\n'))?.head).toMatchObject({ status: 101, reason: '' });
    expect(parseResponseHead(bytes('HTTP/1.1 101\r\n\r\n'))?.head).toMatchObject({ status: 101, reason: '' });
  });

  it('refuses malformed status lines with MALFORMED_HEAD', () => {
    for (const line of ['HTTP/1.1', 'HTTP/1.1 10', 'HTTP/1.1 1011', 'HTTP/1.1 600 X', 'HTTP/1.1 099 X', 'HTTP/1.1  101', 'HTTP/1.1 abc', 'HTTP/1.1 101 a\x01b', 'http/1.1 101 OK']) {
      expectRefusal('response', bytes(`${line}\r\n\r\n`), 'MALFORMED_HEAD', 400);
    }
  });

  it('refuses a response that is not HTTP/1.1 with BAD_HTTP_VERSION', () => {
    expectRefusal('response', bytes('HTTP/1.0 101 Switching Protocols\r\n\r\n'), 'BAD_HTTP_VERSION', 400);
  });
});

describe('HttpHeadParser: strictness (RFC 9112 §2–§5, RFC 9110 §5)', () => {
  it('refuses a bare LF as soon as it arrives, before any terminator', () => {
    const parser = new HttpHeadParser('request');
    const error = thrown(() => parser.push(bytes('GET / HTTP/1.1\n')));
    expect(error).toMatchObject({ code: 'MALFORMED_HEAD', status: 400 });
    expectRefusal('request', bytes('GET / HTTP/1.1\nHost: a\n\n'), 'MALFORMED_HEAD', 400);
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nHost: a\n\r\n'), 'MALFORMED_HEAD', 400);
  });

  it('refuses a bare CR', () => {
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n'), 'MALFORMED_HEAD', 400);
    expectRefusal('request', bytes('GET / HTTP/1.1\r\r\n\r\n'), 'MALFORMED_HEAD', 400);
  });

  it('refuses obs-fold continuation lines (RFC 9112 §5.2)', () => {
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'), 'MALFORMED_HEAD', 400);
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n'), 'MALFORMED_HEAD', 400);
    expectRefusal('request', bytes('GET / HTTP/1.1\r\n Host: a\r\n\r\n'), 'MALFORMED_HEAD', 400);
  });

  it('refuses field names that are not tokens, whitespace before the colon included', () => {
    for (const line of ['Ho st: a', 'Host : a', 'Host\t: a', '(Host): a', 'Hóst: a', ': a', 'Ho"st: a']) {
      expectRefusal('request', bytes(`GET / HTTP/1.1\r\n${line}\r\n\r\n`), 'MALFORMED_HEAD', 400);
    }
  });

  it('refuses a field line without a colon', () => {
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nHost a\r\n\r\n'), 'MALFORMED_HEAD', 400);
  });

  it('refuses NUL anywhere and other control characters in values (RFC 9110 §5.5)', () => {
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n'), 'MALFORMED_HEAD', 400);
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n'), 'MALFORMED_HEAD', 400);
    expectRefusal('request', bytes('GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n'), 'MALFORMED_HEAD', 400);
    expectRefusal('request', bytes('GET /\x00 HTTP/1.1\r\n\r\n'), 'MALFORMED_HEAD', 400);
  });

  it('refuses an HTTP/1.0 request with BAD_HTTP_VERSION 400, and HTTP/2.0 with 505', () => {
    expectRefusal('request', bytes('GET / HTTP/1.0\r\nHost: a\r\n\r\n'), 'BAD_HTTP_VERSION', 400);
    expectRefusal('request', bytes('GET / HTTP/2.0\r\nHost: a\r\n\r\n'), 'BAD_HTTP_VERSION', 505);
  });

  it('refuses malformed request lines with MALFORMED_HEAD', () => {
    for (const line of ['GET /', 'GET  / HTTP/1.1', 'GET / HTTP/1.1 ', 'GET / http/1.1', 'GET / HTTP/1.1x', 'GET / HTTP/11', 'G(T / HTTP/1.1', 'GET /a b HTTP/1.1', ' GET / HTTP/1.1', 'GET /é HTTP/1.1']) {
      expectRefusal('request', bytes(`${line}\r\n\r\n`), 'MALFORMED_HEAD', 400);
    }
  });

  it('refuses a head that starts with an empty line', () => {
    expectRefusal('request', bytes('\r\nGET / HTTP/1.1\r\n\r\n'), 'MALFORMED_HEAD', 400);
  });
});

describe('HttpHeadParser: limits', () => {
  /** A request head of exactly `size` bytes. */
  function headOfSize(size: number): Uint8Array {
    const start = 'GET / HTTP/1.1\r\nX: ';
    return bytes(start + 'a'.repeat(size - start.length - 4) + '\r\n\r\n');
  }

  it('accepts a head of exactly maxHeadSize bytes under every split', () => {
    const data = headOfSize(200);
    for (const chunks of deliveries(data)) expect(feed('request', chunks, { maxHeadSize: 200 }).result?.bytesConsumed).toBe(200);
  });

  it('refuses a head one byte over maxHeadSize with HEAD_TOO_LARGE 431', () => {
    expectRefusal('request', headOfSize(201), 'HEAD_TOO_LARGE', 431, { maxHeadSize: 200 });
  });

  it('refuses with 431 as soon as maxHeadSize bytes have arrived without a terminator', () => {
    const parser = new HttpHeadParser('request', { maxHeadSize: 64 });
    expect(parser.push(bytes('GET / HTTP/1.1\r\nX: '))).toBeNull();
    let pushed = 19;
    let error: unknown;
    while (error === undefined) {
      try {
        expect(parser.push(bytes('a'))).toBeNull();
        pushed++;
      } catch (e) {
        error = e;
        pushed++;
      }
    }
    expect(pushed).toBe(64);
    expect(error).toMatchObject({ code: 'HEAD_TOO_LARGE', status: 431 });
  });

  it('defaults maxHeadSize to 16 KiB', () => {
    expect(DEFAULT_MAX_HEAD_SIZE).toBe(16384);
    expect(parseRequestHead(headOfSize(16384))?.bytesConsumed).toBe(16384);
    const error = thrown(() => parseRequestHead(headOfSize(16385)));
    expect(error).toMatchObject({ code: 'HEAD_TOO_LARGE', status: 431 });
  });

  it('finds a head at the start of a chunk far larger than maxHeadSize and returns the rest', () => {
    const tail = new Uint8Array(100_000).fill(0x81);
    const parsed = parseRequestHead(concat([bytes('GET / HTTP/1.1\r\n\r\n'), tail]));
    expect(parsed?.bytesConsumed).toBe(18);
    expect(parsed?.rest).toHaveLength(100_000);
  });

  it('refuses more than maxHeaders field lines with HEAD_TOO_LARGE 431', () => {
    const head = (n: number) => bytes(`GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(n)}\r\n`);
    expect(parseRequestHead(head(100))?.head.headers.get('x')).toHaveLength(3 * 100 - 2);
    expect(thrown(() => parseRequestHead(head(101)))).toMatchObject({ code: 'HEAD_TOO_LARGE', status: 431 });
    expect(thrown(() => parseRequestHead(head(3), { maxHeaders: 2 }))).toMatchObject({ code: 'HEAD_TOO_LARGE', status: 431 });
  });

  it('parses a 16 KiB head delivered one byte at a time', () => {
    const data = headOfSize(16384);
    const parser = new HttpHeadParser('request');
    let result = null;
    for (let i = 0; i < data.length && result === null; i++) result = parser.push(data.subarray(i, i + 1));
    expect(result?.bytesConsumed).toBe(16384);
    expect(result?.head.headers.get('x')).toHaveLength(16384 - 23);
  });

  it('refuses invalid limits with RangeError', () => {
    expect(() => new HttpHeadParser('request', { maxHeadSize: 0 })).toThrow(RangeError);
    expect(() => new HttpHeadParser('request', { maxHeaders: -1 })).toThrow(RangeError);
  });
});

describe('serializing heads', () => {
  it('serializes a request head that parses back to the same fields', () => {
    const text = serializeRequestHead({ method: 'GET', target: '/chat?x=1', headers: [['Host', 'a'], ['X-A', '1'], ['X-A', '2']] });
    expect(text).toBe('GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-A: 2\r\n\r\n');
    const head = parseRequestHead(bytes(text))?.head;
    expect(head).toMatchObject({ method: 'GET', target: '/chat?x=1' });
    expect(head?.rawHeaders).toEqual([['Host', 'a'], ['X-A', '1'], ['X-A', '2']]);
  });

  it('serializes a response head with the registered reason phrase that parses back equal', () => {
    const text = serializeResponseHead({ status: 431, headers: { 'Retry-After': '5' } });
    expect(text).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nRetry-After: 5\r\n\r\n');
    expect(parseResponseHead(bytes(text))?.head).toMatchObject({ status: 431, reason: 'Request Header Fields Too Large' });
    expect(serializeResponseHead({ status: 299 })).toBe('HTTP/1.1 299 \r\n\r\n');
  });

  it('refuses CR, LF and NUL in header values with TypeError (response splitting)', () => {
    expect(() => checkHeaderField('X', 'a\r\nSet-Cookie: b=c')).toThrow(TypeError);
    expect(() => checkHeaderField('X', 'a\nb')).toThrow(TypeError);
    expect(() => checkHeaderField('X', 'a\rb')).toThrow(TypeError);
    expect(() => checkHeaderField('X', 'a\x00b')).toThrow(TypeError);
    expect(() => serializeResponseHead({ status: 400, headers: { X: 'a\r\n\r\n<html>' } })).toThrow(TypeError);
  });

  it('refuses non-token names, non-ASCII values and bad start lines with TypeError or RangeError', () => {
    expect(() => checkHeaderField('X Y', 'a')).toThrow(TypeError);
    expect(() => checkHeaderField('X', 'café')).toThrow(TypeError);
    expect(() => checkHeaderField('X', 'a\tb c')).not.toThrow();
    expect(() => serializeRequestHead({ method: 'G T', target: '/' })).toThrow(TypeError);
    expect(() => serializeRequestHead({ method: 'GET', target: '/a b' })).toThrow(TypeError);
    expect(() => serializeResponseHead({ status: 99 })).toThrow(RangeError);
    expect(() => serializeResponseHead({ status: 400, reason: 'x\r\ny' })).toThrow(TypeError);
  });

  it('accepts header fields as a record, pairs or a Map', () => {
    expect(headerFieldEntries({ A: '1' })).toEqual([['A', '1']]);
    expect(headerFieldEntries([['A', '1']])).toEqual([['A', '1']]);
    expect(headerFieldEntries(new Map([['A', '1']]))).toEqual([['A', '1']]);
    expect(headerFieldEntries(undefined)).toEqual([]);
  });
});
