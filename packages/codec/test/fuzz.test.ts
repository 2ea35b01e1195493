// Fuzzing (seeded, bounded): random byte streams and mutated valid streams (bits flipped,
// truncated, slices duplicated, bytes inserted or deleted), fed in random chunks to both
// roles. receiveData never throws; a run ends at most once, with a Close or a 1002/1007/1009
// error, after which nothing more happens; what the protocol writes is always valid frames;
// and with small limits no delivered message exceeds them.
import { describe, expect, it } from 'vitest';
import { Opcode, type Role } from '../src/constants.ts';
import { makeFrame } from '../src/frame.ts';
import { serializeFrame } from '../src/frame_serializer.ts';
import { WebSocketProtocol, type ProtocolOptions } from '../src/protocol.ts';
import { concatList, cutAt, decodeWritten, rng, ROLES, utf8 } from './helpers.ts';

type Rng = ReturnType<typeof rng>;

const SMALL_LIMITS = { maxPayload: 1024, maxMessage: 4096, maxFragments: 16 } as const;
const CHARS = ['a', 'Z', ' ', '\u00e9', '\u0436', '\u20ac', '\u4e2d', '\u{1f600}', '\u200d'];

/** A random text of `n` characters mixing 1- to 4-octet UTF-8. */
function randomText(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += CHARS[r.int(CHARS.length)];
  return s;
}

/** A small payload usually, sometimes one past the small limits. */
function randomSize(r: Rng): number {
  const k = r.int(10);
  return k < 6 ? r.int(40) : k < 9 ? r.int(300) : r.int(8000);
}

/** A valid stream a peer of `to` could send: messages (some fragmented, pings between), pings, pongs, rarely a Close. */
function validStream(r: Rng, to: Role): Uint8Array {
  const frames: Uint8Array[] = [];
  const push = (opcode: number, payload: Uint8Array, fin = true): void => {
    frames.push(serializeFrame(makeFrame(opcode, payload, fin), to === 'server' ? (r.next() * 0x100000000) >>> 0 : undefined));
  };
  const count = 1 + r.int(6);
  for (let m = 0; m < count; m++) {
    const kind = r.int(20);
    if (kind < 14) {
      const isText = kind < 7;
      const bytes = isText ? utf8(randomText(r, randomSize(r) >> 1)) : r.bytes(randomSize(r));
      // Unfragmented, or cut into up to 20 fragments of about even size (some empty, some
      // just over maxFragments, many of them under maxPayload while the message is over maxMessage).
      const cuts: number[] = [];
      const pieces = r.int(3) === 0 ? 1 : 1 + r.int(20);
      for (let i = 1; i < pieces; i++) cuts.push(Math.min(bytes.length, Math.floor((i * bytes.length) / pieces) + r.int(8)));
      cuts.sort((a, b) => a - b);
      const fragments = cutAt(bytes, cuts);
      fragments.forEach((payload, i) => {
        const last = i === fragments.length - 1;
        push(i > 0 ? Opcode.Continuation : isText ? Opcode.Text : Opcode.Binary, payload, last);
        if (!last && r.int(4) === 0) push(Opcode.Ping, r.bytes(r.int(10)));
      });
    } else if (kind < 17) {
      push(Opcode.Ping, r.bytes(r.int(126)));
    } else if (kind < 19) {
      push(Opcode.Pong, r.bytes(r.int(20)));
    } else {
      push(Opcode.Close, concatList([new Uint8Array([0x03, 0xe8 + r.int(4)]), utf8(randomText(r, r.int(10)))]));
    }
  }
  return concatList(frames);
}

