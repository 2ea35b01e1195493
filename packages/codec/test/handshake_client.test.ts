import { describe, expect, it } from 'vitest';
import { isValidKey } from '../src/accept_key.ts';
import {
  type ExpectedUpgrade,
  type UpgradeResponse,
  buildClientRequest,
  parseWebSocketUrl,
  validateServerResponse,
} from '../src/client_handshake.ts';
import { HandshakeError } from '../src/errors.ts';
import { parseRequestHead, parseResponseHead } from '../src/http_head.ts';
import { acceptUpgrade } from '../src/server_handshake.ts';

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
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

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

const VALID: Readonly<Record<string, string>> = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
};

/** A 101 answer to KEY with `changes` applied (`undefined` removes a field). */
function response(changes: Record<string, string | undefined> = {}, status = 101): UpgradeResponse {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries({ ...VALID, ...changes })) if (value !== undefined) headers.set(name, value);
  return { status, headers };
}

async function expectFailure(res: UpgradeResponse, expected: ExpectedUpgrade, code: string): Promise<void> {
  await expect(validateServerResponse(res, expected)).rejects.toBeInstanceOf(HandshakeError);
  await expect(validateServerResponse(res, expected)).rejects.toMatchObject({ code });
}

describe('client request head (RFC 6455 §4.1)', () => {
  it('client builds the RFC 6455 §1.2 handshake', () => {
    const client = buildClientRequest({
      url: 'ws://server.example.com/chat',
      protocols: ['chat', 'superchat'],
      origin: 'http://example.com',
      key: KEY,
    });
    expect(client.request).toBe(
      'GET /chat HTTP/1.1\r\n' +
        'Host: server.example.com\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\n' +
        'Origin: http://example.com\r\n' +
        'Sec-WebSocket-Protocol: chat, superchat\r\n' +
        '\r\n',
    );
    expect(client).toMatchObject({ key: KEY, protocols: ['chat', 'superchat'], extensions: [], secure: false, hostname: 'server.example.com', port: 80 });
  });

  it('client generates a fresh valid key when none is given', () => {
    const a = buildClientRequest({ url: 'ws://a/' });
    const b = buildClientRequest({ url: 'ws://a/' });
    expect(isValidKey(a.key)).toBe(true);
    expect(a.key).not.toBe(b.key);
    expect(a.request).toContain(`\r\nSec-WebSocket-Key: ${a.key}\r\n`);
  });

  it('client omits the default port from Host: 80 for ws, 443 for wss (RFC 6455 §3)', () => {
    const cases: Array<[string, string, number, boolean]> = [
      ['ws://example.com', 'example.com', 80, false],
      ['ws://example.com:80/', 'example.com', 80, false],
      ['wss://example.com', 'example.com', 443, true],
      ['wss://example.com:443/', 'example.com', 443, true],
      ['ws://example.com:443/', 'example.com:443', 443, false],
      ['wss://example.com:80/', 'example.com:80', 80, true],
      ['ws://example.com:8080/', 'example.com:8080', 8080, false],
      ['ws://EXAMPLE.com/', 'example.com', 80, false],
    ];
    for (const [url, host, port, secure] of cases) {
      const client = buildClientRequest({ url, key: KEY });
      expect(client.request).toContain(`\r\nHost: ${host}\r\n`);
      expect(client).toMatchObject({ port, secure });
    }
  });

  it('client writes an IPv6 Host in brackets and dials it without them', () => {
    const client = buildClientRequest({ url: 'ws://[::1]:9000/x', key: KEY });
    expect(client.request).toContain('\r\nHost: [::1]:9000\r\n');
    expect(client).toMatchObject({ hostname: '::1', port: 9000 });
  });

  it('client sends path and query as the request target, "/" when empty', () => {
    const target = (url: string) => parseRequestHead(bytes(buildClientRequest({ url, key: KEY }).request))?.head.target;
    expect(target('ws://a')).toBe('/');
    expect(target('ws://a?x=1')).toBe('/?x=1');
    expect(target('ws://a/chat/room?x=1&y=%20')).toBe('/chat/room?x=1&y=%20');
    expect(target('ws://a/a b')).toBe('/a%20b');
  });

  it('client accepts a URL object', () => {
    expect(buildClientRequest({ url: new URL('wss://a/b'), key: KEY }).request.startsWith('GET /b HTTP/1.1\r\nHost: a\r\n')).toBe(true);
  });

  it('client refuses a URL with a fragment, even an empty one, with SyntaxError', () => {
    expect(() => buildClientRequest({ url: 'ws://a/#x' })).toThrow(SyntaxError);
    expect(() => buildClientRequest({ url: 'ws://a/#' })).toThrow(SyntaxError);
    expect(() => parseWebSocketUrl('ws://a/%23')).not.toThrow();
  });

  it('client refuses other schemes and unparsable URLs with SyntaxError', () => {
    for (const url of ['http://a/', 'https://a/', 'ftp://a/', 'not a url', '/relative', 'ws://']) {
      const error = thrown(() => buildClientRequest({ url }));
      expect(error).toBeInstanceOf(SyntaxError);
    }
  });

  it('client refuses subprotocols that are not tokens or repeat with TypeError', () => {
    expect(() => buildClientRequest({ url: 'ws://a/', protocols: ['chat', 'chat'] })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', protocols: ['a b'] })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', protocols: '' })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', protocols: ['x\r\nEvil: 1'] })).toThrow(TypeError);
  });

  it('client accepts a single subprotocol string and sends no header for an empty list', () => {
    expect(buildClientRequest({ url: 'ws://a/', protocols: 'chat', key: KEY }).request).toContain('\r\nSec-WebSocket-Protocol: chat\r\n');
    expect(buildClientRequest({ url: 'ws://a/', protocols: [], key: KEY }).request).not.toContain('Sec-WebSocket-Protocol');
  });

  it('client offers extensions given as a header value or parsed, in canonical form', () => {
    const fromString = buildClientRequest({ url: 'ws://a/', extensions: 'permessage-deflate ;client_max_window_bits', key: KEY });
    expect(fromString.request).toContain('\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n');
    expect(fromString.extensions).toEqual([{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]);
    const parsed = buildClientRequest({ url: 'ws://a/', extensions: [{ name: 'x-foo', params: [['a', '1']] }], key: KEY });
    expect(parsed.request).toContain('\r\nSec-WebSocket-Extensions: x-foo; a=1\r\n');
  });

  it('client refuses invalid extensions with TypeError', () => {
    expect(() => buildClientRequest({ url: 'ws://a/', extensions: 'a;' })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', extensions: [{ name: 'a b', params: [] }] })).toThrow(TypeError);
  });

  it('client appends extra headers, and a Host header replaces the derived one', () => {
    const client = buildClientRequest({ url: 'ws://10.0.0.1:8080/', headers: { Host: 'virtual.example', Authorization: 'Bearer t' }, key: KEY });
    expect(client.request.startsWith('GET / HTTP/1.1\r\nHost: virtual.example\r\n')).toBe(true);
    expect(client.request).toContain('\r\nAuthorization: Bearer t\r\n\r\n');
    expect(client.request).not.toContain('10.0.0.1');
    expect(client).toMatchObject({ hostname: '10.0.0.1', port: 8080 });
  });

  it('client refuses extra headers with CR/LF, handshake fields, or a second Origin or Host with TypeError', () => {
    expect(() => buildClientRequest({ url: 'ws://a/', headers: { 'X-A': 'a\r\nb' } })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', headers: { 'Sec-WebSocket-Key': KEY } })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', headers: { upgrade: 'h2c' } })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', origin: 'http://a', headers: { Origin: 'http://b' } })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', headers: [['Host', 'b'], ['host', 'c']] })).toThrow(TypeError);
    expect(() => buildClientRequest({ url: 'ws://a/', origin: 'http://a\r\nX: 1' })).toThrow(TypeError);
  });

  it('client refuses a given key that is not base64 of 16 bytes with TypeError', () => {
    expect(() => buildClientRequest({ url: 'ws://a/', key: 'short' })).toThrow(TypeError);
  });
});

