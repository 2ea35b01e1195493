// The closing handshake (RFC 6455 §5.5.1, §7): which close codes may arrive, Close payload
// lengths, the echoed reply, what may be sent after a Close, and the code and cleanliness
// reported once the transport is gone.
import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/constants.ts';
import { WebSocketConnection } from '../src/connection.ts';
import { WebSocketProtocol } from '../src/protocol.ts';
import { closeWritten, concatBytes, feedAllWays, framesWritten, hex, outcome, peerBytes, recorder, ROLES, utf8 } from './helpers.ts';

/** The close codes RFC 6455 §7.4 and the IANA registry allow on the wire. */
const sendable = (code: number): boolean => (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
const hex4 = (code: number): string => `${(code >> 8).toString(16).padStart(2, '0')} ${(code & 0xff).toString(16).padStart(2, '0')}`;

describe('close codes', () => {
  it('client accepts exactly the codes 1000-1003, 1007-1014 and 3000-4999 of all 65536, and fails the rest with 1002', () => {
    // Fed whole, through a bare handler: 65536 connections must stay cheap. With an all-zero
    // mask key the client's masked reply carries its payload in clear.
    const zeroKey = { next: () => 0 };
    const frame = new Uint8Array([0x88, 0x02, 0, 0]);
    const mismatches: string[] = [];
    let accepted = 0;
    for (let code = 0; code <= 0xffff; code++) {
      frame[2] = code >> 8;
      frame[3] = code & 0xff;
      const writes: Uint8Array[] = [];
      let closed = -1;
      let failed = -1;
      const ws = new WebSocketProtocol(
        { role: 'client', maskKeys: zeroKey },
        { write: (b) => void writes.push(b), onClose: (c) => void (closed = c), onError: (e) => void (failed = e.closeCode) },
      );
      ws.receiveData(frame);
      // The one frame written: a masked Close (88, mask bit, zero key) whose payload starts with `sent`.
      const w = writes.length === 1 ? writes[0] : new Uint8Array(0);
      const sent = w.length >= 8 && w[0] === 0x88 && (w[1] & 0x80) !== 0 ? (w[6] << 8) | w[7] : -1;
      if (sendable(code)) {
        accepted++;
        // Reported with its code, and echoed with no reason.
        if (closed !== code || failed !== -1 || sent !== code || w.length !== 8) mismatches.push(`${code} should be accepted`);
      } else if (failed !== 1002 || closed !== -1 || ws.error?.code !== 'INVALID_CLOSE_CODE' || sent !== 1002) {
        mismatches.push(`${code} should fail with 1002`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(accepted).toBe(4 + 8 + 2000);
  });

  // Named edges, fed all ways in both roles.
  const REJECTED: Array<[number, string]> = [
    [0, 'the smallest 16-bit value'],
    [999, 'just below the defined range'],
    [1004, 'reserved'],
    [1005, 'reserved: "no status" is never sent'],
    [1006, 'reserved: "abnormal closure" is never sent'],
    [1015, 'reserved: "TLS handshake" is never sent'],
    [1016, 'unassigned'],
    [2999, 'just below the registered range'],
    [5000, 'just above the private range'],
    [65535, 'the largest 16-bit value'],
  ];
  const ACCEPTED = [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4000, 4999];
  for (const role of ROLES) {
    for (const [code, why] of REJECTED) {
      it(`${role} fails a Close with code ${code} (${why}) with 1002`, () => {
        const r = feedAllWays({ role }, peerBytes(role, `88 02 ${hex4(code)}`));
        expect(outcome(role, r)).toMatchObject({
          events: [{ type: 'error', code: 'INVALID_CLOSE_CODE', closeCode: 1002 }],
          close: { code: 1002 },
          state: 'closed',
        });
      });
    }
    it(`${role} accepts and echoes the valid codes at each edge`, () => {
      for (const code of ACCEPTED) {
        const r = feedAllWays({ role }, peerBytes(role, `88 02 ${hex4(code)}`));
        expect(outcome(role, r)).toEqual({ events: [{ type: 'close', code, reason: '' }], close: { code, reason: '' }, state: 'closed' });
      }
    });
  }
});

describe('Close payload lengths', () => {
  for (const role of ROLES) {
    it(`${role} reports an empty Close as 1005 and answers with an empty Close`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '88 00'));
      expect(r.events).toEqual([{ type: 'close', code: 1005, reason: '' }]);
      // No code to echo: the reply has no payload either.
      expect(r.written).toBe(role === 'server' ? '88 00' : '88 80 37 fa 21 3d');
      expect(r.state).toBe('closed');
    });

    it(`${role} fails a 1-byte Close payload with 1002`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '88 01 03')); // half a status code
      expect(outcome(role, r)).toMatchObject({
        events: [{ type: 'error', code: 'INVALID_CLOSE_PAYLOAD', closeCode: 1002 }],
        close: { code: 1002 },
      });
    });

    it(`${role} accepts a 2-byte Close payload (a code, no reason)`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '88 02 03 e8'));
      expect(outcome(role, r)).toEqual({ events: [{ type: 'close', code: 1000, reason: '' }], close: { code: 1000, reason: '' }, state: 'closed' });
    });

    it(`${role} accepts a 125-byte Close payload (a 123-byte reason)`, () => {
      const reason = 'r'.repeat(123);
      const r = feedAllWays({ role }, peerBytes(role, concatBytes(hex('88 7d 03 e8'), utf8(reason))));
      expect(r.events).toEqual([{ type: 'close', code: 1000, reason }]);
    });

    it(`${role} fails a 126-byte Close payload with 1002`, () => {
      const r = feedAllWays({ role }, peerBytes(role, concatBytes(hex('88 7e 00 7e 03 e8'), new Uint8Array(124).fill(0x72))));
      expect(r.events).toEqual([{ type: 'error', code: 'CONTROL_TOO_LARGE', closeCode: 1002 }]);
    });
  }
});

