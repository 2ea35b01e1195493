// UTF-8 in text messages and close reasons (RFC 6455 §5.6, §8.1; RFC 3629): valid text in
// many scripts and at every code point boundary, invalid sequences → 1007 in both roles,
// characters split across fragments and chunks, and fail-fast validation that reports an
// invalid byte before the rest of the frame arrives.
import { describe, expect, it } from 'vitest';
import { concatBytes, feedAllWays, hex, outcome, peerBytes, recorder, ROLES, toHex, utf8 } from './helpers.ts';

/** A single unmasked text frame (FIN, opcode 1) carrying `payload`; peerBytes masks it for a server. */
function textFrame(payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? [0x81, n] : [0x81, 126, n >> 8, n & 0xff];
  return concatBytes(new Uint8Array(head), payload);
}

const SCRIPTS: Array<[string, string]> = [
  ['Latin with diacritics', 'Hello, wörld! Ça va? Ñandú, straße, Łódź'],
  ['Greek', 'κόσμε, Καλημέρα κόσμε'],
  ['Cyrillic', 'Привет, мир! Съешь же ещё этих булок'],
  ['Arabic', 'مرحبا بالعالم'],
  ['Hebrew', 'שלום עולם'],
  ['Devanagari', 'नमस्ते दुनिया'],
  ['Thai', 'สวัสดีชาวโลก'],
  ['CJK', '你好，世界。こんにちは世界。漢字'],
  ['Hangul', '안녕하세요 세계'],
  ['emoji', '😀🎉👍🏽🦄'],
  ['emoji ZWJ sequences', '👨\u200d👩\u200d👧\u200d👦 👩🏽\u200d💻 🏳️\u200d🌈'],
  ['regional-indicator flags', '🇯🇵🇫🇷🇧🇷🇺🇦'],
  ['mixed scripts with combining marks', 'e\u0301 a\u0308 Z\u0351\u036b\u0343 ok'],
];

// Code points at each edge of the UTF-8 encoding lengths, as the hex of the payload.
const CODE_POINTS: Array<[string, string, string]> = [
  ['U+0000, the NUL character', '00', '\u0000'],
  ['U+007F, the largest 1-octet', '7f', '\u007f'],
  ['U+0080, the smallest 2-octet', 'c2 80', '\u0080'],
  ['U+07FF, the largest 2-octet', 'df bf', '\u07ff'],
  ['U+0800, the smallest 3-octet', 'e0 a0 80', '\u0800'],
  ['U+D7FF, just below the surrogates', 'ed 9f bf', '\ud7ff'],
  ['U+E000, just above the surrogates', 'ee 80 80', '\ue000'],
  ['U+FEFF BOM at the start, preserved', 'ef bb bf 61', '\ufeffa'],
  ['U+FFFD, the replacement character', 'ef bf bd', '\ufffd'],
  ['U+FFFF, the largest 3-octet (a noncharacter, still valid)', 'ef bf bf', '\uffff'],
  ['U+10000, the smallest 4-octet', 'f0 90 80 80', '\u{10000}'],
  ['U+10FFFF, the largest code point', 'f4 8f bf bf', '\u{10ffff}'],
];

// Payloads that are not UTF-8, with the rule they break.
const INVALID: Array<[string, string]> = [
  ['80', 'a lone continuation octet'],
  ['bf', 'a lone continuation octet (the largest)'],
  ['61 80 62', 'a continuation octet between ASCII'],
  ['c0 80', 'overlong 2-octet NUL'],
  ['c1 bf', 'overlong 2-octet U+007F'],
  ['e0 80 80', 'overlong 3-octet NUL'],
  ['e0 9f bf', 'overlong 3-octet U+07FF, the largest 3-octet overlong'],
  ['f0 80 80 80', 'overlong 4-octet NUL'],
  ['f0 8f bf bf', 'overlong 4-octet U+FFFF'],
  ['ed a0 80', 'surrogate U+D800'],
  ['ed bf bf', 'surrogate U+DFFF'],
  ['ed a0 bd ed b8 80', 'a surrogate pair encoded as two 3-octet sequences (CESU-8)'],
  ['f4 90 80 80', 'U+110000, above U+10FFFF'],
  ['f7 bf bf bf', 'U+1FFFFF, a 4-octet pattern above U+10FFFF'],
  ['c2 41', 'a 2-octet lead followed by ASCII'],
  ['e2 82 41', 'a 3-octet sequence cut by ASCII'],
  ['f0 9f 98 41', 'a 4-octet sequence cut by ASCII'],
  ['ce', 'a 2-octet sequence truncated at the end of the message'],
  ['e2 82', 'a 3-octet sequence truncated at the end of the message'],
  ['f0 9f 98', 'a 4-octet sequence truncated at the end of the message'],
  ['48 65 6c 6c 6f ff', 'valid text followed by 0xFF'],
];

