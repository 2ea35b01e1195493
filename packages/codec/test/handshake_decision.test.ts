// The opening handshake as a sans-I/O decision (ServerHandshake, ClientHandshake): ASCII
// vectors fed whole and split at every byte, each decision and refusal code.
import { describe, expect, it } from 'vitest';
import {
  ClientHandshake,
  HandshakeError,
  ServerHandshake,
  acceptKey,
  acceptKeyOf,
  buildRejection,
  sha1,
  type ClientHandshakeStep,
  type ServerDecision,
  type ServerHandshakeInit,
  type ServerHandshakeOptions,
  type ServerHandshakeStep,
} from '../src/index.ts';

const encoder = new TextEncoder();
const ascii = (text: string): Uint8Array => encoder.encode(text);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

// RFC 6455 §1.2's client handshake; its accept value is in §1.3.
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const request = (lines: readonly string[]): string => `${lines.join('\r\n')}\r\n\r\n`;
const RFC_LINES = [
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Key: ${RFC_KEY}`,
  'Origin: http://example.com',
  'Sec-WebSocket-Protocol: chat, superchat',
  'Sec-WebSocket-Version: 13',
];
const replace = (name: string, line: string | null): string[] =>
  RFC_LINES.flatMap((l) => (l.toLowerCase().startsWith(`${name.toLowerCase()}:`) ? (line === null ? [] : [line]) : [l]));

/** Every way to cut `bytes` in two (and the whole), for feeding byte-split. */
function* splits(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  for (let at = 1; at < bytes.length; at++) yield [bytes.subarray(0, at), bytes.subarray(at)];
}

/** Feeds chunks to a server handshake; the steps before the last must all be need-more. */
function serverSteps(chunks: Uint8Array[], init?: ServerHandshakeInit): { steps: ServerHandshakeStep[]; handshake: ServerHandshake } {
  const handshake = new ServerHandshake(init);
  const steps: ServerHandshakeStep[] = [];
  for (const chunk of chunks) {
    const step = handshake.receive(chunk);
    steps.push(step);
    if (step.kind !== 'need-more') break;
  }
  return { steps, handshake };
}

/** Reads and decides a whole request, split everywhere: every split gives the same decision. */
function decideAllSplits(bytes: Uint8Array, answers: ServerHandshakeOptions = {}): ServerDecision {
  let first: ServerDecision | undefined;
  for (const chunks of splits(bytes)) {
    const { steps, handshake } = serverSteps(chunks);
    const last = steps[steps.length - 1];
    expect(steps.slice(0, -1).every((step) => step.kind === 'need-more')).toBe(true);
    const decision = last.kind === 'request' ? handshake.decide(last.head, answers) : last;
    if (decision.kind === 'need-more') throw new Error('no decision');
    if (first === undefined) first = decision;
    else {
      expect(decision.kind).toBe(first.kind);
      expect(hex(decision.response)).toBe(hex(first.response));
    }
  }
  return first!;
}

describe('sha1: the codec hashes the accept key itself', () => {
  it('matches the FIPS 180-4 vectors and the RFC 6455 §1.3 accept value', async () => {
    expect(hex(sha1(ascii('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(hex(sha1(ascii('')))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(hex(sha1(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('84983e441c3bd26ebaae4aa1f95129e5e54670f1');
    expect(acceptKeyOf(RFC_KEY)).toBe(RFC_ACCEPT);
    expect(await acceptKey(RFC_KEY)).toBe(RFC_ACCEPT);
  });

  it('matches Web Crypto for every length across the padding boundaries (0-200 bytes)', async () => {
    for (let length = 0; length <= 200; length++) {
      const data = crypto.getRandomValues(new Uint8Array(length));
      expect(hex(sha1(data))).toBe(hex(new Uint8Array(await crypto.subtle.digest('SHA-1', data))));
    }
  });
});

describe('ServerHandshake: reading the request', () => {
  it('server needs more bytes until the blank line, then gives the head and the bytes after it, at every split', () => {
    const bytes = concat(ascii(request(RFC_LINES)), Uint8Array.of(0x81));
    for (const chunks of splits(bytes)) {
      const { steps } = serverSteps(chunks);
      const last = steps[steps.length - 1];
      expect(last.kind).toBe('request');
      if (last.kind !== 'request') return;
      expect(last.head.target).toBe('/chat');
      // What follows the head: the rest of the chunk that completed it, then the chunks not fed.
      expect(hex(concat(last.rest, ...chunks.slice(steps.length)))).toBe('81');
    }
    expect(new ServerHandshake().receive(ascii('GET /chat HTTP/1.1\r\nHost: a\r\n'))).toEqual({ kind: 'need-more' });
  });

  it('server refuses a malformed head with 400 MALFORMED_HEAD, at every split', () => {
    const decision = decideAllSplits(ascii('GET /chat HTTP/1.1\nHost: a\r\n\r\n'));
    expect(decision).toMatchObject({ kind: 'refuse', status: 400, code: 'MALFORMED_HEAD' });
    expect(text(decision.response)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n/);
  });

  it('server refuses a head over maxHeadSize with 431 HEAD_TOO_LARGE', () => {
    const { steps } = serverSteps([ascii(request([...RFC_LINES, `X-Pad: ${'a'.repeat(300)}`]))], { maxHeadSize: 256 });
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: 'refuse', status: 431, code: 'HEAD_TOO_LARGE' });
  });

  it('server refuses another major HTTP version with 505', () => {
    expect(decideAllSplits(ascii(request(['GET / HTTP/2.0', 'Host: a'])))).toMatchObject({ kind: 'refuse', status: 505, code: 'BAD_HTTP_VERSION' });
  });

  it('receive after the head is read is a TypeError (later bytes are not the handshake\'s)', () => {
    const handshake = new ServerHandshake();
    handshake.receive(ascii(request(RFC_LINES)));
    expect(() => handshake.receive(ascii('x'))).toThrow(TypeError);
  });
});

describe('ServerHandshake: deciding', () => {
  it('server accepts RFC 6455 §1.2 with the exact 101 of §1.3, at every split', () => {
    const decision = decideAllSplits(ascii(request(RFC_LINES)), { handleProtocols: (offered) => offered[0] });
    expect(decision.kind).toBe('accept');
    if (decision.kind !== 'accept') return;
    expect(text(decision.response)).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
    );
    expect(decision).toMatchObject({ protocol: 'chat', origin: 'http://example.com', offeredProtocols: ['chat', 'superchat'], extensions: [], extensionHeader: '' });
  });

  it('server accepts the extension negotiateExtensions picks and names it in extensionHeader', () => {
    const lines = [...RFC_LINES, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-other'];
    const decision = decideAllSplits(ascii(request(lines)), { negotiateExtensions: (offers) => [{ name: offers[0].name, params: [] }] });
    expect(decision).toMatchObject({ kind: 'accept', extensionHeader: 'permessage-deflate' });
    expect(text(decision.response)).toContain('Sec-WebSocket-Extensions: permessage-deflate\r\n');
  });

  it('server hashes the accept key with an injected synchronous SHA-1', () => {
    const handshake = new ServerHandshake({ sha1: () => new Uint8Array(20).fill(255) });
    const step = handshake.receive(ascii(request(RFC_LINES)));
    if (step.kind !== 'request') throw new Error('no head');
    expect(text(handshake.decide(step.head).response)).toContain('Sec-WebSocket-Accept: //////////////////////////8=\r\n');
  });

  it.each([
    ['BAD_METHOD', 400, ['POST /chat HTTP/1.1', ...RFC_LINES.slice(1)]],
    ['BAD_HTTP_VERSION', 400, ['GET /chat HTTP/1.0', ...RFC_LINES.slice(1)]],
    ['MISSING_HOST', 400, replace('Host', null)],
    ['BAD_UPGRADE', 400, replace('Upgrade', 'Upgrade: h2c')],
    ['BAD_CONNECTION', 400, replace('Connection', 'Connection: keep-alive')],
    ['BAD_VERSION', 426, replace('Sec-WebSocket-Version', 'Sec-WebSocket-Version: 8')],
    ['BAD_KEY', 400, replace('Sec-WebSocket-Key', 'Sec-WebSocket-Key: short')],
    ['BAD_PROTOCOL', 400, replace('Sec-WebSocket-Protocol', 'Sec-WebSocket-Protocol: a b')],
    ['BAD_EXTENSION', 400, [...RFC_LINES, 'Sec-WebSocket-Extensions: ;;']],
    ['MALFORMED_HEAD', 400, [...RFC_LINES, 'Content-Length: 5']],
  ] as const)('server refuses %s with %i and the error response, at every split', (code, status, lines) => {
    const decision = decideAllSplits(ascii(request(lines)));
    expect(decision).toMatchObject({ kind: 'refuse', status, code });
    if (decision.kind !== 'refuse') return;
    expect(decision.error).toBeInstanceOf(HandshakeError);
    const error = decision.error as HandshakeError;
    expect(text(decision.response)).toBe(buildRejection(status, error.headers, error.message));
    if (code === 'BAD_VERSION') expect(text(decision.response)).toContain('Sec-WebSocket-Version: 13\r\n');
  });

  it('server refuses an origin outside allowedOrigins with 403 FORBIDDEN_ORIGIN', () => {
    expect(decideAllSplits(ascii(request(RFC_LINES)), { allowedOrigins: ['https://app.example'] })).toMatchObject({ kind: 'refuse', status: 403, code: 'FORBIDDEN_ORIGIN' });
  });

  it('server refuses with 500 HOOK_FAILED when a hook throws, picks what was not offered, or the 101 fields are invalid', () => {
    const boom = new Error('boom');
    const thrown = decideAllSplits(ascii(request(RFC_LINES)), {
      handleProtocols: () => {
        throw boom;
      },
    });
    expect(thrown).toMatchObject({ kind: 'refuse', status: 500, code: 'HOOK_FAILED', error: boom });
    expect(text(thrown.response)).toBe(buildRejection(500));
    expect(decideAllSplits(ascii(request(RFC_LINES)), { handleProtocols: () => 'other' })).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
    expect(decideAllSplits(ascii(request(RFC_LINES)), { headers: { 'X-Bad': 'a\r\nb' } })).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
  });

  it("ServerHandshake.refuse builds the policy's refusal, and a 500 HOOK_FAILED for one that cannot be sent", () => {
    const refused = ServerHandshake.refuse(401, 'REJECTED', { headers: { 'WWW-Authenticate': 'Bearer' }, body: 'Sign in ✓' });
    expect(refused).toMatchObject({ kind: 'refuse', status: 401, code: 'REJECTED' });
    expect(text(refused.response)).toBe(buildRejection(401, { 'WWW-Authenticate': 'Bearer' }, 'Sign in ✓'));
    expect(ServerHandshake.refuse(200, 'REJECTED')).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
    const split = ServerHandshake.refuse(401, 'REJECTED', { headers: { 'X-Bad': 'a\r\nb' } });
    expect(split).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
    expect(split.error).toBeInstanceOf(TypeError);
  });

  it('ServerHandshake.refusalOf answers a HandshakeError with its status, code and message, anything else with 500 HOOK_FAILED', () => {
    const error = new HandshakeError('BAD_HOST', 'The Host field is not a valid host and port', 400);
    const refused = ServerHandshake.refusalOf(error);
    expect(refused).toMatchObject({ kind: 'refuse', status: 400, code: 'BAD_HOST', error });
    expect(text(refused.response)).toBe(buildRejection(400, undefined, 'The Host field is not a valid host and port'));
    const bug = new Error('hook bug');
    expect(ServerHandshake.refusalOf(bug)).toMatchObject({ status: 500, code: 'HOOK_FAILED', error: bug });
  });
});

describe('ClientHandshake', () => {
  const accept101 = (extra: readonly string[] = [], accept = RFC_ACCEPT): string =>
    request(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, ...extra]);

  /** Feeds a response to a fresh client handshake per split; every split gives the same last step. */
  function clientAllSplits(response: string, init: { protocols?: string[]; perMessageDeflate?: boolean } = {}): ClientHandshakeStep {
    let first: ClientHandshakeStep | undefined;
    for (const chunks of splits(ascii(response))) {
      const handshake = new ClientHandshake({
        url: 'ws://server.example.com/chat',
        key: RFC_KEY,
        protocols: init.protocols,
        extensions: init.perMessageDeflate === true ? 'permessage-deflate; client_max_window_bits' : undefined,
      });
      let step: ClientHandshakeStep = { kind: 'need-more' };
      for (const chunk of chunks) {
        step = handshake.receive(chunk);
        if (step.kind !== 'need-more') break;
      }
      if (first === undefined) first = step;
      else expect(step).toMatchObject({ kind: first.kind, ...('code' in first ? { code: first.code } : {}) });
    }
    return first!;
  }

  it('client writes the RFC 6455 §1.2 request head', () => {
    const handshake = new ClientHandshake({ url: 'ws://server.example.com/chat', key: RFC_KEY, protocols: ['chat', 'superchat'] });
    expect(text(handshake.bytes)).toBe(
      'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${RFC_KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n`,
    );
  });

  it('client needs more bytes until the blank line, then accepts the right accept key with the frames after it', () => {
    const handshake = new ClientHandshake({ url: 'ws://server.example.com/chat', key: RFC_KEY });
    const bytes = concat(ascii(accept101()), Uint8Array.of(0x81, 0x00));
    expect(handshake.receive(bytes.subarray(0, 20))).toEqual({ kind: 'need-more' });
    const step = handshake.receive(bytes.subarray(20));
    expect(step).toMatchObject({ kind: 'accept', protocol: '', extensionHeader: '', deflate: null });
    if (step.kind === 'accept') expect(hex(step.rest)).toBe('8100');
    expect(clientAllSplits(accept101())).toMatchObject({ kind: 'accept' });
  });

  it('client accepts the offered subprotocol the server selected', () => {
    expect(clientAllSplits(accept101(['Sec-WebSocket-Protocol: superchat']), { protocols: ['chat', 'superchat'] })).toMatchObject({ kind: 'accept', protocol: 'superchat' });
  });

  it('client accepts permessage-deflate it offered, with the agreement worked out', () => {
    const step = clientAllSplits(accept101(['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover']), { perMessageDeflate: true });
    expect(step).toMatchObject({ kind: 'accept', extensionHeader: 'permessage-deflate; server_no_context_takeover' });
    if (step.kind === 'accept') expect(step.deflate).not.toBeNull();
  });

  it.each([
    ['BAD_ACCEPT', 101, accept101([], 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='), {}],
    ['BAD_STATUS', 403, request(['HTTP/1.1 403 Forbidden', 'Content-Length: 0']), {}],
    ['BAD_UPGRADE', 101, request(['HTTP/1.1 101 Switching Protocols', 'Upgrade: h2c', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${RFC_ACCEPT}`]), {}],
    ['BAD_CONNECTION', 101, request(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', `Sec-WebSocket-Accept: ${RFC_ACCEPT}`]), {}],
    ['BAD_PROTOCOL', 101, accept101(['Sec-WebSocket-Protocol: other']), { protocols: ['chat'] }],
    ['BAD_PROTOCOL', 101, accept101(['Sec-WebSocket-Protocol: chat']), {}],
    ['BAD_EXTENSION', 101, accept101(['Sec-WebSocket-Extensions: permessage-deflate']), {}],
    ['BAD_EXTENSION', 101, accept101(['Sec-WebSocket-Extensions: x-unknown']), { perMessageDeflate: true }],
    ['BAD_EXTENSION', 101, accept101(['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99']), { perMessageDeflate: true }],
    ['MALFORMED_HEAD', 0, 'HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\r\n\r\n', {}],
  ] as const)('client refuses %s (status %i), at every split', (code, status, response, init) => {
    const step = clientAllSplits(response, init as { protocols?: string[]; perMessageDeflate?: boolean });
    expect(step).toMatchObject({ kind: 'refuse', code, status });
    if (step.kind === 'refuse') expect(step.error).toBeInstanceOf(HandshakeError);
  });

  it('receive after the decision is a TypeError', () => {
    const handshake = new ClientHandshake({ url: 'ws://server.example.com/chat', key: RFC_KEY });
    handshake.receive(ascii(accept101()));
    expect(() => handshake.receive(ascii('x'))).toThrow(TypeError);
  });
});
