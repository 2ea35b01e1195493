// Fragmentation (RFC 6455 §5.4): reassembly of text and binary messages, empty fragments,
// the continuation rules, unfragmentable control frames that may sit between fragments,
// and the sending side's opcode/FIN sequence.
import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/constants.ts';
import { concatBytes, feedAllWays, framesWritten, outcome, peerBytes, recorder, ROLES, toHex, utf8 } from './helpers.ts';

/** The hex of a message in `n` fragments of one character each: first `opcode`, then continuations, last with FIN. */
function fragmentsHex(opcode: number, chars: Uint8Array, between = ''): string {
  return Array.from(chars, (c, i) => {
    const op = i === 0 ? opcode : 0;
    const fin = i === chars.length - 1 ? 0x80 : 0;
    return `${(fin | op).toString(16).padStart(2, '0')} 01 ${c.toString(16).padStart(2, '0')}${i < chars.length - 1 ? between : ''}`;
  }).join(' ');
}

describe('reassembly', () => {
  for (const role of ROLES) {
    it(`${role} assembles a text message from 2 fragments`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '01 03 48 65 6c 80 02 6c 6f')); // "Hel" + "lo"
      expect(r.events).toEqual([{ type: 'text', data: 'Hello' }]);
    });

    it(`${role} assembles a text message from 3 fragments`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '01 01 48 00 02 65 6c 80 02 6c 6f')); // "H" + "el" + "lo"
      expect(r.events).toEqual([{ type: 'text', data: 'Hello' }]);
    });

    it(`${role} assembles a text message from 200 one-byte fragments`, () => {
      const text = 'The quick brown fox jumps over the lazy dog. '.repeat(5).slice(0, 200);
      const r = feedAllWays({ role }, peerBytes(role, fragmentsHex(Opcode.Text, utf8(text))));
      expect(r.events).toEqual([{ type: 'text', data: text }]);
      expect(r.written).toBe('');
    });

    it(`${role} assembles a binary message from 2 fragments`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '02 02 01 02 80 03 03 04 05'));
      expect(r.events).toEqual([{ type: 'binary', data: '01 02 03 04 05' }]);
    });

    it(`${role} assembles a binary message from 3 fragments`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '02 01 01 00 02 02 03 80 01 04'));
      expect(r.events).toEqual([{ type: 'binary', data: '01 02 03 04' }]);
    });

    it(`${role} assembles a binary message from 256 one-byte fragments`, () => {
      const data = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
      const r = feedAllWays({ role }, peerBytes(role, fragmentsHex(Opcode.Binary, data)));
      expect(r.events).toEqual([{ type: 'binary', data: toHex(data) }]);
    });

    it(`${role} assembles a message from fragments of different length encodings`, () => {
      const a = new Uint8Array(126).fill(0x61); // 16-bit length fragment
      const b = new Uint8Array(3).fill(0x62); // 7-bit length fragment
      const bytes = peerBytes(role, concatBytes(new Uint8Array([0x01, 0x7e, 0x00, 0x7e]), a, new Uint8Array([0x80, 0x03]), b));
      const r = feedAllWays({ role }, bytes);
      expect(r.events).toEqual([{ type: 'text', data: 'a'.repeat(126) + 'bbb' }]);
    });

    it(`${role} delivers consecutive fragmented messages separately`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '01 01 61 80 01 62 02 01 01 80 01 02 01 01 63 80 00'));
      expect(r.events).toEqual([
        { type: 'text', data: 'ab' },
        { type: 'binary', data: '01 02' },
        { type: 'text', data: 'c' },
      ]);
    });
  }
});

describe('empty fragments', () => {
  const CASES = [
    { name: 'an empty first fragment', text: '01 00 80 02 68 69', binary: '02 00 80 02 68 69', want: 'hi' },
    { name: 'an empty middle fragment', text: '01 01 68 00 00 80 01 69', binary: '02 01 68 00 00 80 01 69', want: 'hi' },
    { name: 'an empty last fragment', text: '01 02 68 69 80 00', binary: '02 02 68 69 80 00', want: 'hi' },
    { name: 'only empty fragments', text: '01 00 00 00 80 00', binary: '02 00 00 00 80 00', want: '' },
  ];
  for (const role of ROLES) {
    for (const { name, text, binary, want } of CASES) {
      it(`${role} assembles a text message with ${name}`, () => {
        expect(feedAllWays({ role }, peerBytes(role, text)).events).toEqual([{ type: 'text', data: want }]);
      });
      it(`${role} assembles a binary message with ${name}`, () => {
        expect(feedAllWays({ role }, peerBytes(role, binary)).events).toEqual([{ type: 'binary', data: toHex(utf8(want)) }]);
      });
    }
  }
});

