// The Node shim's interop matrix: one table of behaviours, run against every pairing of one
// of OUR ends with a real peer over loopback sockets — our server with the `ws` client,
// undici's WebSocket and Python `websockets`; our client with the `ws` server and Python
// `websockets`. Each test opens its own connection and ends it cleanly.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HandshakeError, type Message } from '@wsflow/codec';
import { ProxyError } from '../src/index.ts';
import { fragmentContent, PREFIX } from './support/bot.ts';
import { makeCert, type TestCert } from './support/certs.ts';
import { EVIL_ORIGIN, GOOD_ORIGIN, pairings, type Pairing, type Session } from './support/pairings.ts';
import { startProxy, type TestProxy } from './support/proxy.ts';
import { python } from './support/python.ts';

if (python === null) console.warn('interop: no Python with `websockets` found; the Python pairings are skipped');

const MiB = 1024 * 1024;
const SIZES = [0, 125, 126, 65535, 65536, MiB, 16 * MiB];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

function asciiText(size: number): string {
  return ALPHABET.repeat(Math.ceil(size / ALPHABET.length)).slice(0, size);
}

function binary(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + 7) & 0xff;
  return bytes;
}

/** Pangrams and edge cases of many scripts; no lone surrogates (they cannot be UTF-8). */
const SCRIPTS: Record<string, string> = {
  latin: 'Falsches Üben von Xylophonmusik quält jeden größeren Zwerg; ça, œuvre, Ångström',
  greek: 'Ξεσκεπάζω τὴν ψυχοφθόρα βδελυγμία',
  cyrillic: 'Съешь же ещё этих мягких французских булок, да выпей чаю',
  arabic: 'نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر',
  hebrew: 'דג סקרן שט בים מאוכזב ולפתע מצא חברה',
  devanagari: 'ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले',
  cjk: '天地玄黄宇宙洪荒 いろはにほへと ちりぬるを 다람쥐 헌 쳇바퀴에 타고파',
  thai: 'เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน',
  emoji: '😀 👍🏽 👩‍👩‍👧‍👦 🏳️‍🌈 🇯🇵🇺🇦 🫠 𝄞 🂡',
  combining: 'e\u0301 a\u0308 Z\u0351\u0352\u0353 \ufdfd \u200d\u200c',
  boundaries: '\u0000\u007f\u0080\u07ff\u0800\ufffd\uffff\u{10000}\u{10ffff}',
};

function expectSameMessage(got: Message, sent: string | Uint8Array): void {
  if (typeof sent === 'string') {
    expect(typeof got).toBe('string');
    expect((got as string).length).toBe(sent.length);
    // One boolean, not a 16 MiB diff, if it fails.
    expect(got === sent).toBe(true);
  } else {
    expect(got).toBeInstanceOf(Uint8Array);
    expect((got as Uint8Array).length).toBe(sent.length);
    expect(Buffer.compare(got as Uint8Array, sent)).toBe(0);
  }
}

/** Closes our end with 1000 and checks both ends saw a clean closing handshake. */
async function finish(pairing: Pairing, session: Session): Promise<void> {
  session.conn.close({ closeCode: 1000 });
  const info = await session.conn.closed;
  expect(info).toMatchObject({ closeCode: 1000, wasClean: true });
  const peer = await pairing.events.next(session.id, 'closed');
  expect(peer.code).toBe(1000);
}

let cert: TestCert;
let proxy: TestProxy;

beforeAll(async () => {
  cert = makeCert();
  proxy = await startProxy();
});

afterAll(async () => {
  await proxy?.close();
  cert?.dispose();
});

