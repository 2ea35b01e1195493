// Receive limits (RFC 6455 §7.4.1 1009, §10.4): maxPayload per frame, maxMessage after
// reassembly, maxFragments per message. A peer that exceeds one is failed with 1009 as soon
// as the offending header is parsed, before its payload is buffered, and is ignored after.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveLimits } from '../src/limits.ts';
import { WebSocketProtocol } from '../src/protocol.ts';
import { concatBytes, feedAllWays, framesWritten, hex, outcome, peerBytes, recorder, ROLES, toHex } from './helpers.ts';

const MiB = 1024 * 1024;

describe('maxPayload', () => {
  for (const role of ROLES) {
    it(`${role} fails a frame over maxPayload with 1009 from its header alone`, () => {
      // binary announcing 11 bytes with maxPayload 10: header only (and, to a server, the key)
      const r = feedAllWays({ role, maxPayload: 10 }, peerBytes(role, '82 0b'));
      expect(outcome(role, r)).toMatchObject({
        events: [{ type: 'error', code: 'PAYLOAD_TOO_LARGE', closeCode: 1009 }],
        close: { code: 1009 },
        state: 'closed',
      });
    });

    it(`${role} accepts a frame of exactly maxPayload`, () => {
      const r = feedAllWays({ role, maxPayload: 10 }, peerBytes(role, '82 0a 00 01 02 03 04 05 06 07 08 09'));
      expect(r.events).toEqual([{ type: 'binary', data: '00 01 02 03 04 05 06 07 08 09' }]);
    });

    it(`${role} fails 16-bit and 64-bit lengths over maxPayload with 1009 before any payload`, () => {
      for (const [maxPayload, head] of [
        [1000, '82 7e 03 e9'], // 1001 in 16 bits
        [65535, '82 7f 00 00 00 00 00 01 00 00'], // 65536 in 64 bits
        [64 * MiB, '82 7f 00 00 00 01 00 00 00 00'], // 4 GiB
      ] as const) {
        const r = feedAllWays({ role, maxPayload }, peerBytes(role, head));
        expect(r.events).toEqual([{ type: 'error', code: 'PAYLOAD_TOO_LARGE', closeCode: 1009 }]);
      }
    });

    it(`${role} applies maxPayload to control frames too`, () => {
      const r = feedAllWays({ role, maxPayload: 4 }, peerBytes(role, '89 05 01 02 03 04 05'));
      expect(r.events).toEqual([{ type: 'error', code: 'PAYLOAD_TOO_LARGE', closeCode: 1009 }]);
    });
  }
});

describe('maxMessage', () => {
  for (const role of ROLES) {
    it(`${role} fails a message over maxMessage across fragments with 1009 at the offending header`, () => {
      const r = feedAllWays(
        { role, maxMessage: 10 },
        peerBytes(
          role,
          '01 05 61 62 63 64 65' + // text, 5 bytes: 5 so far
            '00 05 66 67 68 69 6a' + // continuation, 5 bytes: 10, the limit
            '80 01', // continuation header announcing 1 more: 11 (its payload never sent)
        ),
      );
      expect(outcome(role, r)).toMatchObject({
        events: [{ type: 'error', code: 'MESSAGE_TOO_LARGE', closeCode: 1009 }],
        close: { code: 1009 },
        state: 'closed',
      });
    });

    it(`${role} accepts a message of exactly maxMessage, control frames not counted`, () => {
      const r = feedAllWays(
        { role, maxMessage: 10 },
        peerBytes(role, '02 05 01 02 03 04 05 89 05 70 70 70 70 70 80 05 06 07 08 09 0a'), // 5 + ping(5) + 5
      );
      expect(r.events).toEqual([
        { type: 'ping', data: '70 70 70 70 70' },
        { type: 'binary', data: '01 02 03 04 05 06 07 08 09 0a' },
      ]);
    });

    it(`${role} fails a single frame over maxMessage (but within maxPayload) with 1009`, () => {
      const r = feedAllWays({ role, maxMessage: 4, maxPayload: 100 }, peerBytes(role, '81 05'));
      expect(r.events).toEqual([{ type: 'error', code: 'MESSAGE_TOO_LARGE', closeCode: 1009 }]);
    });

    it(`${role} counts each message from zero`, () => {
      const r = feedAllWays({ role, maxMessage: 4 }, peerBytes(role, '01 02 61 62 80 02 63 64 01 02 65 66 80 02 67 68'));
      expect(r.events).toEqual([
        { type: 'text', data: 'abcd' },
        { type: 'text', data: 'efgh' },
      ]);
    });
  }
});