describe('continuation rules', () => {
  const UNEXPECTED = [
    { hex: '80 01 61', what: 'a continuation with FIN and no message started' },
    { hex: '00 01 61', what: 'a continuation without FIN and no message started' },
    { hex: '80 00', what: 'an empty continuation and no message started' },
    { hex: '81 01 61 80 01 62', what: 'a continuation after a complete message', before: [{ type: 'text', data: 'a' }] },
    { hex: '01 01 61 80 01 62 00 01 63', what: 'a continuation after a finished fragmented one', before: [{ type: 'text', data: 'ab' }] },
  ];
  const INTERRUPTING = [
    { hex: '01 01 61 81 01 62', what: 'a text frame inside a fragmented text message' },
    { hex: '01 01 61 01 01 62', what: 'a text frame without FIN inside a fragmented text message' },
    { hex: '01 01 61 82 01 02', what: 'a binary frame inside a fragmented text message' },
    { hex: '02 01 01 82 01 02', what: 'a binary frame inside a fragmented binary message' },
    { hex: '02 01 01 00 01 02 81 01 61', what: 'a text frame after the 2nd fragment of a binary message' },
  ];
  for (const role of ROLES) {
    for (const { hex: h, what, before = [] } of UNEXPECTED) {
      it(`${role} fails ${what} with 1002`, () => {
        const r = feedAllWays({ role }, peerBytes(role, h));
        expect(outcome(role, r)).toMatchObject({
          events: [...before, { type: 'error', code: 'UNEXPECTED_CONTINUATION', closeCode: 1002 }],
          close: { code: 1002 },
          state: 'closed',
        });
      });
    }
    for (const { hex: h, what } of INTERRUPTING) {
      it(`${role} fails ${what} with 1002`, () => {
        const r = feedAllWays({ role }, peerBytes(role, h));
        expect(outcome(role, r)).toMatchObject({
          events: [{ type: 'error', code: 'EXPECTED_CONTINUATION', closeCode: 1002 }],
          close: { code: 1002 },
          state: 'closed',
        });
      });
    }
  }
});

describe('control frames and fragmentation', () => {
  const UNFINISHED_CONTROL = [
    { hex: '09 00', what: 'a ping without FIN' },
    { hex: '0a 00', what: 'a pong without FIN' },
    { hex: '08 02 03 e8', what: 'a close without FIN' },
    { hex: '01 01 61 09 00 80 01 62', what: 'a ping without FIN between fragments' },
  ];
  for (const role of ROLES) {
    for (const { hex: h, what } of UNFINISHED_CONTROL) {
      it(`${role} fails ${what} with 1002`, () => {
        const r = feedAllWays({ role }, peerBytes(role, h));
        expect(outcome(role, r)).toMatchObject({
          events: [{ type: 'error', code: 'FRAGMENTED_CONTROL', closeCode: 1002 }],
          close: { code: 1002 },
        });
      });
    }

    it(`${role} fails a control frame without FIN after its first 2 octets`, () => {
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, '09 05').subarray(0, 2)); // ping, no FIN, 5 bytes announced
      expect(run.events).toEqual([{ type: 'error', code: 'FRAGMENTED_CONTROL', closeCode: 1002 }]);
    });

    it(`${role} handles a ping and a pong interleaved between every fragment`, () => {
      const r = feedAllWays({ role }, peerBytes(role, fragmentsHex(Opcode.Text, utf8('abcd'), ' 89 01 70 8a 01 71')));
      expect(r.events).toEqual([
        ...Array.from({ length: 3 }, () => [
          { type: 'ping', data: '70' },
          { type: 'pong', data: '71' },
        ]).flat(),
        { type: 'text', data: 'abcd' },
      ]);
      expect(framesWritten(role, r).map((f) => [f.opcode, toHex(f.payload)])).toEqual(Array(3).fill([Opcode.Pong, '70']));
    });

    it(`${role} handles a Close between fragments: the unfinished message is dropped`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '01 01 61 88 02 03 e8 80 01 62'));
      expect(r.events).toEqual([{ type: 'close', code: 1000, reason: '' }]);
    });
  }
});

