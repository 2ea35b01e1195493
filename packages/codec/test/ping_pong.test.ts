// Ping and Pong (RFC 6455 §5.5.2, §5.5.3): the automatic Pong, unsolicited Pongs, the
// 125-octet control payload limit, pings between fragments, and no Pong once closing.
import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/constants.ts';
import { concatBytes, feedAllWays, framesWritten, hex, outcome, peerBytes, recorder, ROLES, toHex } from './helpers.ts';

const payload125 = Uint8Array.from({ length: 125 }, (_, i) => (i * 37 + 1) & 0xff);

describe('automatic Pong', () => {
  for (const role of ROLES) {
    it(`${role} answers an empty Ping with an empty Pong`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '89 00')); // ping, no payload
      expect(r.events).toEqual([{ type: 'ping', data: '' }]);
      // A server writes 8a 00; a client masks: 8a 80 and its key.
      expect(r.written).toBe(role === 'server' ? '8a 00' : '8a 80 37 fa 21 3d');
    });

    it(`${role} answers a 125-byte Ping (the control maximum) with a Pong of the same payload`, () => {
      const r = feedAllWays({ role }, peerBytes(role, concatBytes(hex('89 7d'), payload125)));
      expect(r.events).toEqual([{ type: 'ping', data: toHex(payload125) }]);
      const frames = framesWritten(role, r);
      expect(frames.map((f) => [f.fin, f.rsv, f.opcode, toHex(f.payload)])).toEqual([[true, 0, Opcode.Pong, toHex(payload125)]]);
    });

    it(`${role} answers each of several Pings in one chunk, in order`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '89 01 01 89 01 02 89 01 03'));
      expect(r.events.map((e) => e.type)).toEqual(['ping', 'ping', 'ping']);
      expect(framesWritten(role, r).map((f) => [f.opcode, toHex(f.payload)])).toEqual([
        [Opcode.Pong, '01'],
        [Opcode.Pong, '02'],
        [Opcode.Pong, '03'],
      ]);
    });

    it(`${role} with autoPong false writes nothing but reports the Ping`, () => {
      const r = feedAllWays({ role, autoPong: false }, peerBytes(role, '89 03 61 62 63'));
      expect(r.events).toEqual([{ type: 'ping', data: '61 62 63' }]);
      expect(r.written).toBe('');
      expect(r.state).toBe('open');
    });

    it(`${role} reports an unsolicited Pong and writes nothing`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '8a 03 01 02 03')); // pong nobody asked for
      expect(r.events).toEqual([{ type: 'pong', data: '01 02 03' }]);
      expect(r.written).toBe('');
      expect(r.state).toBe('open');
    });

    it(`${role} reports the Pong answering its own Ping`, () => {
      const run = recorder({ role });
      run.protocol.sendPing(hex('de ad'));
      expect(framesWritten(role, run).map((f) => [f.opcode, toHex(f.payload)])).toEqual([[Opcode.Ping, 'de ad']]);
      run.protocol.receiveData(peerBytes(role, '8a 02 de ad'));
      expect(run.events).toEqual([{ type: 'pong', data: 'de ad' }]);
    });
  }
});

describe('control payload limit (RFC 6455 §5.5)', () => {
  for (const role of ROLES) {
    it(`${role} fails a 126-byte Ping (16-bit length) with 1002`, () => {
      const bytes = peerBytes(role, concatBytes(hex('89 7e 00 7e'), new Uint8Array(126)));
      const r = feedAllWays({ role }, bytes);
      expect(outcome(role, r)).toMatchObject({
        events: [{ type: 'error', code: 'CONTROL_TOO_LARGE', closeCode: 1002 }],
        close: { code: 1002 },
        state: 'closed',
      });
    });

    it(`${role} fails an oversized Ping after its first 2 octets`, () => {
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, '89 7e')); // the 7-bit field says "16-bit length follows"
      expect(run.events).toEqual([{ type: 'error', code: 'CONTROL_TOO_LARGE', closeCode: 1002 }]);
    });

    it(`${role} fails a Ping with a 64-bit length and a 126-byte Pong with 1002`, () => {
      for (const vector of [
        '89 7f 00 00 00 00 00 01 00 00', // ping announcing 65536 bytes
        '8a 7e 00 7e', // pong of 126 bytes
      ]) {
        const r = feedAllWays({ role }, peerBytes(role, vector));
        expect(r.events).toEqual([{ type: 'error', code: 'CONTROL_TOO_LARGE', closeCode: 1002 }]);
      }
    });

    it(`${role} sendPing accepts 125 bytes and refuses 126 with RangeError`, () => {
      const run = recorder({ role });
      expect(run.protocol.sendPing(payload125)).toBe(true);
      expect(() => run.protocol.sendPing(new Uint8Array(126))).toThrow(RangeError);
      expect(() => run.protocol.sendPong(new Uint8Array(126))).toThrow(RangeError);
      expect(framesWritten(role, run).map((f) => f.opcode)).toEqual([Opcode.Ping]);
    });
  }
});

describe('Ping inside a fragmented message', () => {
  for (const role of ROLES) {
    it(`${role} answers a Ping between text fragments and still assembles the message`, () => {
      const r = feedAllWays(
        { role },
        peerBytes(
          role,
          '01 03 48 65 6c' + // text "Hel", no FIN
            '89 02 68 69' + // ping "hi"
            '80 02 6c 6f', // continuation "lo", FIN
        ),
      );
      expect(r.events).toEqual([
        { type: 'ping', data: '68 69' },
        { type: 'text', data: 'Hello' },
      ]);
      expect(framesWritten(role, r).map((f) => [f.opcode, toHex(f.payload)])).toEqual([[Opcode.Pong, '68 69']]);
    });

    it(`${role} answers Pings between each of three binary fragments, with a Pong mixed in`, () => {
      const r = feedAllWays(
        { role },
        peerBytes(
          role,
          '02 01 01' + // binary 01, no FIN
            '89 01 aa' + // ping
            '00 01 02' + // continuation 02, no FIN
            '8a 01 bb' + // unsolicited pong
            '89 00' + // empty ping
            '80 01 03', // continuation 03, FIN
        ),
      );
      expect(r.events).toEqual([
        { type: 'ping', data: 'aa' },
        { type: 'pong', data: 'bb' },
        { type: 'ping', data: '' },
        { type: 'binary', data: '01 02 03' },
      ]);
      expect(framesWritten(role, r).map((f) => [f.opcode, toHex(f.payload)])).toEqual([
        [Opcode.Pong, 'aa'],
        [Opcode.Pong, ''],
      ]);
    });
  }
});

describe('no Pong once closing (RFC 6455 §5.5.1)', () => {
  for (const role of ROLES) {
    it(`${role} reports but does not answer a Ping that arrives after it sent Close`, () => {
      const run = recorder({ role });
      run.protocol.close(1000, 'bye');
      run.protocol.receiveData(peerBytes(role, '89 02 68 69'));
      expect(run.events).toEqual([{ type: 'ping', data: '68 69' }]);
      // Only our Close was written.
      expect(framesWritten(role, run).map((f) => f.opcode)).toEqual([Opcode.Close]);
      expect(run.protocol.state).toBe('closing');
    });

    it(`${role} does not answer a Ping that follows the peer's Close in the same chunk`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '88 02 03 e8 89 02 68 69')); // close 1000, then a ping
      expect(r.events).toEqual([{ type: 'close', code: 1000, reason: '' }]);
      expect(framesWritten(role, r).map((f) => f.opcode)).toEqual([Opcode.Close]);
    });
  }
});
