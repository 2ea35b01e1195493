// permessage-deflate on an open connection (RFC 7692 §6, §7.2), in both roles, with an
// engine that writes and reads stored DEFLATE blocks (RFC 7692 §7.2.3.3), so every byte on
// the wire can be checked by eye.
import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/constants.ts';
import { InflateLimitError } from '../src/deflate_engine.ts';
import { PerMessageDeflate } from '../src/per_message_deflate.ts';
import type { DeflateAgreement } from '../src/permessage_deflate_params.ts';
import type { DeflateSendOptions } from '../src/per_message_deflate.ts';
import { WebSocketConnection, type ByteTransport } from '../src/connection.ts';
import { closeWritten, feedAllWays, framesWritten, hex, recorder, ROLES, toHex, utf8, wire } from './helpers.ts';
import { storedEngine } from './stored_deflate_engine.ts';
import type { Role } from '../src/constants.ts';

const AGREEMENT: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

function pmd(role: Role, send: DeflateSendOptions = { threshold: 0 }, agreement = AGREEMENT, engine = storedEngine()): PerMessageDeflate {
  return new PerMessageDeflate(role, agreement, engine, send);
}

/** RFC 7692 §7.2.3.3: "Hello" in one stored block, the sync flush's tail removed. */
const HELLO_STORED = '00 05 00 fa ff 48 65 6c 6c 6f 00';

const peer = (role: Role): Role => (role === 'server' ? 'client' : 'server');

describe('permessage-deflate: receiving', () => {
  for (const role of ROLES) {
    it(`${role} inflates a compressed text message (RSV1 on its only frame, RFC 7692 §7.2.3.3)`, () => {
      const bytes = wire(role, [Opcode.Text, hex(HELLO_STORED), true, 0x40]);
      const run = feedAllWays({ role, perMessageDeflate: pmd(role) }, bytes);
      expect(run.events).toEqual([{ type: 'text', data: 'Hello' }]);
    });

    it(`${role} inflates a compressed message sent in fragments, RSV1 on the first only (RFC 7692 §6.1)`, () => {
      const payload = hex(HELLO_STORED);
      const bytes = wire(
        role,
        [Opcode.Binary, payload.subarray(0, 3), false, 0x40],
        [Opcode.Ping, 'p'],
        [Opcode.Continuation, payload.subarray(3, 8), false],
        [Opcode.Continuation, payload.subarray(8), true],
      );
      const run = feedAllWays({ role, perMessageDeflate: pmd(role) }, bytes);
      expect(run.events).toEqual([
        { type: 'ping', data: '70' },
        { type: 'binary', data: '48 65 6c 6c 6f' },
      ]);
    });

    it(`${role} still takes uncompressed messages (RSV1 clear) when the extension is on`, () => {
      const run = feedAllWays({ role, perMessageDeflate: pmd(role) }, wire(role, [Opcode.Text, 'plain']));
      expect(run.events).toEqual([{ type: 'text', data: 'plain' }]);
    });

    it(`${role} fails RSV1 on a continuation frame with 1002 (RFC 7692 §6.1)`, () => {
      const bytes = wire(role, [Opcode.Text, hex('00 01 00 fe ff'), false, 0x40], [Opcode.Continuation, hex('61 00'), true, 0x40]);
      const run = feedAllWays({ role, perMessageDeflate: pmd(role) }, bytes);
      expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }]);
    });

    for (const [name, opcode] of [['Ping', Opcode.Ping], ['Pong', Opcode.Pong], ['Close', Opcode.Close]] as const) {
      it(`${role} fails a ${name} with RSV1 set with 1002: control frames are never compressed (RFC 7692 §6.1)`, () => {
        const run = feedAllWays({ role, perMessageDeflate: pmd(role) }, wire(role, [opcode, opcode === Opcode.Close ? hex('03 e8') : '', true, 0x40]));
        expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }]);
      });
    }

    it(`${role} fails RSV1 with 1002 when permessage-deflate was not negotiated`, () => {
      const run = feedAllWays({ role }, wire(role, [Opcode.Text, hex(HELLO_STORED), true, 0x40]));
      expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }]);
    });

    it(`${role} fails RSV2 and RSV3 with 1002 even with permessage-deflate`, () => {
      for (const bits of [0x20, 0x10, 0x60]) {
        const run = feedAllWays({ role, perMessageDeflate: pmd(role) }, wire(role, [Opcode.Text, 'a', true, bits]));
        expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }]);
      }
    });

    it(`${role} closes with 1009 when a message inflates past maxMessage, and inflates no further`, () => {
      // An engine whose every input octet inflates to 100 (a bomb in miniature): it stops at maxOutput.
      const limits: number[] = [];
      const engine = {
        ...storedEngine(),
        createInflater: () => ({
          inflate(data: Uint8Array, maxOutput: number) {
            limits.push(maxOutput);
            if (data.length * 100 > maxOutput) throw new InflateLimitError(maxOutput);
            return new Uint8Array(data.length * 100).fill(0x61);
          },
          dispose() {},
        }),
      };
      const run = recorder({ role, maxMessage: 1000, perMessageDeflate: new PerMessageDeflate(role, AGREEMENT, engine, {}) });
      run.protocol.receiveData(wire(role, [Opcode.Text, hex('01 02 03 04 05 06 07 08 09 0a'), true, 0x40]));
      expect(run.events).toEqual([{ type: 'text', data: 'a'.repeat(1000) }]);
      run.protocol.receiveData(wire(role, [Opcode.Binary, hex('01 02 03 04 05 06 07 08 09 0a 0b'), true, 0x40], [Opcode.Text, 'not delivered']));
      expect(run.events.slice(1)).toEqual([{ type: 'error', code: 'MESSAGE_TOO_LARGE', closeCode: 1009 }]);
      expect(limits).toEqual([1000, 1000]);
      expect(closeWritten(role, run)?.code).toBe(1009);
    });

    it(`${role} counts a compressed message's wire size against maxMessage as it arrives`, () => {
      const run = recorder({ role, maxMessage: 10, perMessageDeflate: pmd(role) });
      run.protocol.receiveData(wire(role, [Opcode.Text, hex(HELLO_STORED), true, 0x40]));
      expect(run.events).toEqual([{ type: 'error', code: 'MESSAGE_TOO_LARGE', closeCode: 1009 }]);
    });

    it(`${role} closes with 1007 when a compressed message is not valid DEFLATE`, () => {
      const run = recorder({ role, perMessageDeflate: pmd(role) });
      // BTYPE 11 is reserved (RFC 1951 §3.2.3): no inflater accepts it.
      run.protocol.receiveData(wire(role, [Opcode.Binary, hex('07 00'), true, 0x40]));
      expect(run.events).toEqual([{ type: 'error', code: 'INVALID_COMPRESSED_DATA', closeCode: 1007 }]);
      expect(closeWritten(role, run)?.code).toBe(1007);
    });

    it(`${role} closes with 1007 when a compressed text message inflates to invalid UTF-8`, () => {
      const run = recorder({ role, perMessageDeflate: pmd(role) });
      run.protocol.receiveData(wire(role, [Opcode.Text, hex('00 02 00 fd ff c3 28 00'), true, 0x40]));
      expect(run.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
    });

    it(`${role} does not validate a compressed text message's raw bytes as UTF-8 while they arrive`, () => {
      // The stored block's header octets (00 05 00 fa ff) are not UTF-8 text; only the inflated message is.
      const payload = hex(HELLO_STORED);
      const bytes = wire(role, [Opcode.Text, payload.subarray(0, 4), false, 0x40], [Opcode.Continuation, payload.subarray(4), true]);
      const run = feedAllWays({ role, perMessageDeflate: pmd(role) }, bytes);
      expect(run.events).toEqual([{ type: 'text', data: 'Hello' }]);
    });
  }
});