describe('valid UTF-8', () => {
  for (const role of ROLES) {
    for (const [script, text] of SCRIPTS) {
      it(`${role} receives ${script} text, cut at every byte`, () => {
        const r = feedAllWays({ role }, peerBytes(role, textFrame(utf8(text))));
        expect(r.events).toEqual([{ type: 'text', data: text }]);
        expect(r.written).toBe('');
      });
    }

    it(`${role} receives every code point boundary, cut at every byte`, () => {
      for (const [, payload, text] of CODE_POINTS) {
        const r = feedAllWays({ role }, peerBytes(role, textFrame(hex(payload))));
        expect(r.events).toEqual([{ type: 'text', data: text }]);
      }
    });

    it(`${role} keeps a leading U+FEFF as content rather than stripping it as a BOM`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '81 06 ef bb bf ef bb bf')); // two BOMs
      expect(r.events).toEqual([{ type: 'text', data: '\ufeff\ufeff' }]);
      // And at the start of a fragmented message.
      const f = feedAllWays({ role }, peerBytes(role, '01 02 ef bb 80 02 bf 61'));
      expect(f.events).toEqual([{ type: 'text', data: '\ufeffa' }]);
    });

    it(`${role} receives an empty text message`, () => {
      expect(feedAllWays({ role }, peerBytes(role, '81 00')).events).toEqual([{ type: 'text', data: '' }]);
    });

    it(`${role} does not validate binary messages as text`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '82 04 ff c0 80 ed')); // invalid as UTF-8, fine as binary
      expect(r.events).toEqual([{ type: 'binary', data: 'ff c0 80 ed' }]);
    });
  }
});

describe('characters split across fragments', () => {
  for (const role of ROLES) {
    it(`${role} assembles 2-, 3- and 4-octet characters split across two fragments at every octet`, () => {
      // "aé€😀b": 1 + 2 + 3 + 4 + 1 octets
      const text = 'a\u00e9\u20ac\u{1f600}b';
      const bytes = utf8(text);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const first = bytes.subarray(0, cut);
        const second = bytes.subarray(cut);
        // text without FIN carrying `first`, continuation with FIN carrying `second`
        const frames = concatBytes(new Uint8Array([0x01, first.length]), first, new Uint8Array([0x80, second.length]), second);
        const r = feedAllWays({ role }, peerBytes(role, frames));
        expect(r.events).toEqual([{ type: 'text', data: text }]);
      }
    });

    it(`${role} assembles a 4-octet character split across three fragments`, () => {
      // 😀 = f0 9f 98 80 as "f0" + "9f 98" + "80"
      const r = feedAllWays({ role }, peerBytes(role, '01 01 f0 00 02 9f 98 80 01 80'));
      expect(r.events).toEqual([{ type: 'text', data: '\u{1f600}' }]);
    });

    it(`${role} assembles a character split across one-octet fragments with a ping in between`, () => {
      // € = e2 82 ac, one octet per fragment, a ping after the first
      const r = feedAllWays({ role }, peerBytes(role, '01 01 e2 89 00 00 01 82 80 01 ac'));
      expect(r.events).toEqual([
        { type: 'ping', data: '' },
        { type: 'text', data: '\u20ac' },
      ]);
    });

    it(`${role} decodes a long multi-script message fragmented and chunked`, () => {
      const text = SCRIPTS.map(([, t]) => t).join(' | ');
      const bytes = utf8(text);
      // Fragments of 7 octets: almost every multi-octet character is cut somewhere.
      const parts: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += 7) {
        const piece = bytes.subarray(at, at + 7);
        const op = at === 0 ? 0x01 : 0x00;
        const fin = at + 7 >= bytes.length ? 0x80 : 0;
        parts.push(new Uint8Array([fin | op, piece.length]), piece);
      }
      const r = feedAllWays({ role }, peerBytes(role, concatBytes(...parts)));
      expect(r.events).toEqual([{ type: 'text', data: text }]);
    });
  }
});