describe('maxFragments', () => {
  for (const role of ROLES) {
    it(`${role} fails a message in more than maxFragments frames with 1009`, () => {
      // maxFragments 3: the 4th frame's header fails, pings in between do not count
      const r = feedAllWays(
        { role, maxFragments: 3 },
        peerBytes(role, '02 01 01 89 00 00 01 02 00 01 03 8a 00 80 01 04'),
      );
      expect(outcome(role, r)).toMatchObject({
        events: [
          { type: 'ping', data: '' },
          { type: 'pong', data: '' },
          { type: 'error', code: 'TOO_MANY_FRAGMENTS', closeCode: 1009 },
        ],
        close: { code: 1009 },
      });
    });

    it(`${role} accepts a message in exactly maxFragments frames`, () => {
      const r = feedAllWays({ role, maxFragments: 3 }, peerBytes(role, '02 01 01 00 01 02 80 01 03'));
      expect(r.events).toEqual([{ type: 'binary', data: '01 02 03' }]);
    });
  }
});

describe('after a limit is hit', () => {
  for (const role of ROLES) {
    it(`${role} ignores all further input: no events, nothing more written`, () => {
      const run = recorder({ role, maxPayload: 4 });
      run.protocol.receiveData(peerBytes(role, '82 05')); // over the limit
      const writes = run.writes.length;
      run.protocol.receiveData(peerBytes(role, '81 01 61 89 00 88 02 03 e8')); // text, ping, close
      run.protocol.receiveData(hex('ff ff ff'));
      expect(run.events).toEqual([{ type: 'error', code: 'PAYLOAD_TOO_LARGE', closeCode: 1009 }]);
      expect(run.writes.length).toBe(writes);
      expect(framesWritten(role, run).map((f) => f.opcode)).toEqual([0x8]);
      expect(run.protocol.error?.closeCode).toBe(1009);
      expect(run.protocol.canSend).toBe(false);
    });
  }
});

describe('defaults', () => {
  it('DEFAULT_LIMITS are 16 MiB per frame, 16 MiB per message and 65536 fragments', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxPayload: 16 * MiB, maxMessage: 16 * MiB, maxFragments: 65536 });
    expect(resolveLimits(undefined)).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ maxPayload: 5 })).toEqual({ ...DEFAULT_LIMITS, maxPayload: 5 });
  });

  for (const role of ROLES) {
    it(`${role} by default accepts a 16 MiB frame header and fails 16 MiB + 1 with 1009`, () => {
      const ok = feedAllWays({ role }, peerBytes(role, '82 7f 00 00 00 00 01 00 00 00')); // 16 MiB, payload to come
      expect([ok.events, ok.state]).toEqual([[], 'open']);
      const over = feedAllWays({ role }, peerBytes(role, '82 7f 00 00 00 00 01 00 00 01'));
      expect(over.events).toEqual([{ type: 'error', code: 'PAYLOAD_TOO_LARGE', closeCode: 1009 }]);
    });

    it(`${role} by default fails a message of 16 MiB + 1 with 1009 at the last fragment's header`, () => {
      // a 16 MiB first fragment (zeros), then a continuation announcing 1 byte
      const bytes = peerBytes(role, concatBytes(hex('02 7f 00 00 00 00 01 00 00 00'), new Uint8Array(16 * MiB), hex('80 01')));
      const run = recorder({ role });
      run.protocol.receiveData(bytes);
      expect(run.events).toEqual([{ type: 'error', code: 'MESSAGE_TOO_LARGE', closeCode: 1009 }]);
    });

    it(`${role} by default fails the 65537th fragment with 1009`, () => {
      // `count` empty frames: a binary frame, then continuations, FIN on the last; to a server
      // each is 00 80 plus the key 1a 2b 3c 4d (an empty payload needs no masking).
      const emptyFragments = (count: number): Uint8Array => {
        const size = role === 'server' ? 6 : 2;
        const out = new Uint8Array(size * count);
        for (let i = 0; i < count; i++) {
          out[i * size] = (i === 0 ? 0x02 : 0x00) | (i === count - 1 ? 0x80 : 0);
          if (role === 'server') out.set([0x80, 0x1a, 0x2b, 0x3c, 0x4d], i * size + 1);
        }
        return out;
      };
      const run = recorder({ role });
      run.protocol.receiveData(emptyFragments(65537));
      expect(run.events).toEqual([{ type: 'error', code: 'TOO_MANY_FRAGMENTS', closeCode: 1009 }]);
      // One fewer is fine: 65536 fragments make an (empty) message.
      const fine = recorder({ role });
      fine.protocol.receiveData(emptyFragments(65536));
      expect(fine.events).toEqual([{ type: 'binary', data: toHex(new Uint8Array(0)) }]);
    });
  }
});

describe('resolveLimits', () => {
  it('rejects 0, negative, fractional and NaN limits with RangeError', () => {
    for (const bad of [0, -1, -Infinity, 1.5, NaN]) {
      for (const name of ['maxPayload', 'maxMessage', 'maxFragments'] as const) {
        expect(() => resolveLimits({ [name]: bad })).toThrow(RangeError);
        expect(() => new WebSocketProtocol({ role: 'server', [name]: bad }, { write() {} })).toThrow(RangeError);
      }
    }
  });

  it('accepts positive integers and Infinity', () => {
    expect(resolveLimits({ maxPayload: 1, maxMessage: Infinity, maxFragments: 2 })).toEqual({ maxPayload: 1, maxMessage: Infinity, maxFragments: 2 });
  });
});