describe.each(pairings(python !== null))('$name', (pairing) => {
  beforeAll(() => pairing.start(cert, proxy), 30_000);
  afterAll(() => pairing.stop(), 30_000);

  describe('messages', () => {
    for (const kind of ['text', 'binary'] as const) {
      test.each(SIZES)(`echoes a ${kind} message of %i bytes`, async (size) => {
        const session = await pairing.open();
        const payload = kind === 'text' ? asciiText(size) : binary(size);
        session.conn.send(payload);
        expectSameMessage(await session.inbox.next(), payload);
        await finish(pairing, session);
      });
    }

    test('echoes text in many scripts, emoji and code point boundaries', async () => {
      const session = await pairing.open();
      const samples = Object.values(SCRIPTS);
      const big = samples.join(' | ').repeat(200); // > 64 KiB, every script crossing frame-size classes
      for (const text of [...samples, big]) session.conn.send(text);
      for (const text of [...samples, big]) expectSameMessage(await session.inbox.next(), text);
      await finish(pairing, session);
    });

    test('keeps the order of interleaved text and binary messages', async () => {
      const session = await pairing.open();
      const sent = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? `message ${i}` : binary(i * 97)));
      for (const message of sent) session.conn.send(message);
      for (const message of sent) expectSameMessage(await session.inbox.next(), message);
      await finish(pairing, session);
    });

    test.skipIf(!pairing.caps.fragments)('reassembles a fragmented text message split inside code points', async () => {
      const session = await pairing.open();
      session.conn.send(`${PREFIX}fragments text 333 1000`);
      expectSameMessage(await session.inbox.next(), fragmentContent('text', 1000));
      session.conn.send(`${PREFIX}fragments text 7 65540`);
      expectSameMessage(await session.inbox.next(), fragmentContent('text', 65540));
      await finish(pairing, session);
    });

    test.skipIf(!pairing.caps.fragments)('reassembles a fragmented binary message of 1 MiB in 16 frames', async () => {
      const session = await pairing.open();
      session.conn.send(`${PREFIX}fragments binary 16 ${MiB}`);
      expectSameMessage(await session.inbox.next(), fragmentContent('binary', MiB));
      await finish(pairing, session);
    });
  });

  describe('ping and pong', () => {
    test('our Ping is answered with a Pong carrying its payload', async () => {
      const session = await pairing.open();
      session.conn.ping('heartbeat ✓');
      expect(await session.inbox.pongs.next('pong', 10_000)).toBe('heartbeat ✓');
      session.conn.ping();
      expect(await session.inbox.pongs.next('pong', 10_000)).toBe('');
      await finish(pairing, session);
    });

    test.skipIf(!pairing.caps.ping)("the peer's Ping is answered automatically", async () => {
      const session = await pairing.open();
      session.conn.send(`${PREFIX}ping ¿qué? 🏓`);
      expect(await session.inbox.pings.next('ping', 10_000)).toBe('¿qué? 🏓');
      // The peer reports the Pong it got back.
      expect(await session.inbox.next()).toBe('pong ¿qué? 🏓');
      await finish(pairing, session);
    });
  });

  describe('closing', () => {
    test.each([
      [1000, ''],
      [1001, 'going away'],
      [3000, 'registered code'],
      [4999, 'razón ✓ 🚀'],
    ])('we close with %i %j and the peer sees it', async (code, reason) => {
      const session = await pairing.open();
      session.conn.close({ closeCode: code, reason });
      expect(session.conn.state).toBe('closing');
      const peer = await pairing.events.next(session.id, 'closed');
      expect({ code: peer.code, reason: peer.reason }).toEqual({ code, reason });
      expect(await session.conn.closed).toMatchObject({ closeCode: code, wasClean: true });
    });

    test('we close without a code: the peer sees 1005', async () => {
      const session = await pairing.open();
      session.conn.close();
      const peer = await pairing.events.next(session.id, 'closed');
      expect(peer.code).toBe(1005);
      expect(await session.conn.closed).toMatchObject({ closeCode: 1005, wasClean: true });
    });

    test.each([
      [1000, 'bye'],
      [4001, 'adiós 👋'],
    ])('the peer closes with %i %j and we see it', async (code, reason) => {
      const session = await pairing.open();
      session.conn.send(`${PREFIX}close ${code} ${reason}`);
      expect(await session.conn.closed).toEqual({ closeCode: code, reason, wasClean: true });
      expect((await pairing.events.next(session.id, 'closed')).code).toBe(code);
    });

    test.skipIf(!pairing.caps.terminate)('a peer dropping TCP without a Close is 1006, not clean', async () => {
      const session = await pairing.open();
      session.conn.send(`${PREFIX}terminate`);
      expect(await session.conn.closed).toMatchObject({ closeCode: 1006, wasClean: false });
    });
  });

  describe('subprotocols', () => {
    test('the first offered protocol the server supports is selected, on both ends', async () => {
      const session = await pairing.open({ protocols: ['x-unknown', 'chat', 'superchat'] });
      expect(session.conn.protocol).toBe('chat');
      expect(session.peerOpen.protocol).toBe('chat');
      session.conn.send(`${PREFIX}protocol`);
      expect(await session.inbox.next()).toBe('protocol chat');
      await finish(pairing, session);
    });

    test.skipIf(!pairing.caps.noProtocol)('no common protocol: none is selected', async () => {
      const session = await pairing.open({ protocols: ['x-unknown'] });
      expect(session.conn.protocol).toBe('');
      expect(session.peerOpen.protocol || '').toBe('');
      await finish(pairing, session);
    });
  });

  describe('origin', () => {
    test('an allowed Origin connects', async () => {
      const session = await pairing.open({ origin: GOOD_ORIGIN });
      await finish(pairing, session);
    });

    test('a refused Origin gets 403', async () => {
      const refusal = await pairing.refuse({ origin: EVIL_ORIGIN });
      if (pairing.ours === 'server') {
        expect(refusal.ours).toMatchObject({ status: 403, code: 'FORBIDDEN_ORIGIN' });
        if (pairing.caps.refusalStatus) expect(refusal.status).toBe(403);
      } else {
        expect(refusal.error).toBeInstanceOf(HandshakeError);
        expect(refusal.status).toBe(403);
      }
    });
  });

  describe('wss:// with a self-signed certificate', () => {
    test('echoes text and 1 MiB of binary over TLS and closes cleanly', async () => {
      const session = await pairing.open({ secure: true, protocols: ['superchat'] });
      expect(session.conn.protocol).toBe('superchat');
      session.conn.send('over TLS ✓');
      session.conn.send(binary(MiB));
      expectSameMessage(await session.inbox.next(), 'over TLS ✓');
      expectSameMessage(await session.inbox.next(), binary(MiB));
      await finish(pairing, session);
    });
  });

  describe.skipIf(pairing.ours !== 'server')('the upgrade hook', () => {
    test('refuses with 401 and a WWW-Authenticate header', async () => {
      const refusal = await pairing.refuse({ deny: true });
      expect(refusal.ours).toMatchObject({ status: 401, code: 'REJECTED' });
      if (pairing.caps.refusalStatus) expect(refusal.status).toBe(401);
      if (pairing.caps.refusalHeaders) expect(refusal.headers?.['www-authenticate']).toBe('Bearer realm="wsflow"');
    });
  });

  describe.skipIf(pairing.ours !== 'client')('through an HTTP CONNECT proxy', () => {
    test('ws:// is tunnelled, with Basic credentials', async () => {
      const before = proxy.tunnels.length;
      const session = await pairing.open({ proxy: 'good' });
      expect(proxy.tunnels.length).toBe(before + 1);
      expect(proxy.tunnels.at(-1)).toMatch(/^127\.0\.0\.1:\d+$/);
      session.conn.send('via proxy');
      expect(await session.inbox.next()).toBe('via proxy');
      await finish(pairing, session);
    });

    test('wss:// runs TLS inside the tunnel', async () => {
      const session = await pairing.open({ proxy: 'good', secure: true });
      session.conn.send(binary(65536));
      expectSameMessage(await session.inbox.next(), binary(65536));
      await finish(pairing, session);
    });

    test('a proxy refusing the credentials fails with ProxyError 407', async () => {
      const refusal = await pairing.refuse({ proxy: 'bad' });
      expect(refusal.error).toBeInstanceOf(ProxyError);
      expect(refusal.status).toBe(407);
    });
  });
});
