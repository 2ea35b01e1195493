/**
 * The socket fuzzer's inputs: input `i` of seed `s` is a valid stream (generate.ts) with
 * zero to three mutations applied — to the frame structure (bad opcodes, RSV bits, length
 * lies, oversized and non-minimal lengths, unmasked frames, invalid UTF-8, bad Close
 * payloads, broken fragmentation, long or fragmented control frames, deflate bombs, corrupt
 * DEFLATE data, RSV1 where RFC 7692 forbids it), to the handshake
 * (header injection, bare CR/LF, NUL, obs-fold, missing or repeated fields, wrong version,
 * method or key, oversized heads), or to the final bytes (bit flips, truncation, splicing,
 * random runs) — and a random plan of how the bytes are split across writes.
 * @module
 */
import { closeFramePayload, compress, concatBytes, DEFLATE_OFFERS, Op, randomText, RSV1, serializeFrame, serializeHandshake, validStream, type EchoedMessage, type FuzzFrame, type ValidStream } from './generate.ts';
import { mixSeed, Prng } from './prng.ts';

/** One write of the input: how many octets, and how long to wait before it. */
export interface Write {
  bytes: number;
  delayMs: number;
}

/** A fuzz input, ready to send. */
export interface FuzzInput {
  seed: number;
  index: number;
  /** The mutations applied, by name (empty for a valid input). */
  mutations: string[];
  bytes: Uint8Array;
  /** How `bytes` is cut into writes (the sizes add up to `bytes.length`). */
  writes: Write[];
  /** For a valid input: what a conforming echo server answers, and the key its 101 must accept. */
  expected: (Pick<ValidStream, 'echoes' | 'closeCode' | 'pongs'> & { key: string }) | null;
}

type FrameMutation = (r: Prng, frames: FuzzFrame[]) => void;
type HandshakeMutation = (r: Prng, lines: string[]) => void;
type ByteMutation = (r: Prng, bytes: Uint8Array, handshakeLength: number) => Uint8Array;

const encoder = new TextEncoder();

/** Invalid UTF-8 sequences (RFC 3629): lone continuation, overlong, surrogate, above U+10FFFF, truncated. */
const BAD_UTF8: readonly number[][] = [[0x80], [0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff], [0xfe], [0xe2, 0x82], [0xf0, 0x9f, 0x98]];

function someFrame(r: Prng, frames: FuzzFrame[], ...opcodes: number[]): FuzzFrame | undefined {
  const pool = opcodes.length === 0 ? frames : frames.filter((f) => opcodes.includes(f.opcode));
  return pool.length === 0 ? undefined : r.pick(pool);
}

function newFrame(r: Prng, opcode: number, payload: Uint8Array, fin = true): FuzzFrame {
  return { fin, rsv: 0, opcode, payload, maskKey: r.bytes(4), masked: true };
}

/** 64 MiB + 64 KiB of zeros, compressed (about 65 KB): one octet over the server's 64 MiB message limit many times over. Made once. */
let bomb: Uint8Array | null = null;
function deflateBomb(): Uint8Array {
  bomb ??= compress(new Uint8Array(64 * 1024 * 1024 + 65536));
  return bomb;
}