describe('the reply', () => {
  for (const role of ROLES) {
    it(`${role} echoes the peer's code and reason`, () => {
      for (const [code, reason] of [
        [1001, 'going away'],
        [1011, ''],
        [3000, 'app'],
        [4999, 'x'],
      ] as const) {
        const r = feedAllWays({ role }, peerBytes(role, concatBytes(hex(`88 ${(2 + reason.length).toString(16).padStart(2, '0')} ${hex4(code)}`), utf8(reason))));
        expect(r.events).toEqual([{ type: 'close', code, reason }]);
        expect(closeWritten(role, r)).toEqual({ code, reason });
      }
    });

    it(`${role} ignores the bytes after a received Close, in the same chunk or later`, () => {
      // close 1000, then a text frame, a ping, and garbage that would be a protocol error
      const r = feedAllWays({ role }, peerBytes(role, '88 02 03 e8 81 01 61 89 00 ff ff ff'));
      expect(r.events).toEqual([{ type: 'close', code: 1000, reason: '' }]);
      expect(framesWritten(role, r).map((f) => f.opcode)).toEqual([Opcode.Close]);
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, '88 00'));
      run.protocol.receiveData(peerBytes(role, '81 01 61'));
      run.protocol.receiveData(hex('ff ff'));
      expect(run.events).toEqual([{ type: 'close', code: 1005, reason: '' }]);
    });
  }
});