describe('sending fragmented messages', () => {
  for (const role of ROLES) {
    it(`${role} sendText(s, false) then sendText(s2, true) writes opcode 1 without FIN, then opcode 0 with FIN`, () => {
      const run = recorder({ role });
      expect(run.protocol.sendText('Hel', false)).toBe(true);
      expect(run.protocol.sendText('lo', true)).toBe(true);
      expect(framesWritten(role, run).map((f) => [f.fin, f.opcode, new TextDecoder().decode(f.payload)])).toEqual([
        [false, Opcode.Text, 'Hel'],
        [true, Opcode.Continuation, 'lo'],
      ]);
      // The server's bytes are the RFC 6455 §5.7 example exactly.
      if (role === 'server') expect(run.written).toBe('01 03 48 65 6c 80 02 6c 6f');
    });

    it(`${role} writes a three-fragment binary message as 2, 0, 0 with FIN only on the last`, () => {
      const run = recorder({ role });
      run.protocol.sendBinary(new Uint8Array([1]), false);
      run.protocol.sendBinary(new Uint8Array([]), false);
      run.protocol.sendBinary(new Uint8Array([2, 3]), true);
      run.protocol.sendBinary(new Uint8Array([4])); // the next message starts afresh
      expect(framesWritten(role, run).map((f) => [f.fin, f.opcode, toHex(f.payload)])).toEqual([
        [false, Opcode.Binary, '01'],
        [false, Opcode.Continuation, ''],
        [true, Opcode.Continuation, '02 03'],
        [true, Opcode.Binary, '04'],
      ]);
    });

    it(`${role} may send a Ping in the middle of a fragmented message`, () => {
      const run = recorder({ role });
      run.protocol.sendText('a', false);
      run.protocol.sendPing(new Uint8Array([9]));
      run.protocol.sendText('b', true);
      expect(framesWritten(role, run).map((f) => [f.fin, f.opcode])).toEqual([
        [false, Opcode.Text],
        [true, Opcode.Ping],
        [true, Opcode.Continuation],
      ]);
    });

    it(`${role} sendBinary during a fragmented text send throws TypeError and writes nothing`, () => {
      const run = recorder({ role });
      run.protocol.sendText('a', false);
      const before = run.writes.length;
      expect(() => run.protocol.sendBinary(new Uint8Array([1]))).toThrow(TypeError);
      expect(() => run.protocol.sendBinary(new Uint8Array([1]), false)).toThrow(TypeError);
      expect(run.writes.length).toBe(before);
      // The text message can still be finished.
      run.protocol.sendText('b');
      expect(framesWritten(role, run).map((f) => [f.fin, f.opcode])).toEqual([
        [false, Opcode.Text],
        [true, Opcode.Continuation],
      ]);
    });

    it(`${role} sendText during a fragmented binary send throws TypeError`, () => {
      const run = recorder({ role });
      run.protocol.sendBinary(new Uint8Array([1]), false);
      expect(() => run.protocol.sendText('x')).toThrow(TypeError);
      expect(framesWritten(role, run)).toHaveLength(1);
    });

    it(`what a ${role} sends in fragments, the other end receives as one message`, () => {
      const run = recorder({ role });
      run.protocol.sendText('κόσ', false);
      run.protocol.sendText('', false);
      run.protocol.sendText('με', true);
      run.protocol.sendBinary(new Uint8Array([1, 2]), false);
      run.protocol.sendBinary(new Uint8Array([3]), true);
      const peer = feedAllWays({ role: role === 'client' ? 'server' : 'client' }, concatBytes(...run.writes));
      expect(peer.events).toEqual([
        { type: 'text', data: 'κόσμε' },
        { type: 'binary', data: '01 02 03' },
      ]);
    });
  }
});
