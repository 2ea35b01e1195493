// The server's upgrade decision shared by every runtime shim: path, RFC 6455 checks with the
// runtime's request handed to the hooks, the authorize hook racing timeout, shutdown and the
// peer leaving, and the 101 or the refusal to answer.
import { describe, expect, it } from 'vitest';
import { parseCookies } from '../src/cookies.ts';
import { HandshakeError } from '@wsflow/codec';
import { fieldValues, headersOf } from '@wsflow/codec';
import { HandshakeDeadline } from '../src/handshake_deadline.ts';
import { parseRequestHead } from '@wsflow/codec';
import { ServerHandshake, buildRejection } from '@wsflow/codec';
import {
  UPGRADE_REQUIRED,
  decideUpgrade,
  dropped,
  isWebSocketUpgrade,
  targetPath,
  type AuthorizeRequest,
  type UpgradeControl,
  type UpgradeDecision,
  type UpgradeOptions,
  type UpgradeSubject,
} from '../src/upgrade_policy.ts';
import { manualTimers, type ManualTimers } from '../../codec/test/manual_timers.ts';

/** The runtime's own request type, as a shim would have one. */
interface NativeRequest {
  readonly id: string;
}

const NATIVE: NativeRequest = { id: 'native' };

// The client handshake of RFC 6455 §1.2 (its key's accept value is in §1.3), with cookies.
const RFC_REQUEST = [
  'GET /chat?room=1 HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Origin: http://example.com',
  'Sec-WebSocket-Protocol: chat, superchat',
  'Sec-WebSocket-Version: 13',
  'Cookie: sid=abc',
  'Cookie: theme=dark',
];

function subject(lines: readonly string[] = RFC_REQUEST, request: () => NativeRequest = () => NATIVE): UpgradeSubject<NativeRequest> {
  const parsed = parseRequestHead(new TextEncoder().encode(`${lines.join('\r\n')}\r\n\r\n`));
  if (parsed === null) throw new Error('incomplete head');
  const { head } = parsed;
  return {
    head,
    target: head.target,
    request,
    describe: () => ({
      url: new URL(head.target, `ws://${head.headers.get('host')}`),
      headers: headersOf(head.rawHeaders),
      cookies: parseCookies(fieldValues(head.rawHeaders, 'cookie')),
      remoteAddress: '192.0.2.7',
    }),
  };
}