/** Frame-structure mutations. Each applies to the frame list in place (adding a frame where there is none to bend). */
const FRAME_MUTATIONS: Readonly<Record<string, FrameMutation>> = {
  'bad-opcode': (r, frames) => {
    const f = someFrame(r, frames) ?? frames[frames.push(newFrame(r, 0, r.bytes(4))) - 1];
    f.opcode = r.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]);
  },
  'rsv-bits': (r, frames) => {
    const f = someFrame(r, frames) ?? frames[frames.push(newFrame(r, Op.Binary, r.bytes(4))) - 1];
    f.rsv = r.range(1, 7);
  },
  'length-lie': (r, frames) => {
    const f = someFrame(r, frames) ?? frames[frames.push(newFrame(r, Op.Binary, r.bytes(20))) - 1];
    const n = f.payload.length;
    f.declaredLength = BigInt(r.chance(0.5) ? n + r.range(1, 300) : Math.max(0, n - r.range(1, 300)));
  },
  'oversized-length': (r, frames) => {
    const f = newFrame(r, r.pick([Op.Binary, Op.Text, Op.Continuation, Op.Ping, Op.Close]), r.bytes(r.int(64)));
    f.declaredLength = r.pick([2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 53n, 2n ** 32n, 64n * 1024n * 1024n + 1n, 1n << 40n, 16n * 1024n * 1024n + 1n]);
    f.lengthForm = 64;
    frames.splice(r.int(frames.length + 1), 0, f);
  },
  'non-minimal-length': (r, frames) => {
    const f = someFrame(r, frames) ?? frames[frames.push(newFrame(r, Op.Binary, r.bytes(5))) - 1];
    f.lengthForm = f.payload.length < 65536 && r.chance(0.5) ? 16 : 64;
  },
  unmasked: (r, frames) => {
    const f = someFrame(r, frames) ?? frames[frames.push(newFrame(r, Op.Text, encoder.encode('hi'))) - 1];
    f.masked = false;
  },
  'invalid-utf8': (r, frames) => {
    const bad = new Uint8Array(r.pick(BAD_UTF8));
    const target = someFrame(r, frames, Op.Text);
    if (target === undefined || r.chance(0.3)) {
      // A Close reason, or a new text message.
      const close = r.chance(0.3);
      const payload = close ? concatBytes([closeFramePayload(1000, 'ok'), bad]) : concatBytes([encoder.encode(randomText(r, r.int(20))), bad]);
      frames.splice(r.int(frames.length + 1), 0, newFrame(r, close ? Op.Close : Op.Text, payload));
      return;
    }
    const at = r.int(target.payload.length + 1);
    target.payload = concatBytes([target.payload.subarray(0, at), bad, target.payload.subarray(at)]);
  },
  'bad-close': (r, frames) => {
    const payload = r.pick([
      () => new Uint8Array([0x03]), // one octet: no room for a code
      () => closeFramePayload(r.pick([0, 999, 1004, 1005, 1006, 1012, 1014, 1015, 1016, 2000, 2999, 5000, 65535]), 'x'),
      () => closeFramePayload(1000, 'r'.repeat(124)), // 126 octets: a control frame over 125
    ])();
    frames.splice(r.int(frames.length + 1), 0, newFrame(r, Op.Close, payload));
  },
  'bad-control': (r, frames) => {
    const opcode = r.pick([Op.Ping, Op.Pong, Op.Close]);
    const f = r.chance(0.5) ? newFrame(r, opcode, r.bytes(r.range(126, 300))) : newFrame(r, opcode, r.bytes(r.int(20)), false);
    frames.splice(r.int(frames.length + 1), 0, f);
  },
  'broken-fragmentation': (r, frames) => {
    const choice = r.int(3);
    if (choice === 0) frames.splice(r.int(frames.length + 1), 0, newFrame(r, Op.Continuation, r.bytes(r.int(40)), r.chance(0.5)));
    else if (choice === 1) {
      // A new data message while a fragmented one is under way.
      const at = r.int(frames.length + 1);
      frames.splice(at, 0, newFrame(r, Op.Binary, r.bytes(10), false), newFrame(r, r.pick([Op.Text, Op.Binary]), encoder.encode('x')));
    } else {
      // A fragmented message that never ends, then the Close.
      const at = frames.length > 0 && frames[frames.length - 1].opcode === Op.Close ? frames.length - 1 : frames.length;
      frames.splice(at, 0, newFrame(r, Op.Text, encoder.encode('start'), false));
    }
  },
  'drop-frame': (r, frames) => {
    if (frames.length > 0) frames.splice(r.int(frames.length), 1);
  },
  'duplicate-frame': (r, frames) => {
    const f = someFrame(r, frames);
    if (f !== undefined) frames.splice(r.int(frames.length + 1), 0, { ...f });
  },
  'data-after-close': (r, frames) => {
    frames.push(newFrame(r, Op.Close, closeFramePayload(1000, '')), newFrame(r, Op.Text, encoder.encode('late')));
  },
  // permessage-deflate (RFC 7692): these make sure the handshake offers it (see makeInput).
  'deflate-bomb': (r, frames) => {
    // Inflates past maxMessage: the server must stop inflating and close with 1009.
    const data = deflateBomb();
    const parts = r.chance(0.5) ? 1 : r.range(2, 6);
    const points = [0, ...Array.from({ length: parts - 1 }, () => r.int(data.length)).sort((a, b) => a - b), data.length];
    const list = Array.from({ length: parts }, (_, i) => {
      const f = newFrame(r, i === 0 ? Op.Binary : Op.Continuation, data.subarray(points[i], points[i + 1]), i === parts - 1);
      if (i === 0) f.rsv = RSV1;
      return f;
    });
    frames.splice(r.int(frames.length + 1), 0, ...list);
  },
  'corrupt-deflate': (r, frames) => {
    const payload = r.chance(0.5) ? r.bytes(r.range(1, 200)) : compress(new TextEncoder().encode(randomText(r, r.range(10, 300)))).slice();
    if (payload.length > 0) payload[r.int(payload.length)] ^= 1 << r.int(8);
    const f = newFrame(r, r.pick([Op.Text, Op.Binary]), payload);
    f.rsv = RSV1;
    frames.splice(r.int(frames.length + 1), 0, f);
  },
  'rsv1-misplaced': (r, frames) => {
    // RSV1 on a control frame or a continuation frame (RFC 7692 §6.1: only a message's first frame).
    const f = r.chance(0.5) ? newFrame(r, r.pick([Op.Ping, Op.Pong]), r.bytes(r.int(20))) : newFrame(r, Op.Continuation, r.bytes(r.int(20)));
    f.rsv = RSV1;
    frames.splice(r.int(frames.length + 1), 0, f);
  },
  'many-fragments': (r, frames) => {
    const n = r.range(100, 3000);
    const list: FuzzFrame[] = [newFrame(r, Op.Binary, r.bytes(1), false)];
    for (let i = 1; i < n; i++) list.push(newFrame(r, Op.Continuation, r.bytes(r.int(3)), i === n - 1));
    frames.splice(r.int(frames.length + 1), 0, ...list);
  },
};