describe('permessage-deflate: sending', () => {
  for (const role of ROLES) {
    it(`${role} sends a message at or above the threshold compressed, in one frame with RSV1`, () => {
      const run = recorder({ role, perMessageDeflate: pmd(role, { threshold: 5 }) });
      run.protocol.sendText('Hello');
      run.protocol.sendText('Hey');
      const frames = framesWritten(role, run);
      expect(frames.map((f) => [f.rsv, f.opcode, toHex(f.payload)])).toEqual([
        [0x40, Opcode.Text, HELLO_STORED],
        [0, Opcode.Text, toHex(utf8('Hey'))],
      ]);
    });

    it(`${role} compresses binary, and honours the per-message opt-out and opt-in`, () => {
      const run = recorder({ role, perMessageDeflate: pmd(role, { threshold: 4 }) });
      run.protocol.sendBinary(utf8('Hello'));
      run.protocol.sendBinary(utf8('Hello'), true, false);
      run.protocol.sendText('Hi', true, true);
      const frames = framesWritten(role, run);
      expect(frames.map((f) => [f.rsv, f.opcode])).toEqual([
        [0x40, Opcode.Binary],
        [0, Opcode.Binary],
        [0x40, Opcode.Text],
      ]);
      expect(toHex(frames[2].payload)).toBe('00 02 00 fd ff 48 69 00');
    });

    it(`${role} sends fragments uncompressed`, () => {
      const run = recorder({ role, perMessageDeflate: pmd(role) });
      run.protocol.sendText('Hel', false);
      run.protocol.sendText('lo', true);
      expect(framesWritten(role, run).map((f) => [f.fin, f.rsv, f.opcode])).toEqual([
        [false, 0, Opcode.Text],
        [true, 0, Opcode.Continuation],
      ]);
    });

    it(`${role} never compresses control frames`, () => {
      const run = recorder({ role, perMessageDeflate: pmd(role) });
      run.protocol.sendPing(utf8('ping payload'));
      run.protocol.close(1000, 'a reason long enough');
      expect(framesWritten(role, run).map((f) => f.rsv)).toEqual([0, 0]);
    });

    it(`${role} sends uncompressed when the engine cannot honour the window the peer allows`, () => {
      const engine = { ...storedEngine(), minDeflateWindowBits: 9 };
      const agreement = { ...AGREEMENT, serverMaxWindowBits: 8, clientMaxWindowBits: 8 };
      const run = recorder({ role, perMessageDeflate: new PerMessageDeflate(role, agreement, engine, { threshold: 0 }) });
      run.protocol.sendText('Hello', true, true);
      expect(framesWritten(role, run).map((f) => f.rsv)).toEqual([0]);
    });

    it(`${role} and its peer round-trip 50 messages of every size through one connection each way`, () => {
      const out = recorder({ role, perMessageDeflate: pmd(role, { threshold: 16 }) });
      const messages: Array<string | Uint8Array> = [];
      for (let i = 0; i < 50; i++) {
        const n = (i * 977) % 70_000;
        messages.push(i % 2 === 0 ? 'é€😀'.repeat(Math.floor(n / 9)) + String(i) : Uint8Array.from({ length: n }, (_, k) => (k * 31 + i) & 0xff));
      }
      for (const m of messages) typeof m === 'string' ? out.protocol.sendText(m) : out.protocol.sendBinary(m);
      const back = recorder({ role: peer(role), perMessageDeflate: pmd(peer(role)) });
      for (const w of out.writes) back.protocol.receiveData(w);
      expect(back.events.length).toBe(50);
      back.events.forEach((e, i) => {
        const m = messages[i];
        if (typeof m === 'string') expect(e).toEqual({ type: 'text', data: m });
        else expect(e).toEqual({ type: 'binary', data: toHex(m) });
      });
    });
  }

  it('the agreement decides each direction: a client compresses with client_* and inflates with server_* parameters', () => {
    const seen: string[] = [];
    const engine = storedEngine();
    const spy = {
      ...engine,
      createDeflater: (p: Parameters<typeof engine.createDeflater>[0]) => (seen.push(`deflate ${p.windowBits} ${p.noContextTakeover} ${p.level} ${p.memLevel}`), engine.createDeflater(p)),
      createInflater: (p: Parameters<typeof engine.createInflater>[0]) => (seen.push(`inflate ${p.windowBits} ${p.noContextTakeover}`), engine.createInflater(p)),
    };
    const agreement: DeflateAgreement = { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 10, clientMaxWindowBits: 12 };
    const client = new PerMessageDeflate('client', agreement, spy, { level: 1, memLevel: 9 });
    client.compress(utf8('x'));
    client.decompress(hex(HELLO_STORED), 100);
    const server = new PerMessageDeflate('server', agreement, spy, {});
    server.compress(utf8('x'));
    server.decompress(hex(HELLO_STORED), 100);
    expect(seen).toEqual(['deflate 12 false 1 9', 'inflate 10 true', 'deflate 10 true 6 8', 'inflate 12 false']);
  });

  it('rejects sending settings out of range', () => {
    expect(() => pmd('server', { threshold: -1 })).toThrow(RangeError);
    expect(() => pmd('server', { level: 10 })).toThrow(RangeError);
    expect(() => pmd('server', { memLevel: 0 })).toThrow(RangeError);
  });
});