function decide(
  options: UpgradeOptions<NativeRequest> = {},
  control: Partial<UpgradeControl> = {},
  of: UpgradeSubject<NativeRequest> = subject(),
): { timers: ManualTimers; decision: Promise<UpgradeDecision<NativeRequest>> } {
  const timers = manualTimers();
  return { timers, decision: decideUpgrade(of, options, { timers, handshake: new ServerHandshake(), ...control }) };
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Lets pending promise continuations run. */
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('decideUpgrade: accepting', () => {
  it('server accepts a valid request with the 101 of RFC 6455 §1.3 and hands back the runtime request', async () => {
    const { timers, decision } = decide();
    const result = await decision;
    expect(result.kind).toBe('accept');
    if (result.kind !== 'accept') return;
    expect(text(result.decision.response)).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(text(result.decision.response)).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    expect(result.request()).toBe(NATIVE);
    expect(result.decision.protocol).toBe('');
    // No hook and no shim deadline: nothing can stall, so no timer was started.
    expect(timers.delays).toEqual([]);
  });

  it('server selects the subprotocol handleProtocols picks, called with the runtime request', async () => {
    const seen: unknown[] = [];
    const result = await decide({
      handleProtocols: (offered, request) => {
        seen.push(offered, request);
        return offered[1];
      },
      headers: { 'X-Served-By': 'test' },
    }).decision;
    expect(seen).toEqual([['chat', 'superchat'], NATIVE]);
    expect(result).toMatchObject({ kind: 'accept', decision: { protocol: 'superchat' } });
    if (result.kind === 'accept') expect(text(result.decision.response)).toContain('Sec-WebSocket-Protocol: superchat\r\nX-Served-By: test\r\n');
  });

  it('server computes the accept key with an injected SHA-1', async () => {
    const calls: number[] = [];
    const sha1 = (data: Uint8Array): Uint8Array => {
      calls.push(data.length);
      return new Uint8Array(20);
    };
    const result = await decide({}, { handshake: new ServerHandshake({ sha1 }) }).decision;
    expect(calls).toEqual([60]); // 24-character key + 36-character GUID
    expect(result.kind).toBe('accept');
    if (result.kind === 'accept') expect(text(result.decision.response)).toContain('Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n');
  });

  it('server shows the authorize hook the request, its cookies, origin and selected protocol', async () => {
    let seen: AuthorizeRequest<NativeRequest> | undefined;
    const result = await decide({
      handleProtocols: () => 'chat',
      authorize: (request) => {
        seen = request;
      },
    }).decision;
    expect(result.kind).toBe('accept');
    expect(seen?.url.href).toBe('ws://server.example.com/chat?room=1');
    expect(seen?.headers.get('sec-websocket-version')).toBe('13');
    expect({ ...seen?.cookies }).toEqual({ sid: 'abc', theme: 'dark' });
    expect([seen?.origin, seen?.protocol, seen?.remoteAddress, seen?.request]).toEqual(['http://example.com', 'chat', '192.0.2.7', NATIVE]);
  });

  it('server accepts an async hook that resolves with nothing, within the timeout, and clears its timer', async () => {
    const { timers, decision } = decide({ handshakeTimeout: 500, authorize: async () => undefined });
    expect((await decision).kind).toBe('accept');
    expect(timers.delays).toEqual([500]);
    expect(timers.pending).toBe(0);
  });
});

describe('decideUpgrade: refusing', () => {
  it('server refuses another path with 400 PATH_MISMATCH (the query does not count)', async () => {
    expect(await decide({ path: '/chat' }).decision).toMatchObject({ kind: 'accept' });
    const refused = await decide({ path: '/other' }).decision;
    expect(refused).toMatchObject({ kind: 'refuse', status: 400, code: 'PATH_MISMATCH', error: undefined });
    if (refused.kind === 'refuse') expect(text(refused.response)).toBe(buildRejection(400, undefined, 'No WebSocket endpoint at this path'));
  });

  it("server refuses an invalid request with the HandshakeError's status, code, fields and message", async () => {
    const lines = RFC_REQUEST.map((line) => (line.startsWith('Sec-WebSocket-Version') ? 'Sec-WebSocket-Version: 8' : line));
    const result = await decide({}, {}, subject(lines)).decision;
    expect(result).toMatchObject({ kind: 'refuse', status: 426, code: 'BAD_VERSION' });
    if (result.kind === 'refuse') {
      expect(result.error).toBeInstanceOf(HandshakeError);
      expect(text(result.response)).toBe(buildRejection(426, { 'Sec-WebSocket-Version': '13' }, (result.error as Error).message));
    }
  });

  it('server refuses an origin the predicate rejects with 403, the predicate seeing the runtime request', async () => {
    const seen: unknown[] = [];
    const result = await decide({
      allowedOrigins: (origin, request) => {
        seen.push(origin, request);
        return false;
      },
    }).decision;
    expect(seen).toEqual(['http://example.com', NATIVE]);
    expect(result).toMatchObject({ kind: 'refuse', status: 403, code: 'FORBIDDEN_ORIGIN' });
  });

  it('server answers 500 HOOK_FAILED when handleProtocols throws or picks a protocol not offered', async () => {
    const error = new Error('boom');
    expect(
      await decide({
        handleProtocols: () => {
          throw error;
        },
      }).decision,
    ).toMatchObject({ kind: 'refuse', status: 500, code: 'HOOK_FAILED', error });
    expect(await decide({ handleProtocols: () => 'not-offered' }).decision).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
  });

  it("server refuses with the hook's own response: REJECTED, its status, fields and body", async () => {
    const result = await decide({ authorize: async () => ({ status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'Sign in' }) }).decision;
    expect(result).toMatchObject({ kind: 'refuse', status: 401, code: 'REJECTED', error: undefined });
    if (result.kind === 'refuse') expect(text(result.response)).toBe(buildRejection(401, { 'WWW-Authenticate': 'Bearer' }, 'Sign in'));
  });

  it("server answers 500 HOOK_FAILED when the hook's refusal cannot be sent (status 200, CR/LF in a field)", async () => {
    expect(await decide({ authorize: () => ({ status: 200 }) }).decision).toMatchObject({ kind: 'refuse', status: 500, code: 'HOOK_FAILED' });
    const split = await decide({ authorize: () => ({ status: 401, headers: { 'X-Bad': 'a\r\nb' } }) }).decision;
    expect(split).toMatchObject({ kind: 'refuse', status: 500, code: 'HOOK_FAILED' });
    if (split.kind === 'refuse') {
      expect(split.error).toBeInstanceOf(TypeError);
      expect(text(split.response)).toBe(buildRejection(500));
    }
  });

  it('server answers 500 HOOK_FAILED when the hook throws or rejects', async () => {
    const error = new Error('db down');
    expect(await decide({ authorize: () => Promise.reject(error) }).decision).toMatchObject({ status: 500, code: 'HOOK_FAILED', error });
    expect(
      await decide({
        authorize: () => {
          throw error;
        },
      }).decision,
    ).toMatchObject({ status: 500, code: 'HOOK_FAILED', error });
  });

  it('server answers 500 BAD_OPTIONS for an invalid handshakeTimeout when a hook needs the timer', async () => {
    const result = await decide({ handshakeTimeout: -1, authorize: () => undefined }).decision;
    expect(result).toMatchObject({ kind: 'refuse', status: 500, code: 'BAD_OPTIONS' });
    if (result.kind === 'refuse') expect(result.error).toBeInstanceOf(RangeError);
  });

  it('server accepts without building the runtime request when no hook asks for it; it is built when asked', async () => {
    let built = 0;
    const of = subject(RFC_REQUEST, () => {
      built++;
      return NATIVE;
    });
    const result = await decide({}, {}, of).decision;
    expect(result.kind).toBe('accept');
    expect(built).toBe(0);
    if (result.kind === 'accept') expect(result.request()).toBe(NATIVE);
    expect(built).toBe(1);
  });
});

describe('decideUpgrade: dropping', () => {
  it('server drops a handshake whose hook outlasts handshakeTimeout: status 0, TIMEOUT', async () => {
    const { timers, decision } = decide({ handshakeTimeout: 1000, authorize: () => new Promise(() => {}) });
    await turn();
    timers.advance(1000);
    expect(await decision).toMatchObject({ kind: 'refuse', status: 0, code: 'TIMEOUT' });
  });

  it('server refuses with 503 once shut down, and drops a handshake under way with SHUTTING_DOWN', async () => {
    expect(await decide({}, { signal: AbortSignal.abort() }).decision).toMatchObject({ status: 503, code: 'SHUTTING_DOWN' });
    const shutdown = new AbortController();
    const { decision } = decide({ authorize: () => new Promise(() => {}) }, { signal: shutdown.signal });
    await turn();
    shutdown.abort();
    expect(await decision).toMatchObject({ status: 0, code: 'SHUTTING_DOWN' });
  });

  it('server drops with the code the watcher reports when the peer leaves, then unsubscribes it', async () => {
    let drop: ((code: string) => void) | undefined;
    let unsubscribed = false;
    const { decision } = decide(
      { authorize: () => new Promise(() => {}) },
      {
        watch: (stop) => {
          drop = stop;
          return () => {
            unsubscribed = true;
          };
        },
      },
    );
    await turn();
    drop?.('SOCKET_CLOSED');
    expect(await decision).toMatchObject({ status: 0, code: 'SOCKET_CLOSED' });
    expect(unsubscribed).toBe(true);
  });

  it('server drops with SOCKET_CLOSED when the socket is gone once the async phase ends', async () => {
    expect(await decide({}, { closed: () => true }).decision).toMatchObject({ status: 0, code: 'SOCKET_CLOSED' });
    expect(await decide({ authorize: () => undefined }, { closed: () => true }).decision).toMatchObject({ status: 0, code: 'SOCKET_CLOSED' });
  });

  it("server follows a shim's deadline: dropped already, or dropped during the hook, with its code", async () => {
    const timers = manualTimers();
    const early = HandshakeDeadline.forServer(100, timers);
    timers.advance(100);
    expect(await decide({}, { deadline: early }).decision).toMatchObject({ status: 0, code: 'TIMEOUT' });

    const shared = HandshakeDeadline.forServer(100, timers);
    const { decision, timers: own } = decide({ authorize: () => new Promise(() => {}) }, { deadline: shared });
    await turn();
    timers.advance(100);
    expect(await decision).toMatchObject({ status: 0, code: 'TIMEOUT' });
    // The shim's deadline is the only timer: the policy started none.
    expect(own.delays).toEqual([]);
  });

  it("server races even a hook-less handshake against a shim's deadline", async () => {
    const shared = HandshakeDeadline.forServer(100, manualTimers());
    const result = await decide({}, { deadline: shared }).decision;
    expect(result.kind).toBe('accept');
  });
});

describe('upgrade helpers', () => {
  it('isWebSocketUpgrade: the Upgrade field lists websocket, in any case, among others', () => {
    const of = (upgrade: string | undefined) => ({ headers: new Map(upgrade === undefined ? [] : [['upgrade', upgrade]]) });
    expect(isWebSocketUpgrade(of('websocket'))).toBe(true);
    expect(isWebSocketUpgrade(of('h2c, WebSocket'))).toBe(true);
    expect(isWebSocketUpgrade(of('h2c'))).toBe(false);
    expect(isWebSocketUpgrade(of(undefined))).toBe(false);
  });

  it.each([
    ['/chat?room=1', '/chat'],
    ['/', '/'],
    ['http://example.com/a/b?c', '/a/b'],
    ['/a%20b', '/a%20b'],
  ])('targetPath(%j) is %j', (target, path) => {
    expect(targetPath(target)).toBe(path);
  });

  it('UPGRADE_REQUIRED is a valid 426 naming the version spoken', () => {
    const response = buildRejection(UPGRADE_REQUIRED.status, UPGRADE_REQUIRED.headers, UPGRADE_REQUIRED.body);
    expect(response).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(response).toContain('Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n');
  });

  it('dropped is a drop: status 0, nothing to write, the code and error', () => {
    const error = new Error('reset');
    expect(dropped('SOCKET_CLOSED', error)).toEqual({ kind: 'refuse', status: 0, code: 'SOCKET_CLOSED', response: new Uint8Array(0), error });
  });
});
