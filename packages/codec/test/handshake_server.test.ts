import { describe, expect, it } from 'vitest';
import { HandshakeError } from '../src/errors.ts';
import type { ExtensionOffer } from '../src/header_grammar.ts';
import { parseRequestHead, parseResponseHead } from '../src/http_head.ts';
import {
  type ServerHandshakeOptions,
  type UpgradeRequest,
  acceptUpgrade,
  buildRejection,
  buildServerResponse,
  validateUpgradeRequest,
} from '../src/server_handshake.ts';

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

const VALID: Readonly<Record<string, string>> = {
  host: 'server.example.com',
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

/** A valid upgrade request with `changes` applied (`undefined` removes a field). */
function request(changes: Record<string, string | undefined> = {}, method = 'GET', version = 'HTTP/1.1'): UpgradeRequest {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries({ ...VALID, ...changes })) if (value !== undefined) headers.set(name, value);
  return { method, version, headers };
}

function expectRefusal(req: UpgradeRequest, code: string, status: number, options?: ServerHandshakeOptions): HandshakeError {
  const error = thrown(() => validateUpgradeRequest(req, options));
  expect(error).toBeInstanceOf(HandshakeError);
  expect(error).toMatchObject({ code, status });
  return error as HandshakeError;
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

describe('server accepts a valid upgrade (RFC 6455 §4.2.2)', () => {
  it('server answers the RFC 6455 §1.2 handshake with the RFC 6455 §1.2 response', async () => {
    const head = parseRequestHead(bytes(RFC_REQUEST))?.head;
    if (head === undefined) throw new Error('head expected');
    const accepted = await acceptUpgrade(head, { handleProtocols: (offered) => offered[0] });
    expect(accepted.response).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'Sec-WebSocket-Protocol: chat\r\n' +
        '\r\n',
    );
    expect(accepted).toMatchObject({
      key: 'dGhlIHNhbXBsZSBub25jZQ==',
      origin: 'http://example.com',
      offeredProtocols: ['chat', 'superchat'],
      protocol: 'chat',
      extensions: [],
    });
  });

  it('server response parses back as a 101 with the accept value', async () => {
    const { response } = await acceptUpgrade(request({ 'sec-websocket-key': 'x3JJHMbDL1EzLkh9GBhXDw==' }));
    const head = parseResponseHead(bytes(response))?.head;
    expect(head?.status).toBe(101);
    expect(head?.headers.get('sec-websocket-accept')).toBe('HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
    expect(head?.headers.get('sec-websocket-protocol')).toBeUndefined();
    expect(head?.headers.get('sec-websocket-extensions')).toBeUndefined();
  });

  it('server accepts Upgrade and Connection as case-insensitive comma lists', () => {
    expect(() => validateUpgradeRequest(request({ upgrade: 'h2c, WebSocket', connection: 'keep-alive, upgrade' }))).not.toThrow();
    expect(() => validateUpgradeRequest(request({ upgrade: 'WEBSOCKET', connection: 'UPGRADE' }))).not.toThrow();
  });

  it('server accepts a WHATWG Headers object as the header lookup', () => {
    const headers = new Headers(Object.entries(VALID));
    expect(validateUpgradeRequest({ method: 'GET', version: 'HTTP/1.1', headers }).key).toBe('dGhlIHNhbXBsZSBub25jZQ==');
  });

  it('server accepts a runtime request adapted through a header getter (as the Node shim does)', () => {
    const nodeHeaders: Record<string, string | undefined> = { ...VALID, 'content-length': '0' };
    const adapted: UpgradeRequest = { method: 'GET', version: 'HTTP/1.1', headers: { get: (name) => nodeHeaders[name] } };
    expect(validateUpgradeRequest(adapted).protocol).toBe('');
  });
});

describe('server refuses invalid upgrade requests (RFC 6455 §4.2.1)', () => {
  it('server refuses a method other than GET with 400 BAD_METHOD', () => {
    expectRefusal(request({}, 'POST'), 'BAD_METHOD', 400);
    expectRefusal(request({}, 'get'), 'BAD_METHOD', 400);
  });

  it('server refuses a request that is not HTTP/1.1 with 400 BAD_HTTP_VERSION', () => {
    expectRefusal(request({}, 'GET', 'HTTP/1.0'), 'BAD_HTTP_VERSION', 400);
    expectRefusal(request({}, 'GET', 'HTTP/2'), 'BAD_HTTP_VERSION', 400);
  });

  it('server refuses a request without Host with 400 MISSING_HOST', () => {
    expectRefusal(request({ host: undefined }), 'MISSING_HOST', 400);
    expectRefusal(request({ host: '' }), 'MISSING_HOST', 400);
  });

  it('server refuses a repeated Host (joined by the parser) with 400 MALFORMED_HEAD', () => {
    const head = parseRequestHead(bytes(RFC_REQUEST.replace('Host: server.example.com\r\n', 'Host: a\r\nHost: b\r\n')))?.head;
    if (head === undefined) throw new Error('head expected');
    expectRefusal(head, 'MALFORMED_HEAD', 400);
  });

  it('server refuses an upgrade request with a body with 400 MALFORMED_HEAD', () => {
    expectRefusal(request({ 'content-length': '5' }), 'MALFORMED_HEAD', 400);
    expectRefusal(request({ 'transfer-encoding': 'chunked' }), 'MALFORMED_HEAD', 400);
  });

  it('server refuses a missing or other Upgrade with 400 BAD_UPGRADE', () => {
    expectRefusal(request({ upgrade: undefined }), 'BAD_UPGRADE', 400);
    expectRefusal(request({ upgrade: 'h2c' }), 'BAD_UPGRADE', 400);
    expectRefusal(request({ upgrade: 'websocket/13' }), 'BAD_UPGRADE', 400);
  });

  it('server refuses a Connection without the Upgrade token with 400 BAD_CONNECTION', () => {
    expectRefusal(request({ connection: undefined }), 'BAD_CONNECTION', 400);
    expectRefusal(request({ connection: 'keep-alive' }), 'BAD_CONNECTION', 400);
    expectRefusal(request({ connection: 'upgrades' }), 'BAD_CONNECTION', 400);
  });

  it('server refuses Sec-WebSocket-Version 8 with 426 and advertises 13', () => {
    const error = expectRefusal(request({ 'sec-websocket-version': '8' }), 'BAD_VERSION', 426);
    expect(error.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
  });

  it('server refuses a missing or listed Sec-WebSocket-Version with 426 and advertises 13', () => {
    expect(expectRefusal(request({ 'sec-websocket-version': undefined }), 'BAD_VERSION', 426).headers).toEqual({ 'Sec-WebSocket-Version': '13' });
    expectRefusal(request({ 'sec-websocket-version': '13, 8' }), 'BAD_VERSION', 426);
  });

  it('server refuses a missing, malformed or repeated Sec-WebSocket-Key with 400 BAD_KEY', () => {
    expectRefusal(request({ 'sec-websocket-key': undefined }), 'BAD_KEY', 400);
    expectRefusal(request({ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ' }), 'BAD_KEY', 400);
    expectRefusal(request({ 'sec-websocket-key': 'c2hvcnQ=' }), 'BAD_KEY', 400);
    expectRefusal(request({ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==, x3JJHMbDL1EzLkh9GBhXDw==' }), 'BAD_KEY', 400);
  });

  it('server refuses a malformed or repeating Sec-WebSocket-Protocol with 400 BAD_PROTOCOL', () => {
    expectRefusal(request({ 'sec-websocket-protocol': 'chat,,x' }), 'BAD_PROTOCOL', 400);
    expectRefusal(request({ 'sec-websocket-protocol': 'chat, chat' }), 'BAD_PROTOCOL', 400);
    expectRefusal(request({ 'sec-websocket-protocol': '' }), 'BAD_PROTOCOL', 400);
  });

  it('server refuses a malformed Sec-WebSocket-Extensions with 400 BAD_EXTENSION', () => {
    expectRefusal(request({ 'sec-websocket-extensions': 'permessage-deflate;' }), 'BAD_EXTENSION', 400);
    expectRefusal(request({ 'sec-websocket-extensions': 'a; b="c d"' }), 'BAD_EXTENSION', 400);
  });
});

describe('server checks Origin (RFC 6455 §10.2)', () => {
  it('server accepts any origin, or none, by default', () => {
    expect(validateUpgradeRequest(request({ origin: 'https://evil.example' })).origin).toBe('https://evil.example');
    expect(validateUpgradeRequest(request()).origin).toBeUndefined();
  });

  it('server accepts a listed origin and refuses another with 403 FORBIDDEN_ORIGIN', () => {
    const options = { allowedOrigins: ['https://example.com'] };
    expect(() => validateUpgradeRequest(request({ origin: 'https://example.com' }), options)).not.toThrow();
    expectRefusal(request({ origin: 'https://evil.example' }), 'FORBIDDEN_ORIGIN', 403, options);
    expectRefusal(request({ origin: 'https://example.com:443' }), 'FORBIDDEN_ORIGIN', 403, options);
  });

  it('server with an origin list refuses a request without Origin with 403', () => {
    expectRefusal(request(), 'FORBIDDEN_ORIGIN', 403, { allowedOrigins: ['https://example.com'] });
  });

  it('server hands the origin (undefined when absent) to a predicate that decides', () => {
    const seen: Array<string | undefined> = [];
    const allowedOrigins = (origin: string | undefined) => {
      seen.push(origin);
      return origin === undefined || origin.endsWith('.example.com');
    };
    expect(() => validateUpgradeRequest(request(), { allowedOrigins })).not.toThrow();
    expect(() => validateUpgradeRequest(request({ origin: 'https://app.example.com' }), { allowedOrigins })).not.toThrow();
    expectRefusal(request({ origin: 'https://example.org' }), 'FORBIDDEN_ORIGIN', 403, { allowedOrigins });
    expect(seen).toEqual([undefined, 'https://app.example.com', 'https://example.org']);
  });
});

describe('server negotiates a subprotocol (RFC 6455 §4.2.2 /subprotocol/)', () => {
  const offering = request({ 'sec-websocket-protocol': 'chat, superchat' });

  it('server selects no subprotocol by default', async () => {
    const accepted = await acceptUpgrade(offering);
    expect(accepted.protocol).toBe('');
    expect(accepted.response).not.toContain('Sec-WebSocket-Protocol');
  });

  it('server echoes the subprotocol handleProtocols selects from the offered list', async () => {
    const offeredSeen: string[][] = [];
    const accepted = await acceptUpgrade(offering, {
      handleProtocols: (offered) => {
        offeredSeen.push(offered);
        return 'superchat';
      },
    });
    expect(offeredSeen).toEqual([['chat', 'superchat']]);
    expect(accepted.protocol).toBe('superchat');
    expect(accepted.response).toContain('\r\nSec-WebSocket-Protocol: superchat\r\n');
  });

  it('server sends no Sec-WebSocket-Protocol when handleProtocols returns null or undefined', async () => {
    expect((await acceptUpgrade(offering, { handleProtocols: () => null })).response).not.toContain('Sec-WebSocket-Protocol');
    expect((await acceptUpgrade(offering, { handleProtocols: () => undefined })).protocol).toBe('');
  });

  it('server throws TypeError when handleProtocols selects a subprotocol that was not offered', () => {
    expect(() => validateUpgradeRequest(offering, { handleProtocols: () => 'other' })).toThrow(TypeError);
    expect(() => validateUpgradeRequest(offering, { handleProtocols: () => 'Chat' })).toThrow(TypeError);
  });

  it('server does not call handleProtocols when the client offered none', () => {
    let called = false;
    validateUpgradeRequest(request(), {
      handleProtocols: () => {
        called = true;
        return 'chat';
      },
    });
    expect(called).toBe(false);
  });
});

describe('server negotiates extensions (RFC 6455 §9.1)', () => {
  const offering = request({ 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits, x-foo' });

  it('server accepts no extension by default and sends no Sec-WebSocket-Extensions', async () => {
    const accepted = await acceptUpgrade(offering);
    expect(accepted.offeredExtensions).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
      { name: 'x-foo', params: [] },
    ]);
    expect(accepted.extensions).toEqual([]);
    expect(accepted.response).not.toContain('Sec-WebSocket-Extensions');
  });

  it('server sends back the extensions negotiateExtensions accepts, with their parameters', async () => {
    const accepted = await acceptUpgrade(offering, {
      negotiateExtensions: (offers) => offers.filter((o) => o.name === 'permessage-deflate').map((o) => ({ name: o.name, params: [['client_max_window_bits', '10']] })),
    });
    expect(accepted.extensions).toEqual([{ name: 'permessage-deflate', params: [['client_max_window_bits', '10']] }]);
    expect(accepted.response).toContain('\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n');
  });

  it('server throws TypeError when negotiateExtensions accepts one not offered, twice, or invalid', () => {
    const accept = (result: ExtensionOffer[]) => () => validateUpgradeRequest(offering, { negotiateExtensions: () => result });
    expect(accept([{ name: 'x-bar', params: [] }])).toThrow(TypeError);
    expect(accept([{ name: 'x-foo', params: [] }, { name: 'x-foo', params: [] }])).toThrow(TypeError);
    expect(accept([{ name: 'x-foo', params: [['a', 'b c']] }])).toThrow(TypeError);
  });

  it('server hands negotiateExtensions a copy it may mutate', () => {
    const negotiated = validateUpgradeRequest(offering, {
      negotiateExtensions: (offers) => {
        offers[0].params.length = 0;
        return [];
      },
    });
    expect(negotiated.offeredExtensions[0].params).toEqual([['client_max_window_bits', true]]);
  });
});

describe('server response head (RFC 6455 §4.2.2 item 5)', () => {
  it('server appends extra headers after the handshake fields', async () => {
    const response = await buildServerResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==', headers: { 'Set-Cookie': 'id=1' } });
    expect(response).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: id=1\r\n\r\n',
    );
  });

  it('server refuses extra header values with CR or LF with TypeError (response splitting)', async () => {
    await expect(buildServerResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==', headers: { 'X-Id': '1\r\nSet-Cookie: a=b' } })).rejects.toBeInstanceOf(TypeError);
    await expect(acceptUpgrade(request(), { headers: [['X-Id', '1\n']] })).rejects.toBeInstanceOf(TypeError);
  });

  it('server refuses extra headers that would repeat a handshake field with TypeError', async () => {
    await expect(buildServerResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==', headers: { 'sec-websocket-accept': 'x' } })).rejects.toBeInstanceOf(TypeError);
    await expect(buildServerResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==', headers: { Upgrade: 'h2c' } })).rejects.toBeInstanceOf(TypeError);
  });

  it('server refuses a selected subprotocol that is not a token with TypeError', async () => {
    await expect(buildServerResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==', protocol: 'a\r\nb' })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('server rejection response (RFC 6455 §4.2.2, §4.4)', () => {
  it('server refusal for Sec-WebSocket-Version 8 is a 426 advertising 13 that closes the connection', () => {
    const error = expectRefusal(request({ 'sec-websocket-version': '8' }), 'BAD_VERSION', 426);
    const text = buildRejection(error.status, error.headers);
    expect(text).toBe(
      'HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 0\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });

  it('server refusal counts the body in UTF-8 bytes and parses back with its body after the head', () => {
    const body = 'Forbidden origin — sorry';
    const text = buildRejection(403, {}, body);
    const encoded = new TextEncoder().encode(text);
    const parsed = parseResponseHead(encoded);
    expect(parsed?.head).toMatchObject({ status: 403, reason: 'Forbidden' });
    expect(parsed?.head.headers.get('content-length')).toBe(String(new TextEncoder().encode(body).length));
    expect(new TextDecoder().decode(parsed?.rest)).toBe(body);
  });

  it('server refusal for an oversized head is a 431', () => {
    expect(buildRejection(431)).toContain('HTTP/1.1 431 Request Header Fields Too Large\r\n');
  });

  it('server refusal keeps a Content-Type given in the extra headers', () => {
    const text = buildRejection(400, { 'Content-Type': 'application/json' }, '{}');
    expect(text).toContain('\r\nContent-Type: application/json\r\n');
    expect(text).not.toContain('text/plain');
  });

  it('server refusal refuses CR/LF in headers, headers it writes itself, and non-error statuses', () => {
    expect(() => buildRejection(400, { 'X-A': 'a\r\nb' })).toThrow(TypeError);
    expect(() => buildRejection(400, { 'Content-Length': '5' })).toThrow(TypeError);
    expect(() => buildRejection(400, { Connection: 'keep-alive' })).toThrow(TypeError);
    expect(() => buildRejection(101)).toThrow(RangeError);
    expect(() => buildRejection(200)).toThrow(RangeError);
  });
});