describe('sending around the closing handshake', () => {
  for (const role of ROLES) {
    it(`${role} sends nothing after it received a Close: sendText, sendBinary, sendPing and sendPong return false`, () => {
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, '88 02 03 e8'));
      const writes = run.writes.length;
      expect(run.protocol.canSend).toBe(false);
      expect(run.protocol.sendText('late')).toBe(false);
      expect(run.protocol.sendBinary(new Uint8Array([1]))).toBe(false);
      expect(run.protocol.sendPing()).toBe(false);
      expect(run.protocol.sendPong()).toBe(false);
      run.protocol.close(1000); // already answered: no second Close
      expect(run.writes.length).toBe(writes);
      expect(framesWritten(role, run).map((f) => f.opcode)).toEqual([Opcode.Close]);
    });

    it(`${role} sends no data after close(), and the peer's Close completes the handshake without a second Close`, () => {
      const run = recorder({ role });
      run.protocol.close(4000, 'done');
      expect(run.protocol.state).toBe('closing');
      expect(run.protocol.closeSent).toEqual({ code: 4000, reason: 'done' });
      expect(run.protocol.sendText('late')).toBe(false);
      expect(run.protocol.sendBinary(new Uint8Array([1]))).toBe(false);
      expect(run.protocol.sendPing()).toBe(false);
      run.protocol.close(1000); // a second close() does nothing
      run.protocol.receiveData(peerBytes(role, '88 02 0f a0')); // the peer echoes 4000
      expect(run.events).toEqual([{ type: 'close', code: 4000, reason: '' }]);
      expect(run.protocol.state).toBe('closed');
      expect(closeWritten(role, run)).toEqual({ code: 4000, reason: 'done' });
      expect(framesWritten(role, run)).toHaveLength(1);
      expect(run.protocol.closeInfo).toEqual({ code: 4000, reason: '', wasClean: true });
    });

    it(`${role} writes no second Close when the peer breaks the protocol after our close()`, () => {
      const run = recorder({ role });
      run.protocol.close(1000);
      run.protocol.receiveData(peerBytes(role, 'c1 00')); // RSV1 set: a protocol error while closing
      expect(run.events).toEqual([{ type: 'error', code: 'RESERVED_BITS', closeCode: 1002 }]);
      expect(closeWritten(role, run)).toEqual({ code: 1000, reason: '' });
      expect(framesWritten(role, run)).toHaveLength(1);
      expect(run.protocol.state).toBe('closed');
      expect(run.protocol.closeInfo).toEqual({ code: 1006, reason: '', wasClean: false });
    });

    it(`${role} close() with no code sends an empty Close`, () => {
      const run = recorder({ role });
      run.protocol.close();
      expect(framesWritten(role, run).map((f) => [f.opcode, f.payload.length])).toEqual([[Opcode.Close, 0]]);
      expect(run.protocol.closeSent).toEqual({ code: 1005, reason: '' });
    });

    it(`${role} close() with a code that may not be sent throws RangeError and writes nothing`, () => {
      const run = recorder({ role });
      for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535, 1000.5, NaN]) {
        expect(() => run.protocol.close(code)).toThrow(RangeError);
      }
      expect(run.writes).toEqual([]);
      expect(run.protocol.state).toBe('open');
    });

    it(`${role} close() with a reason over 123 UTF-8 bytes throws RangeError`, () => {
      const run = recorder({ role });
      expect(() => run.protocol.close(1000, 'x'.repeat(124))).toThrow(RangeError);
      expect(() => run.protocol.close(1000, '\u00e9'.repeat(62))).toThrow(RangeError); // 62 characters, 124 bytes
      expect(() => run.protocol.close(undefined, 'why')).toThrow(TypeError); // a reason needs a code
      expect(run.writes).toEqual([]);
      run.protocol.close(1000, 'x'.repeat(123)); // exactly 123 fits
      expect(closeWritten(role, run)).toEqual({ code: 1000, reason: 'x'.repeat(123) });
    });
  }
});

describe('closeInfo and receiveEof', () => {
  for (const role of ROLES) {
    it(`${role} reports 1006, not clean, when the transport ends with no Close`, () => {
      const run = recorder({ role });
      expect(run.protocol.closeInfo).toEqual({ code: 1006, reason: '', wasClean: false });
      run.protocol.receiveEof();
      expect(run.protocol.state).toBe('closed');
      expect(run.protocol.closeInfo).toEqual({ code: 1006, reason: '', wasClean: false });
    });

    it(`${role} reports 1006 when it sent Close but the transport ended before the peer's`, () => {
      const run = recorder({ role });
      run.protocol.close(1000);
      run.protocol.receiveEof();
      expect(run.protocol.state).toBe('closed');
      expect(run.protocol.closeInfo).toEqual({ code: 1006, reason: '', wasClean: false });
    });

    it(`${role} reports the peer's code and reason once its Close arrived`, () => {
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, '88 05 03 e9 62 79 65')); // 1001 "bye"
      run.protocol.receiveEof();
      expect(run.protocol.closeInfo).toEqual({ code: 1001, reason: 'bye', wasClean: true });
      expect(run.protocol.closeReceived).toEqual({ code: 1001, reason: 'bye' });
    });

    it(`${role} reports 1005 for the peer's empty Close`, () => {
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, '88 00'));
      expect(run.protocol.closeInfo).toEqual({ code: 1005, reason: '', wasClean: true });
    });

    it(`${role} reports 1006 after a protocol error`, () => {
      const run = recorder({ role });
      run.protocol.receiveData(peerBytes(role, '88 01 03'));
      expect(run.protocol.error?.closeCode).toBe(1002);
      expect(run.protocol.closeInfo).toEqual({ code: 1006, reason: '', wasClean: false });
    });

    it(`${role} ignores data after receiveEof`, () => {
      const run = recorder({ role });
      const hello = peerBytes(role, '81 05 48 65 6c 6c 6f');
      run.protocol.receiveData(hello.subarray(0, hello.length - 3)); // "Hello" but its last 3 bytes
      run.protocol.receiveEof();
      run.protocol.receiveData(hello.subarray(hello.length - 3));
      run.protocol.receiveData(peerBytes(role, '81 01 61'));
      expect(run.events).toEqual([]);
      expect(run.writes).toEqual([]);
      expect(run.protocol.state).toBe('closed');
    });
  }
});

