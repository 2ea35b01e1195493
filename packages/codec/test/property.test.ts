// Properties (fast-check): whatever frames a peer sends and however the network cuts them,
// the parser gives back exactly those frames; whatever messages a peer sends, however they
// are fragmented (even inside a UTF-8 character) and chunked, with pings between the
// fragments, the protocol delivers exactly those messages in order.
// Seeds are fixed so a run is reproducible; fast-check prints the seed and path on failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode, type Role } from '../src/constants.ts';
import { makeFrame } from '../src/frame.ts';
import { serializeFrame } from '../src/frame_serializer.ts';
import { WebSocketProtocol } from '../src/protocol.ts';
import { collectingParser, concatList, cutAt, decodeWritten, rng, ROLES, utf8 } from './helpers.ts';

interface Spec {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Uint8Array;
}

/** A cheap fingerprint of a payload (length and FNV-1a), so 70 KB payloads compare quickly. */
function fingerprint(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}

/** A payload length: mostly small, often at the 7/16-bit edges, occasionally past 64 KiB. */
const lengthArb = fc.oneof(
  { weight: 60, arbitrary: fc.integer({ min: 0, max: 130 }) },
  { weight: 10, arbitrary: fc.integer({ min: 126, max: 3000 }) },
  { weight: 6, arbitrary: fc.constantFrom(0, 125, 126, 127) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(65535, 65536), fc.integer({ min: 65530, max: 70000 })) },
);
/** Random bytes of a random length, drawn from a seed (fast even at 70 KB). */
const payloadArb = fc.tuple(lengthArb, fc.integer()).map(([n, seed]) => rng(seed).bytes(n));
const controlArb: fc.Arbitrary<Spec> = fc
  .tuple(fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close), fc.uint8Array({ maxLength: 125 }))
  .map(([opcode, payload]) => ({ fin: true, rsv: 0, opcode, payload }));
/** One data message as frames: first text or binary, then continuations, FIN on the last; controls may follow any fragment but the last. */
const messageFramesArb: fc.Arbitrary<Spec[]> = fc
  .tuple(
    fc.constantFrom(Opcode.Text, Opcode.Binary),
    fc.array(fc.tuple(payloadArb, fc.constantFrom(0, 0, 0x40, 0x20, 0x10, 0x70), fc.option(controlArb, { freq: 3 })), {
      minLength: 1,
      maxLength: 5,
    }),
  )
  .map(([opcode, fragments]) =>
    fragments.flatMap(([payload, rsv, control], i): Spec[] => {
      const last = i === fragments.length - 1;
      const frame = { fin: last, rsv, opcode: i === 0 ? opcode : Opcode.Continuation, payload };
      return control !== null && !last ? [frame, control] : [frame];
    }),
  );
const streamArb = fc.array(fc.oneof({ weight: 3, arbitrary: messageFramesArb }, { weight: 1, arbitrary: controlArb.map((c) => [c]) }), {
  minLength: 1,
  maxLength: 8,
}).map((groups) => groups.flat());

/** How to cut a stream: a seed and a chunk-size style. */
const chunkingArb = fc.tuple(fc.integer(), fc.constantFrom('whole', 'bytes', 'tiny', 'small', 'large', 'mixed'));

/** Cuts `bytes` into chunks as `chunking` says. */
function chunk(bytes: Uint8Array, [seed, style]: [number, string]): Uint8Array[] {
  if (style === 'whole') return [bytes];
  // Byte by byte only while it stays cheap; a large stream gets chunks of 1 to 8 bytes instead.
  if (style === 'bytes' && bytes.length > 4096) style = 'tiny';
  const r = rng(seed);
  const cuts: number[] = [];
  let at = 0;
  for (;;) {
    const max = style === 'bytes' ? 1 : style === 'tiny' ? 8 : style === 'small' ? 200 : style === 'large' ? 20000 : [1, 3, 50, 5000][r.int(4)];
    at += 1 + r.int(max);
    if (at >= bytes.length) break;
    cuts.push(at);
  }
  return cutAt(bytes, cuts);
}

/** Serializes frames as a peer of `to` would: masked with a random key per frame to a server. */
function serialize(to: Role, frames: Spec[], keySeed: number): Uint8Array {
  const keys = rng(keySeed);
  return concatList(
    frames.map((f) => {
      const frame = { ...makeFrame(f.opcode, f.payload, f.fin), rsv1: (f.rsv & 0x40) !== 0, rsv2: (f.rsv & 0x20) !== 0, rsv3: (f.rsv & 0x10) !== 0 };
      return serializeFrame(frame, to === 'server' ? (keys.next() * 0x100000000) >>> 0 : undefined);
    }),
  );
}