/** Applies 1 to 3 random mutations: flip bits, truncate, duplicate a slice, insert or delete bytes, or overwrite a byte. */
function mutate(r: Rng, input: Uint8Array): Uint8Array {
  let bytes: Uint8Array = input.slice();
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    const n = bytes.length;
    const at = r.int(n + 1);
    switch (r.int(6)) {
      case 0: // flip 1 to 4 bits
        for (let i = 0, flips = 1 + r.int(4); i < flips && n > 0; i++) bytes[r.int(n)] ^= 1 << r.int(8);
        break;
      case 1: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 2: {
        // duplicate a slice in place
        const len = r.int(Math.min(64, n - at) + 1);
        bytes = concatList([bytes.subarray(0, at + len), bytes.subarray(at, at + len), bytes.subarray(at + len)]);
        break;
      }
      case 3: // insert random bytes
        bytes = concatList([bytes.subarray(0, at), r.bytes(1 + r.int(8)), bytes.subarray(at)]);
        break;
      case 4: // delete a few bytes
        bytes = concatList([bytes.subarray(0, at), bytes.subarray(Math.min(n, at + 1 + r.int(8)))]);
        break;
      default: // overwrite a byte with a header-ish value
        if (n > 0) bytes[r.int(n)] = [0x00, 0x01, 0x02, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a, 0x7e, 0x7f, 0xff][r.int(12)];
    }
  }
  return bytes;
}

/** Random chunks: byte by byte, small, or large. */
function randomChunks(r: Rng, bytes: Uint8Array): Uint8Array[] {
  const style = r.int(4);
  if (style === 0) return [bytes];
  const max = style === 1 ? 1 : style === 2 ? 7 : 500;
  const cuts: number[] = [];
  for (let at = 1 + r.int(max); at < bytes.length; at += 1 + r.int(max)) cuts.push(at);
  return cutAt(bytes, cuts);
}

type Ev = { type: 'text' | 'binary' | 'ping' | 'pong'; size: number } | { type: 'close'; code: number } | { type: 'error'; closeCode: number; code: string };

/** Feeds one input and returns what is wrong with the outcome (empty when all is well). */
function check(role: Role, options: ProtocolOptions, chunks: Uint8Array[], small: boolean): string[] {
  const problems: string[] = [];
  const events: Ev[] = [];
  const writes: Uint8Array[] = [];
  const ws = new WebSocketProtocol(options, {
    write: (b) => void writes.push(b.slice()),
    onText: (t) => void events.push({ type: 'text', size: utf8(t).length }),
    onBinary: (d) => void events.push({ type: 'binary', size: d.length }),
    onPing: (d) => void events.push({ type: 'ping', size: d.length }),
    onPong: (d) => void events.push({ type: 'pong', size: d.length }),
    onClose: (code) => void events.push({ type: 'close', code }),
    onError: (e) => void events.push({ type: 'error', closeCode: e.closeCode, code: e.code }),
  });
  try {
    for (const c of chunks) ws.receiveData(c);
    // Anything after the end must change nothing.
    const before = events.length;
    ws.receiveData(new Uint8Array([0x81, 0x00, 0x89, 0x00]));
    if (events.length !== before && events.slice(0, before).some((e) => e.type === 'error' || e.type === 'close')) {
      problems.push('events after the end');
    }
  } catch (e) {
    problems.push(`receiveData threw ${String(e)}`);
  }
  const end = events.findIndex((e) => e.type === 'error' || e.type === 'close');
  if (end !== -1 && end !== events.length - 1) problems.push(`events after ${events[end].type}`);
  for (const e of events) {
    if (e.type === 'error' && ![1002, 1007, 1009].includes(e.closeCode)) problems.push(`error ${e.code} with close code ${e.closeCode}`);
    if (small && (e.type === 'text' || e.type === 'binary') && e.size > SMALL_LIMITS.maxMessage) problems.push(`${e.type} of ${e.size} bytes over maxMessage`);
    if ((e.type === 'ping' || e.type === 'pong') && e.size > 125) problems.push(`${e.type} of ${e.size} bytes`);
  }
  if (end !== -1 && ws.state !== 'closed') problems.push(`state ${ws.state} after ${events[end].type}`);
  if (end === -1 && ws.state !== 'open') problems.push(`state ${ws.state} with no end event`);
  // What it wrote is whole, valid frames of its role: Pongs, then at most one Close, last.
  try {
    const written = decodeWritten(role, concatList(writes));
    const closes = written.filter((f) => f.opcode === Opcode.Close);
    if (closes.length !== (end === -1 ? 0 : 1)) problems.push(`${closes.length} Close frames written`);
    if (closes.length === 1 && written[written.length - 1].opcode !== Opcode.Close) problems.push('a frame written after the Close');
    const last = events[end];
    if (last?.type === 'error') {
      const p = written[written.length - 1].payload;
      if (p.length < 2 || ((p[0] << 8) | p[1]) !== last.closeCode) problems.push(`Close written does not carry ${last.closeCode}`);
    }
    if (written.some((f) => f.opcode !== Opcode.Close && f.opcode !== Opcode.Pong)) problems.push('wrote a frame other than Pong or Close');
  } catch (e) {
    problems.push(`wrote invalid frames: ${String(e)}`);
  }
  return problems;
}