describe('client validates the server response (RFC 6455 §4.1)', () => {
  it('client accepts the RFC 6455 §1.2 response and reports the selected subprotocol', async () => {
    const head = parseResponseHead(
      bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n'),
    )?.head;
    if (head === undefined) throw new Error('head expected');
    await expect(validateServerResponse(head, { key: KEY, protocols: ['chat', 'superchat'] })).resolves.toEqual({ protocol: 'chat', extensions: [] });
  });

  it('client accepts Upgrade and Connection case-insensitively', async () => {
    await expect(validateServerResponse(response({ upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }), { key: KEY })).resolves.toEqual({
      protocol: '',
      extensions: [],
    });
  });

  it('client fails a non-101 status with BAD_STATUS carrying the status', async () => {
    await expectFailure(response({}, 200), { key: KEY }, 'BAD_STATUS');
    await expect(validateServerResponse(response({}, 403), { key: KEY })).rejects.toMatchObject({ code: 'BAD_STATUS', status: 403 });
  });

  it('client fails a missing or other Upgrade with BAD_UPGRADE', async () => {
    await expectFailure(response({ upgrade: undefined }), { key: KEY }, 'BAD_UPGRADE');
    await expectFailure(response({ upgrade: 'h2c' }), { key: KEY }, 'BAD_UPGRADE');
    await expectFailure(response({ upgrade: 'websocket, h2c' }), { key: KEY }, 'BAD_UPGRADE');
  });

  it('client fails a Connection without Upgrade with BAD_CONNECTION', async () => {
    await expectFailure(response({ connection: undefined }), { key: KEY }, 'BAD_CONNECTION');
    await expectFailure(response({ connection: 'close' }), { key: KEY }, 'BAD_CONNECTION');
  });

  it('client fails a missing, wrong or repeated Sec-WebSocket-Accept with BAD_ACCEPT', async () => {
    await expectFailure(response({ 'sec-websocket-accept': undefined }), { key: KEY }, 'BAD_ACCEPT');
    await expectFailure(response(), { key: 'x3JJHMbDL1EzLkh9GBhXDw==' }, 'BAD_ACCEPT');
    await expectFailure(response({ 'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=, s3pPLMBiTxaQ9kYGzzhZRbK+xOo=' }), { key: KEY }, 'BAD_ACCEPT');
  });

  it('client fails a subprotocol it did not offer with BAD_PROTOCOL', async () => {
    await expectFailure(response({ 'sec-websocket-protocol': 'other' }), { key: KEY, protocols: ['chat'] }, 'BAD_PROTOCOL');
    await expectFailure(response({ 'sec-websocket-protocol': 'Chat' }), { key: KEY, protocols: ['chat'] }, 'BAD_PROTOCOL');
    await expectFailure(response({ 'sec-websocket-protocol': 'chat, superchat' }), { key: KEY, protocols: ['chat', 'superchat'] }, 'BAD_PROTOCOL');
    await expectFailure(response({ 'sec-websocket-protocol': '' }), { key: KEY, protocols: ['chat'] }, 'BAD_PROTOCOL');
  });

  it('client fails a subprotocol when it offered none with BAD_PROTOCOL', async () => {
    await expectFailure(response({ 'sec-websocket-protocol': 'chat' }), { key: KEY }, 'BAD_PROTOCOL');
  });

  it('client accepts no subprotocol in the answer even when it offered some', async () => {
    await expect(validateServerResponse(response(), { key: KEY, protocols: ['chat'] })).resolves.toMatchObject({ protocol: '' });
  });

  it('client reports the extensions the server accepted among those offered, with its parameters', async () => {
    const res = response({ 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover' });
    const expected = { key: KEY, extensions: [{ name: 'permessage-deflate', params: [] }] };
    await expect(validateServerResponse(res, expected)).resolves.toEqual({
      protocol: '',
      extensions: [{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }],
    });
  });

  it('client fails an extension it did not offer with BAD_EXTENSION', async () => {
    await expectFailure(response({ 'sec-websocket-extensions': 'x-foo' }), { key: KEY }, 'BAD_EXTENSION');
    await expectFailure(response({ 'sec-websocket-extensions': 'x-foo' }), { key: KEY, extensions: [{ name: 'x-bar', params: [] }] }, 'BAD_EXTENSION');
  });

  it('client fails an extension accepted twice or a malformed extensions field with BAD_EXTENSION', async () => {
    const expected = { key: KEY, extensions: [{ name: 'x-foo', params: [] }] };
    await expectFailure(response({ 'sec-websocket-extensions': 'x-foo, x-foo' }), expected, 'BAD_EXTENSION');
    await expectFailure(response({ 'sec-websocket-extensions': 'x-foo;' }), expected, 'BAD_EXTENSION');
    await expectFailure(response({ 'sec-websocket-extensions': '' }), expected, 'BAD_EXTENSION');
  });
});

describe('client and server handshake with each other', () => {
  it('a client request passes the server, and the server answer passes the client', async () => {
    const client = buildClientRequest({
      url: 'wss://example.com:8443/live?room=7',
      protocols: ['v2.json', 'v1.json'],
      extensions: 'x-foo; a=1, x-bar',
      origin: 'https://example.com',
    });
    const request = parseRequestHead(bytes(client.request))?.head;
    if (request === undefined) throw new Error('head expected');
    expect(request).toMatchObject({ target: '/live?room=7' });
    expect(request.headers.get('host')).toBe('example.com:8443');

    const accepted = await acceptUpgrade(request, {
      allowedOrigins: ['https://example.com'],
      handleProtocols: (offered) => offered.find((p) => p === 'v1.json'),
      negotiateExtensions: (offers) => offers.filter((o) => o.name === 'x-bar'),
    });
    const response = parseResponseHead(bytes(accepted.response))?.head;
    if (response === undefined) throw new Error('head expected');

    await expect(validateServerResponse(response, client)).resolves.toEqual({
      protocol: 'v1.json',
      extensions: [{ name: 'x-bar', params: [] }],
    });
  });
});