/** Handshake mutations, on the request's lines (request line first). */
const HANDSHAKE_MUTATIONS: Readonly<Record<string, HandshakeMutation>> = {
  'header-injection': (r, lines) => {
    const i = r.range(1, Math.max(1, lines.length - 1));
    const injected = r.pick(['\r\nX-Injected: 1', '\r\n\r\nGET / HTTP/1.1', '\nX-Bare-LF: 1', '\rX-Bare-CR: 1', '\u0000', '\r\n Sec-WebSocket-Version: 8', '\u00ff\u00fe']);
    lines[i] = lines[i] + injected;
  },
  'obs-fold': (r, lines) => {
    lines.splice(r.range(1, lines.length), 0, ` ${randomText(r, 5)}`);
  },
  'bad-header-line': (r, lines) => {
    lines.splice(r.range(1, lines.length), 0, r.pick(['No-Colon-Here', 'Bad Name: x', ': empty-name', 'X-Tab\t: y', 'Sec-WebSocket-Key : spaced', 'X-\u0001: ctl']));
  },
  'drop-header': (r, lines) => {
    const names = ['host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version'];
    const name = r.pick(names);
    const i = lines.findIndex((l, k) => k > 0 && l.toLowerCase().startsWith(`${name}:`));
    if (i > 0) lines.splice(i, 1);
  },
  'repeat-header': (r, lines) => {
    const i = r.range(1, lines.length - 1);
    lines.splice(r.range(1, lines.length), 0, r.chance(0.5) ? lines[i] : `${lines[i].split(':')[0]}: other`);
  },
  'bad-field-value': (r, lines) => {
    const replace = (name: string, value: string): void => {
      const i = lines.findIndex((l, k) => k > 0 && l.toLowerCase().startsWith(`${name}:`));
      if (i > 0) lines[i] = `${lines[i].split(':')[0]}: ${value}`;
    };
    r.pick([
      () => replace('sec-websocket-version', r.pick(['8', '14', '', 'thirteen', '13, 8', '013'])),
      () => replace('sec-websocket-key', r.pick(['', 'short', 'AAAAAAAAAAAAAAAAAAAAAA', '!!!!!!!!!!!!!!!!!!!!!!==', btoa('x'.repeat(17))])),
      () => replace('upgrade', r.pick(['h2c', '', 'websocket2', 'websocket, h2c'])),
      () => replace('connection', r.pick(['close', '', 'keep-alive'])),
      () => replace('host', r.pick(['', 'a b', '[::1', 'x'.repeat(300)])),
      () => replace('sec-websocket-protocol', r.pick(['', 'a b', 'chat,,', '\u00e9'])),
    ])();
  },
  'bad-request-line': (r, lines) => {
    lines[0] = r.pick([
      'POST / HTTP/1.1',
      'GET / HTTP/1.0',
      'GET / HTTP/2.0',
      'GET  / HTTP/1.1',
      'GET /',
      'get / HTTP/1.1',
      'GET http://127.0.0.1/ HTTP/1.1',
      'GET * HTTP/1.1',
      `GET /${'a'.repeat(r.range(1000, 20000))} HTTP/1.1`,
      'GET / HTTP/1.1 extra',
      '',
      '\u0016\u0003\u0001\u0002\u0000\u0001', // the start of a TLS ClientHello
    ]);
  },
  'huge-head': (r, lines) => {
    if (r.chance(0.5)) lines.push(`X-Big: ${'b'.repeat(r.range(8000, 70000))}`);
    else for (let i = r.range(100, 2000); i > 0; i--) lines.push(`X-H${i}: ${i}`);
  },
};