describe('fuzz', () => {
  for (const role of ROLES) {
    it(`${role} survives 1500 random byte streams`, () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= 1500; seed++) {
        const r = rng(seed * 7919 + (role === 'client' ? 0 : 1));
        // Random bytes; half of them start like a plausible frame.
        const bytes = r.bytes(r.int(300));
        if (bytes.length > 1 && r.int(2) === 0) {
          bytes[0] = [0x81, 0x82, 0x01, 0x02, 0x80, 0x00, 0x88, 0x89, 0x8a][r.int(9)];
          bytes[1] = (role === 'server' ? 0x80 : 0) | r.int(128);
        }
        const small = r.int(2) === 0;
        const problems = check(role, small ? { role, ...SMALL_LIMITS } : { role }, randomChunks(r, bytes), small);
        if (problems.length > 0) failures.push(`seed ${seed}: ${problems.join('; ')}`);
      }
      expect(failures).toEqual([]);
    });

    it(`${role} survives 2500 mutated valid streams, and handles the valid ones cleanly`, () => {
      const failures: string[] = [];
      const outcomes = { clean: 0, errors: 0 };
      const seen = new Set<string>();
      for (let seed = 1; seed <= 2500; seed++) {
        const r = rng(seed * 104729 + (role === 'client' ? 0 : 1));
        const valid = validStream(r, role);
        const small = r.int(2) === 0;
        const options: ProtocolOptions = small ? { role, ...SMALL_LIMITS } : { role };
        // Every 10th stream is fed unmutated: with default limits it must not fail at all.
        const unmutated = seed % 10 === 0;
        const bytes = unmutated ? valid : mutate(r, valid);
        const problems = check(role, options, randomChunks(r, bytes), small);
        if (unmutated && !small) {
          const ws = new WebSocketProtocol(options, { write() {} });
          ws.receiveData(bytes);
          if (ws.error !== null) problems.push(`valid stream failed: ${ws.error.code}`);
        }
        if (problems.length > 0) failures.push(`seed ${seed}: ${problems.join('; ')}`);
        const ws = new WebSocketProtocol(options, { write() {} });
        ws.receiveData(bytes);
        outcomes[ws.error === null ? 'clean' : 'errors']++;
        if (ws.error !== null) seen.add(ws.error.code);
      }
      expect(failures).toEqual([]);
      // The mutations must reach both outcomes often, or the fuzzer tests little.
      expect(outcomes.clean).toBeGreaterThan(250);
      expect(outcomes.errors).toBeGreaterThan(1000);
      for (const code of ['RESERVED_BITS', 'RESERVED_OPCODE', 'INVALID_UTF8', 'PAYLOAD_TOO_LARGE', 'MESSAGE_TOO_LARGE', 'TOO_MANY_FRAGMENTS']) {
        expect(seen).toContain(code);
      }
    });
  }
});