describe('permessage-deflate on a WebSocketConnection', () => {
  function transport(): ByteTransport & { out: Uint8Array[] } {
    const out: Uint8Array[] = [];
    return { out, write: (c) => void out.push(c.slice()), end() {}, destroy() {}, pause() {}, resume() {}, bufferedAmount: 0 };
  }

  it('send() compresses by the threshold and takes a per-message compress option', () => {
    const t = transport();
    const conn = new WebSocketConnection(t, { role: 'server', perMessageDeflate: pmd('server', { threshold: 3 }) });
    conn.send('Hello');
    conn.send('Hello', { compress: false });
    conn.send(utf8('Hi'), { compress: true });
    expect(framesWritten('server', { writes: t.out }).map((f) => [f.rsv, f.opcode])).toEqual([
      [0x40, Opcode.Text],
      [0, Opcode.Text],
      [0x40, Opcode.Binary],
    ]);
  });

  it('delivers inflated messages to onmessage', () => {
    const conn = new WebSocketConnection(transport(), { role: 'client', perMessageDeflate: pmd('client') });
    const got: unknown[] = [];
    conn.onmessage = (m) => got.push(m);
    conn.receive(wire('client', [Opcode.Text, hex(HELLO_STORED), true, 0x40]));
    expect(got).toEqual(['Hello']);
  });
});