/** Byte mutations, on the serialized input (`handshakeLength` octets of handshake first). */
const BYTE_MUTATIONS: Readonly<Record<string, ByteMutation>> = {
  'bit-flip': (r, bytes, hs) => {
    const out = bytes.slice();
    // Mostly in the frames, sometimes in the handshake.
    const from = r.chance(0.8) && bytes.length > hs ? hs : 0;
    for (let i = r.range(1, 8); i > 0; i--) out[from + r.int(out.length - from)] ^= 1 << r.int(8);
    return out;
  },
  truncate: (r, bytes, hs) => bytes.slice(0, r.chance(0.8) && bytes.length > hs ? r.range(hs, bytes.length - 1) : r.int(bytes.length)),
  splice: (r, bytes) => {
    const at = r.int(bytes.length + 1);
    const from = r.int(bytes.length + 1);
    const piece = r.chance(0.5) ? bytes.slice(from, from + r.range(1, 64)) : r.bytes(r.range(1, 64));
    return concatBytes([bytes.subarray(0, at), piece, bytes.subarray(at)]);
  },
  'random-run': (r, bytes, hs) => {
    const out = bytes.slice();
    const from = bytes.length > hs ? r.range(hs, bytes.length - 1) : r.int(bytes.length);
    out.set(r.bytes(Math.min(out.length - from, r.range(1, 32))), from);
    return out;
  },
  'cut-and-swap': (r, bytes) => {
    const a = r.int(bytes.length + 1);
    const b = r.int(bytes.length + 1);
    const [x, y] = a < b ? [a, b] : [b, a];
    return concatBytes([bytes.subarray(0, x), bytes.subarray(y), bytes.subarray(x, y)]);
  },
};

/** Every mutation's name, with its family. */
export const MUTATIONS: readonly string[] = [
  ...Object.keys(FRAME_MUTATIONS).map((n) => `frame:${n}`),
  ...Object.keys(HANDSHAKE_MUTATIONS).map((n) => `handshake:${n}`),
  ...Object.keys(BYTE_MUTATIONS).map((n) => `bytes:${n}`),
];

/** How the octets go out: one write, every octet alone (short inputs), or random cuts with short pauses. */
function writePlan(r: Prng, total: number): Write[] {
  const style = r.int(10);
  if (total === 0) return [{ bytes: 0, delayMs: 0 }];
  if (style < 3) return [{ bytes: total, delayMs: 0 }];
  if (style === 3 && total <= 300) return Array.from({ length: total }, () => ({ bytes: 1, delayMs: 0 }));
  const writes: Write[] = [];
  let left = total;
  const pieces = r.range(2, 12);
  while (left > 0) {
    const n = writes.length === pieces - 1 ? left : Math.min(left, 1 + r.int(Math.max(1, Math.ceil((2 * total) / pieces))));
    writes.push({ bytes: n, delayMs: r.chance(0.3) ? r.int(4) : 0 });
    left -= n;
  }
  return writes;
}

/** Options of {@link makeInput}. */
export interface InputOptions {
  /** `host:port` for the Host header. */
  authority: string;
  /** Fraction of inputs left valid. Default 0.15. */
  validFraction?: number;
}

/** Builds input `index` of `seed`: always the same bytes and write plan for the same pair. */
export function makeInput(seed: number, index: number, options: InputOptions): FuzzInput {
  const r = new Prng(mixSeed(seed, index));
  const stream = validStream(r, options.authority);
  const mutations: string[] = [];
  if (!r.chance(options.validFraction ?? 0.15)) {
    for (let n = r.chance(0.7) ? 1 : r.range(2, 3); n > 0; n--) mutations.push(r.pick(MUTATIONS));
  }
  // Tagged, so that the server can say which input a connection came from (mutations may still mangle the tag).
  const lines = [...stream.handshake.lines, `X-Fuzz-Input: ${index}`];
  const frames = stream.frames.map((f) => ({ ...f }));
  const byteMutations: string[] = [];
  for (const m of mutations) {
    const [family, name] = m.split(':');
    if (family === 'frame' && name.includes('deflate') && !stream.handshake.deflate) {
      // Offer permessage-deflate in place of any other extension header.
      const other = lines.findIndex((l) => /^sec-websocket-extensions:/i.test(l));
      if (other > 0) lines.splice(other, 1);
      lines.splice(1, 0, `Sec-WebSocket-Extensions: ${r.pick(DEFLATE_OFFERS)}`);
      stream.handshake.deflate = true;
    }
    if (family === 'frame') FRAME_MUTATIONS[name](r, frames);
    else if (family === 'handshake') HANDSHAKE_MUTATIONS[name](r, lines);
    else byteMutations.push(name);
  }
  const handshake = serializeHandshake({ lines, key: stream.handshake.key, deflate: stream.handshake.deflate });
  let bytes = concatBytes([handshake, ...frames.map(serializeFrame)]);
  for (const name of byteMutations) bytes = BYTE_MUTATIONS[name](r, bytes, handshake.length);
  return {
    seed,
    index,
    mutations,
    bytes,
    writes: writePlan(r, bytes.length),
    expected: mutations.length === 0 ? { echoes: stream.echoes, closeCode: stream.closeCode, pongs: stream.pongs, key: stream.handshake.key } : null,
  };
}

export type { EchoedMessage };
