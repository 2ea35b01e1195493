// Reserved bits (RFC 6455 §5.2): RSV1-3 MUST be 0 unless a negotiated extension gives them
// a meaning; with none negotiated, any set bit on any frame fails the connection with 1002,
// as soon as the first 2 octets are known.
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/errors.ts';
import { collectingParser, feedAllWays, hex, outcome, peerBytes, recorder, ROLES, toHex } from './helpers.ts';

const RSV = [
  { bits: 0x40, name: 'RSV1' },
  { bits: 0x20, name: 'RSV2' },
  { bits: 0x10, name: 'RSV3' },
  { bits: 0x60, name: 'RSV1+RSV2' },
  { bits: 0x50, name: 'RSV1+RSV3' },
  { bits: 0x30, name: 'RSV2+RSV3' },
  { bits: 0x70, name: 'RSV1+RSV2+RSV3' },
] as const;

// Each kind of frame, FIN set, without its RSV bits: `prefix` is a valid frame sent first
// (a continuation needs a message to continue), `frame` gets the RSV bits in its first octet.
const KINDS = [
  { kind: 'text', prefix: '', frame: '81 01 61' }, // text "a"
  { kind: 'binary', prefix: '', frame: '82 01 01' }, // binary 01
  { kind: 'continuation', prefix: '01 01 61', frame: '80 01 62' }, // text "a" no FIN, then "b"
  { kind: 'ping', prefix: '', frame: '89 00' }, // empty ping
  { kind: 'pong', prefix: '', frame: '8a 00' }, // empty pong
  { kind: 'close', prefix: '', frame: '88 02 03 e8' }, // close 1000
] as const;

/** `frameHex` with `bits` or-ed into its first octet. */
function withRsv(frameHex: string, bits: number): string {
  const bytes = hex(frameHex);
  bytes[0] |= bits;
  return toHex(bytes);
}

describe('reserved bits without an extension', () => {
  for (const role of ROLES) {
    for (const { kind, prefix, frame } of KINDS) {
      for (const { bits, name } of RSV) {
        it(`${role} fails a ${kind} frame with ${name} set with 1002`, () => {
          const r = feedAllWays({ role }, peerBytes(role, prefix + withRsv(frame, bits)));
          expect(outcome(role, r)).toMatchObject({
            events: [{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }],
            close: { code: 1002 },
            state: 'closed',
          });
        });
      }
    }
  }
});

describe('reserved bits fail fast', () => {
  for (const role of ROLES) {
    for (const { kind, prefix, frame } of KINDS) {
      it(`${role} reports RSV bits on a ${kind} frame when only its first 2 octets have arrived`, () => {
        for (const { bits } of RSV) {
          const run = recorder({ role });
          if (prefix !== '') run.protocol.receiveData(peerBytes(role, prefix));
          expect(run.events).toEqual([]);
          // Only octets 1 and 2 of the frame: (FIN|RSV|opcode) and (MASK|length).
          run.protocol.receiveData(peerBytes(role, withRsv(frame, bits)).subarray(0, 2));
          expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }]);
          expect(run.protocol.state).toBe('closed');
        }
      });
    }

    it(`${role} ignores everything after the RSV error`, () => {
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, withRsv('81 01 61', 0x40)).subarray(0, 2));
      run.protocol.receiveData(peerBytes(role, '81 01 61 89 00')); // a valid text and ping after it
      expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }]);
    });
  }
});

describe('reserved bits an extension allows (FrameParser allowedRsv)', () => {
  it('a parser allowing RSV1 passes it through on a data frame and still rejects RSV2 and RSV3', () => {
    const p = collectingParser('client', { allowedRsv: 0x40 });
    p.parser.push(hex('c1 01 61')); // text "a" with RSV1 (as permessage-deflate sets it)
    expect(p.frames.map((f) => f.rsv)).toEqual([0x40]);
    for (const b0 of [0xa1, 0x91, 0xf1]) {
      const q = collectingParser('client', { allowedRsv: 0x40 });
      let error: unknown;
      try {
        q.parser.push(new Uint8Array([b0, 0x01, 0x61]));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('RESERVED_BITS');
      expect(q.frames).toEqual([]);
    }
  });
});