describe('invalid UTF-8 → 1007', () => {
  for (const role of ROLES) {
    for (const [payload, what] of INVALID) {
      it(`${role} fails a text message with ${what} (${payload}) with 1007`, () => {
        const r = feedAllWays({ role }, peerBytes(role, textFrame(hex(payload))));
        expect(outcome(role, r)).toMatchObject({
          events: [{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }],
          close: { code: 1007 },
          state: 'closed',
        });
      });
    }

    it(`${role} fails a text message holding any of the octets F5-FF with 1007`, () => {
      for (let b = 0xf5; b <= 0xff; b++) {
        const r = feedAllWays({ role }, peerBytes(role, textFrame(new Uint8Array([0x61, b, 0x80, 0x80, 0x80]))));
        expect(r.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
      }
    });

    it(`${role} fails a fragmented message whose last fragment ends inside a character with 1007`, () => {
      for (const vector of [
        '01 01 41 80 01 ce', // "A" + truncated 2-octet sequence, FIN
        '01 02 e2 82 80 00', // a truncated € followed by an empty final fragment
        '01 01 f0 00 01 9f 80 01 98', // 😀 missing its last octet over three fragments
      ]) {
        const r = feedAllWays({ role }, peerBytes(role, vector));
        expect(r.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
      }
    });

    it(`${role} fails a surrogate split across two fragments with 1007`, () => {
      const r = feedAllWays({ role }, peerBytes(role, '01 01 ed 80 02 a0 80')); // ed | a0 80
      expect(r.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
    });
  }
});

describe('fail-fast validation (RFC 6455 §8.1)', () => {
  for (const role of ROLES) {
    it(`${role} reports 1007 for an invalid byte at position 5 when 10 of 100 announced bytes have arrived`, () => {
      // text, FIN, length 100; only payload octets 0..9 sent, octet 5 is 0xFF
      const partial = peerBytes(role, '81 64 41 42 43 44 45 ff 47 48 49 4a');
      const r = feedAllWays({ role }, partial); // every chunking of the partial bytes
      expect(outcome(role, r)).toMatchObject({
        events: [{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }],
        close: { code: 1007 },
        state: 'closed',
      });
    });

    it(`${role} reports the invalid byte before the rest of the frame arrives, and ignores the rest`, () => {
      const whole = peerBytes(role, concatBytes(hex('81 64 41 42 43 44 45 ff 47 48 49 4a'), new Uint8Array(90).fill(0x41)));
      const headerSize = role === 'server' ? 6 : 2;
      const run = recorder({ role });
      run.protocol.receiveData(whole.subarray(0, headerSize + 10));
      expect(run.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
      run.protocol.receiveData(whole.subarray(headerSize + 10));
      expect(run.events).toHaveLength(1);
    });

    it(`${role} reports an invalid byte in the 2nd fragment before that fragment is complete`, () => {
      const partial = peerBytes(
        role,
        '01 03 61 62 63' + // text "abc", no FIN: complete
          '80 64 41 42 43 44 45 c0 47 48 49 4a', // continuation announcing 100, 10 arrived, 0xC0 at position 5
      );
      const r = feedAllWays({ role }, partial);
      expect(r.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
    });

    it(`${role} reports a sequence begun in the 1st fragment and broken early in the 2nd, before the 2nd is complete`, () => {
      // "a" + e2 (first octet of €), then a continuation of 50 whose first octet is "(" instead of 82
      const partial = peerBytes(role, '01 02 61 e2 80 32 28 29');
      const r = feedAllWays({ role }, partial);
      expect(r.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
    });

    it(`${role} reports an invalid byte in a 16-bit-length frame before the frame is complete`, () => {
      // 300 bytes announced; 20 ASCII then a surrogate ED A0 80 arrive
      const partial = peerBytes(role, concatBytes(hex('81 7e 01 2c'), new Uint8Array(20).fill(0x7a), hex('ed a0 80')));
      const r = feedAllWays({ role }, partial);
      expect(r.events).toEqual([{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }]);
    });

    it(`${role} does not fail a frame whose bytes so far are a valid prefix`, () => {
      // 100 announced, 10 arrived, ending with the first 2 octets of €: nothing to report yet
      const partial = peerBytes(role, '81 64 41 42 43 44 45 46 47 48 e2 82');
      const r = feedAllWays({ role }, partial);
      expect(r.events).toEqual([]);
      expect(r.state).toBe('open');
    });
  }
});

describe('close reason UTF-8 (RFC 6455 §5.5.1)', () => {
  for (const role of ROLES) {
    it(`${role} fails a Close whose reason is invalid UTF-8 with 1007`, () => {
      for (const vector of [
        '88 03 03 e8 80', // 1000 + a lone continuation octet
        '88 04 03 e8 c0 80', // 1000 + an overlong NUL
        '88 05 03 e8 ed a0 80', // 1000 + a surrogate
        '88 03 03 e8 ce', // 1000 + a truncated sequence
      ]) {
        const r = feedAllWays({ role }, peerBytes(role, vector));
        expect(outcome(role, r)).toMatchObject({
          events: [{ type: 'error', code: 'INVALID_UTF8', closeCode: 1007 }],
          close: { code: 1007 },
          state: 'closed',
        });
      }
    });

    it(`${role} accepts a Close whose reason is multi-octet UTF-8`, () => {
      const reason = 'über 😀';
      const r = feedAllWays({ role }, peerBytes(role, concatBytes(hex('88'), new Uint8Array([2 + utf8(reason).length]), hex('03 e9'), utf8(reason))));
      expect(r.events).toEqual([{ type: 'close', code: 1001, reason }]);
    });
  }
});

describe('sending text', () => {
  for (const role of ROLES) {
    it(`${role} sends lone surrogates as U+FFFD, so it never writes invalid UTF-8`, () => {
      const run = recorder({ role });
      run.protocol.sendText('a\ud800b\udc00');
      const peer = feedAllWays({ role: role === 'client' ? 'server' : 'client' }, concatBytes(...run.writes));
      expect(peer.events).toEqual([{ type: 'text', data: 'a\ufffdb\ufffd' }]);
      expect(toHex(utf8('a\ud800'))).toBe('61 ef bf bd');
    });
  }
});
