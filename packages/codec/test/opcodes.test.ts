// Opcodes (RFC 6455 §5.2, §11.8): 0x3-0x7 (reserved data) and 0xB-0xF (reserved control)
// fail the connection with 1002 as soon as the first 2 octets are known; 0x0-0x2 and 0x8-0xA work.
import { describe, expect, it } from 'vitest';
import { isControlOpcode, isKnownOpcode, Opcode } from '../src/constants.ts';
import { feedAllWays, framesWritten, outcome, peerBytes, recorder, ROLES } from './helpers.ts';

const RESERVED = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];
const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

describe('reserved opcodes', () => {
  for (const role of ROLES) {
    for (const op of RESERVED) {
      it(`${role} fails a frame with reserved opcode 0x${op.toString(16).toUpperCase()} with 1002`, () => {
        // FIN set, opcode `op`, 1 byte of payload
        const r = feedAllWays({ role }, peerBytes(role, `${hex2(0x80 | op)} 01 00`));
        expect(outcome(role, r)).toMatchObject({
          events: [{ type: 'error', code: 'RESERVED_OPCODE', closeCode: 1002 }],
          close: { code: 1002 },
          state: 'closed',
        });
      });
    }

    it(`${role} fails every reserved opcode once its first 2 octets arrive, with or without FIN`, () => {
      for (const op of RESERVED) {
        for (const fin of [0x80, 0x00]) {
          const run = recorder({ role });
          // Only octets 1-2 of a frame announcing 5 bytes of payload.
          run.protocol.receiveData(peerBytes(role, `${hex2(fin | op)} 05`).subarray(0, 2));
          expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_OPCODE', closeCode: 1002 }]);
        }
      }
    });

    it(`${role} fails a reserved opcode between the fragments of a message`, () => {
      // text "a" no FIN, reserved-control 0xB, then the continuation that never gets read
      const r = feedAllWays({ role }, peerBytes(role, '01 01 61 8b 00 80 01 62'));
      expect(r.events).toEqual([{ type: 'error', code: 'RESERVED_OPCODE', closeCode: 1002 }]);
    });

    it(`${role} accepts every known opcode`, () => {
      const r = feedAllWays(
        { role },
        peerBytes(
          role,
          '01 01 61' + // 0x1 text, no FIN
            '00 01 62' + // 0x0 continuation, no FIN
            '80 01 63' + // 0x0 continuation, FIN: "abc"
            '82 02 01 02' + // 0x2 binary
            '89 01 70' + // 0x9 ping
            '8a 01 71' + // 0xA pong
            '88 02 03 e8', // 0x8 close 1000
        ),
      );
      expect(r.events).toEqual([
        { type: 'text', data: 'abc' },
        { type: 'binary', data: '01 02' },
        { type: 'ping', data: '70' },
        { type: 'pong', data: '71' },
        { type: 'close', code: 1000, reason: '' },
      ]);
      expect(framesWritten(role, r).map((f) => f.opcode)).toEqual([Opcode.Pong, Opcode.Close]);
    });
  }

  it('isKnownOpcode and isControlOpcode classify all 16 opcodes', () => {
    const known = Array.from({ length: 16 }, (_, op) => op).filter((op) => isKnownOpcode(op));
    expect(known).toEqual([0x0, 0x1, 0x2, 0x8, 0x9, 0xa]);
    const control = Array.from({ length: 16 }, (_, op) => op).filter((op) => isControlOpcode(op));
    expect(control).toEqual([0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf]);
  });
});