// The wsflow API takes a Close reason as a string or as its UTF-8 octets: bytes go on the
// wire as they are (never as the text "104,105"), once checked to be UTF-8 and to fit.
describe('a close reason given as bytes', () => {
  for (const role of ROLES) {
    it(`${role} close() with a Uint8Array reason sends those octets`, () => {
      const run = recorder({ role });
      run.protocol.close(4000, new Uint8Array([0x68, 0x69])); // "hi", not "104,105"
      expect(closeWritten(role, run)).toEqual({ code: 4000, reason: 'hi' });
      expect(run.protocol.closeSent).toEqual({ code: 4000, reason: 'hi' });
    });

    it(`${role} close() with a multi-byte UTF-8 reason of exactly 123 octets sends it; 124 is a RangeError`, () => {
      const fits = utf8('\u20ac'.repeat(41)); // 41 × 3 = 123 octets
      const over = utf8(`${'\u20ac'.repeat(41)}x`);
      const refused = recorder({ role });
      expect(() => refused.protocol.close(1000, over)).toThrow(RangeError);
      expect(refused.writes).toEqual([]);
      const run = recorder({ role });
      run.protocol.close(1000, fits);
      expect(closeWritten(role, run)).toEqual({ code: 1000, reason: '\u20ac'.repeat(41) });
    });

    it(`${role} close() refuses bytes that are not UTF-8 with a TypeError and writes nothing`, () => {
      const run = recorder({ role });
      for (const bytes of [
        hex('ff'), // never valid in UTF-8
        hex('c3'), // a two-octet sequence cut short
        hex('ed a0 80'), // an encoded surrogate (U+D800)
        hex('c0 af'), // an overlong "/"
      ]) {
        expect(() => run.protocol.close(1000, bytes)).toThrow(TypeError);
      }
      expect(run.writes).toEqual([]);
      expect(run.protocol.state).toBe('open');
    });

    it(`${role} close() refuses a reason that is neither a string nor a Uint8Array with a TypeError`, () => {
      const run = recorder({ role });
      for (const reason of [42, null, {}, [0x68, 0x69], new Uint16Array([0x68]), new ArrayBuffer(2)]) {
        expect(() => run.protocol.close(1000, reason as unknown as string)).toThrow(TypeError);
      }
      expect(run.writes).toEqual([]);
    });

    it(`${role} close() with bytes but no code is a TypeError, with no bytes it sends an empty Close`, () => {
      const run = recorder({ role });
      expect(() => run.protocol.close(undefined, utf8('why'))).toThrow(TypeError);
      run.protocol.close(undefined, new Uint8Array(0));
      expect(run.protocol.closeSent).toEqual({ code: 1005, reason: '' });
    });
  }

  it('WebSocketConnection.close({ closeCode, reason }) takes the bytes too', () => {
    const writes: Uint8Array[] = [];
    const transport = { write: (b: Uint8Array) => void writes.push(b.slice()), end() {}, destroy() {}, pause() {}, resume() {}, bufferedAmount: 0 };
    const conn = new WebSocketConnection(transport, { role: 'server' });
    expect(() => conn.close({ closeCode: 4000, reason: hex('ff fe') })).toThrow(TypeError);
    expect(conn.state).toBe('open');
    conn.close({ closeCode: 4000, reason: utf8('bye') });
    // 88 05: FIN + Close, 5 octets; 0f a0 = 4000; "bye".
    expect(writes.map((w) => Array.from(w, (b) => b.toString(16).padStart(2, '0')).join(' '))).toEqual(['88 05 0f a0 62 79 65']);
  });
});