describe('frame-level property: parse(serialize(frames)) = frames under any chunking', () => {
  for (const role of ROLES) {
    it(`${role} FrameParser gives back the frames its peer serialized`, () => {
      fc.assert(
        fc.property(streamArb, chunkingArb, fc.integer(), (frames, chunking, keySeed) => {
          const bytes = serialize(role, frames, keySeed);
          const p = collectingParser(role, { allowedRsv: 0x70 });
          for (const c of chunk(bytes, chunking)) p.parser.push(c);
          const describe = (f: Spec): string => `${f.fin ? 'F' : '-'} rsv${f.rsv.toString(16)} op${f.opcode} ${fingerprint(f.payload)}`;
          expect(p.frames.map(describe)).toEqual(frames.map(describe));
          expect(p.headers.map((h) => h.length)).toEqual(frames.map((f) => f.payload.length));
          expect(p.parser.atFrameBoundary).toBe(true);
        }),
        { seed: 0x5eed01 + (role === 'client' ? 0 : 1), numRuns: 150 },
      );
    });
  }
});

type Message = { type: 'text'; data: string } | { type: 'binary'; data: Uint8Array };
type Received = { type: 'text'; data: string } | { type: 'binary'; data: string } | { type: 'ping'; data: string };

const textArb = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 10, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  // Past 64 KiB of UTF-8 (a 64-bit length, split into many chunks): a random string repeated, cheap to generate.
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 4, maxLength: 40 }).map((s) => s.repeat(Math.ceil(66000 / utf8(s).length))) },
);
const messageArb: fc.Arbitrary<Message> = fc.oneof(
  textArb.map((data): Message => ({ type: 'text', data })),
  payloadArb.map((data): Message => ({ type: 'binary', data })),
);
/** A message, where to cut it into fragments (byte offsets, so inside characters too), and after which fragments a ping comes. */
const fragmentedArb = fc.tuple(messageArb, fc.array(fc.nat(), { maxLength: 5 }), fc.array(fc.boolean(), { maxLength: 6 }));

describe('message-level property: messages survive random fragmentation and chunking', () => {
  for (const role of ROLES) {
    it(`${role} delivers exactly the messages sent, in order, with the pings between fragments`, () => {
      fc.assert(
        fc.property(fc.array(fragmentedArb, { minLength: 1, maxLength: 6 }), chunkingArb, fc.integer(), (messages, chunking, keySeed) => {
          const frames: Spec[] = [];
          const want: Received[] = [];
          let pings = 0;
          for (const [message, rawCuts, pingAfter] of messages) {
            const bytes = message.type === 'text' ? utf8(message.data) : message.data;
            const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
            const fragments = cutAt(bytes, cuts);
            fragments.forEach((payload, i) => {
              const last = i === fragments.length - 1;
              frames.push({ fin: last, rsv: 0, opcode: i > 0 ? Opcode.Continuation : message.type === 'text' ? Opcode.Text : Opcode.Binary, payload });
              if (!last && pingAfter[i]) {
                const ping = new Uint8Array([pings & 0xff, pings >> 8]);
                frames.push({ fin: true, rsv: 0, opcode: Opcode.Ping, payload: ping });
                want.push({ type: 'ping', data: fingerprint(ping) });
                pings++;
              }
            });
            want.push(message.type === 'text' ? message : { type: 'binary', data: fingerprint(message.data) });
          }

          const got: Received[] = [];
          const writes: Uint8Array[] = [];
          const errors: string[] = [];
          const ws = new WebSocketProtocol(
            { role },
            {
              write: (b) => void writes.push(b.slice()),
              onText: (data) => void got.push({ type: 'text', data }),
              onBinary: (data) => void got.push({ type: 'binary', data: fingerprint(data) }),
              onPing: (data) => void got.push({ type: 'ping', data: fingerprint(data) }),
              onError: (e) => void errors.push(`${e.code}: ${e.message}`),
            },
          );
          for (const c of chunk(serialize(role, frames, keySeed), chunking)) ws.receiveData(c);
          expect(errors).toEqual([]);
          expect(got).toEqual(want);
          // Every ping was answered with a Pong of the same payload, and nothing else was written.
          const written = decodeWritten(role, concatList(writes));
          expect(written.map((f) => `${f.opcode}:${fingerprint(f.payload)}`)).toEqual(
            want.filter((e) => e.type === 'ping').map((e) => `${Opcode.Pong}:${e.data}`),
          );
          expect(ws.state).toBe('open');
        }),
        { seed: 0x5eed11 + (role === 'client' ? 0 : 1), numRuns: 150 },
      );
    });
  }
});
