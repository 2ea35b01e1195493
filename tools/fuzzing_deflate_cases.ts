/**
 * The fuzzing server's compression cases, in the spirit of Autobahn|Testsuite's sections 12
 * and 13: messages of several sizes and counts echoed under permessage-deflate (RFC 7692)
 * with several parameter sets (`client_max_window_bits` 9..15, no context takeover either
 * way). The server answers the agent's offer with the case's parameters, compresses what it
 * sends with its own `node:zlib` (not the codec's engines), and inflates what the agent
 * sends with exactly the agreed terms: an agent that reaches past its window or refers to
 * an earlier message after promising not to fails the case, as does a wrong echo.
 * @module
 */
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { CloseCode, Opcode, encodeUtf8, makeFrame, parseClosePayload, type ExtensionOffer, type ExtensionParam, type Frame } from '@wsflow/codec';
import type { FuzzingCase, Verdict } from './fuzzing_cases.ts';
import type { RawPeer } from './raw_peer.ts';

/** How one end compresses, as agreed (RFC 7692 §7.1). */
export interface SenderTerms {
  /** The LZ77 window as a base-2 logarithm, 8..15. */
  windowBits: number;
  /** The sender resets its context after every message. */
  noContextTakeover: boolean;
}

/** The agreement of a compression case's connection. */
export interface DeflateTerms {
  client: SenderTerms;
  server: SenderTerms;
}

/** A compression case: the response parameters it answers the agent's offer with, and its run. */
export interface DeflateFuzzingCase extends FuzzingCase {
  /** The parameters of the server's `permessage-deflate` response element. */
  readonly response: readonly ExtensionParam[];
  runDeflate(channel: DeflateChannel, deadline: number): Promise<Verdict>;
}

/** Whether a case is a compression case. */
export function isDeflateCase(fuzzingCase: FuzzingCase): fuzzingCase is DeflateFuzzingCase {
  return 'runDeflate' in fuzzingCase;
}

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const MAX_MESSAGE = 4 * 1024 * 1024;

/**
 * Answers the agent's permessage-deflate offers with the case's parameters (the first offer
 * that allows them), or null when none does (the agent then gets no extension and fails).
 * Works out both senders' terms from the offer and the response (RFC 7692 §7.1: an offer's
 * `client_no_context_takeover` and `client_max_window_bits=N` bind the client anyway).
 */
export function negotiateCase(offers: readonly ExtensionOffer[], response: readonly ExtensionParam[]): { accepted: ExtensionOffer; terms: DeflateTerms } | null {
  const wants = new Map(response);
  for (const offer of offers) {
    if (offer.name !== 'permessage-deflate') continue;
    const offered = new Map(offer.params);
    // §7.1.2.2: client_max_window_bits only when offered, and not above an offered value.
    const cmwb = wants.get('client_max_window_bits');
    const offeredCmwb = offered.get('client_max_window_bits');
    if (cmwb !== undefined && (offeredCmwb === undefined || (typeof offeredCmwb === 'string' && Number(offeredCmwb) < Number(cmwb)))) continue;
    // §7.1.2.1: a requested server_max_window_bits must be answered, not above it.
    const offeredSmwb = offered.get('server_max_window_bits');
    const params: ExtensionParam[] = [...response];
    if (typeof offeredSmwb === 'string' && !wants.has('server_max_window_bits')) params.push(['server_max_window_bits', offeredSmwb]);
    const smwb = new Map(params).get('server_max_window_bits');
    if (typeof offeredSmwb === 'string' && Number(smwb) > Number(offeredSmwb)) continue;
    // §7.1.1.1: an offered server_no_context_takeover must be accepted.
    if (offered.has('server_no_context_takeover') && !wants.has('server_no_context_takeover')) params.push(['server_no_context_takeover', true]);
    const final = new Map(params);
    const bits = (value: string | true | undefined): number | undefined => (typeof value === 'string' ? Number(value) : undefined);
    return {
      accepted: { name: 'permessage-deflate', params },
      terms: {
        client: {
          windowBits: bits(final.get('client_max_window_bits')) ?? bits(offeredCmwb) ?? 15,
          noContextTakeover: final.has('client_no_context_takeover') || offered.has('client_no_context_takeover'),
        },
        server: { windowBits: bits(final.get('server_max_window_bits')) ?? 15, noContextTakeover: final.has('server_no_context_takeover') },
      },
    };
  }
  return null;
}

/** zlib output buffers no larger than the window: any reference past the window then fails. */
function zlibOptions(windowBits: number): { windowBits: number; chunkSize: number } {
  // zlib's raw deflate cannot do 8 (Node makes it 9); inflating with 9 accepts what 8 makes.
  const bits = Math.max(9, windowBits);
  return { windowBits: bits, chunkSize: Math.max(64, 2 ** bits) };
}

/** One direction's zlib stream, flushed per message (context takeover). */
class ZlibStream {
  readonly #stream: DeflateRaw | InflateRaw;
  #chunks: Buffer[] = [];
  #error: Error | null = null;
  #failed: ((error: Error) => void) | null = null;

  constructor(stream: DeflateRaw | InflateRaw) {
    this.#stream = stream;
    stream.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    stream.on('error', (error) => {
      this.#error = error;
      this.#failed?.(error);
    });
  }

  /** Writes `data` and returns what a sync flush makes of it. */
  process(data: Uint8Array): Promise<Buffer> {
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#failed = reject;
      this.#stream.write(data);
      this.#stream.flush(constants.Z_SYNC_FLUSH, () => {
        this.#failed = null;
        if (this.#error !== null) return reject(this.#error);
        const out = Buffer.concat(this.#chunks);
        this.#chunks = [];
        resolve(out);
      });
    });
  }

  close(): void {
    this.#stream.close();
  }
}

/** A message as the agent sent it. */
export type Incoming =
  | { readonly kind: 'message'; readonly opcode: number; readonly payload: Uint8Array; readonly compressed: boolean; readonly wire: number }
  | { readonly kind: 'close'; readonly code: number }
  | { readonly kind: 'gone'; readonly detail: string };

/**
 * A compressed message channel over a {@link RawPeer}: the server's sends are deflated with
 * its terms, the agent's messages inflated with the agent's terms (RFC 7692 §7.2).
 */
export class DeflateChannel {
  readonly terms: DeflateTerms;
  readonly #peer: RawPeer;
  #deflater: ZlibStream | null = null;
  #inflater: ZlibStream | null = null;

  constructor(peer: RawPeer, terms: DeflateTerms) {
    this.#peer = peer;
    this.terms = terms;
  }

  get peer(): RawPeer {
    return this.#peer;
  }

  /** Compresses one message with the server's terms (§7.2.1): the payload of a frame with RSV1. */
  async compress(data: Uint8Array): Promise<Uint8Array> {
    const { windowBits, noContextTakeover } = this.terms.server;
    let out: Buffer;
    if (noContextTakeover) out = deflateRawSync(data, { ...zlibOptions(windowBits), finishFlush: constants.Z_SYNC_FLUSH });
    else out = await (this.#deflater ??= new ZlibStream(createDeflateRaw(zlibOptions(windowBits)))).process(data);
    const payload = out.subarray(0, out.length - 4); // §7.2.1: remove the trailing 00 00 ff ff
    return payload.length === 0 ? new Uint8Array([0x00]) : payload; // §7.2.3.6
  }

  /** Sends a compressed message, in `fragments` frames (RSV1 on the first only, §6.1), a Ping after the first when asked. */
  async send(opcode: number, data: Uint8Array, fragments = 1, pingAfterFirst?: Uint8Array): Promise<void> {
    const payload = await this.compress(data);
    const step = Math.max(1, Math.ceil(payload.length / fragments));
    for (let i = 0, at = 0; at < payload.length || i === 0; i++, at += step) {
      const last = at + step >= payload.length;
      const frame: Frame = { fin: last, rsv1: i === 0, rsv2: false, rsv3: false, opcode: i === 0 ? opcode : Opcode.Continuation, payload: payload.subarray(at, at + step) };
      this.#peer.send(frame);
      if (i === 0 && pingAfterFirst !== undefined) this.#peer.send(makeFrame(Opcode.Ping, pingAfterFirst));
    }
  }

  /** Inflates one message of the agent with the agent's terms (§7.2.2). */
  async #inflate(payload: Uint8Array): Promise<Uint8Array> {
    const { windowBits, noContextTakeover } = this.terms.client;
    const input = Buffer.concat([payload, TAIL]);
    if (noContextTakeover) {
      // A fresh decoder: a reference into an earlier message fails.
      return inflateRawSync(input, { ...zlibOptions(windowBits), finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_MESSAGE });
    }
    const out = await (this.#inflater ??= new ZlibStream(createInflateRaw(zlibOptions(windowBits)))).process(input);
    if (out.length > MAX_MESSAGE) throw new RangeError(`over ${MAX_MESSAGE} octets`);
    return out;
  }

  /** The agent's next message (reassembled, inflated), answering Pings; or its Close, or what ended it. */
  async receive(deadline: number): Promise<Incoming> {
    let opcode = -1;
    let compressed = false;
    const pieces: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const event = await this.#peer.next(deadline);
      if (event.type === 'timeout') return { kind: 'gone', detail: 'nothing before the deadline' };
      if (event.type === 'end') return { kind: 'gone', detail: 'the connection ended without a Close' };
      if (event.type === 'protocol-error') return { kind: 'gone', detail: `a framing error (${event.error.message})` };
      const { frame } = event;
      if (frame.rsv2 || frame.rsv3) return { kind: 'gone', detail: 'a frame with RSV2 or RSV3 set' };
      if (frame.opcode === Opcode.Ping) {
        this.#peer.send(makeFrame(Opcode.Pong, frame.payload));
        continue;
      }
      if (frame.opcode === Opcode.Pong) continue;
      if (frame.rsv1 && (frame.opcode >= 0x8 || frame.opcode === Opcode.Continuation)) {
        return { kind: 'gone', detail: 'RSV1 on a control or continuation frame (RFC 7692 §6.1)' };
      }
      if (frame.opcode === Opcode.Close) {
        try {
          return { kind: 'close', code: parseClosePayload(frame.payload).code };
        } catch (error) {
          return { kind: 'gone', detail: `an invalid Close (${error instanceof Error ? error.message : String(error)})` };
        }
      }
      if (frame.opcode === Opcode.Continuation) {
        if (opcode === -1) return { kind: 'gone', detail: 'a continuation frame outside a message' };
      } else {
        if (opcode !== -1) return { kind: 'gone', detail: 'a new message inside a fragmented one' };
        opcode = frame.opcode;
        compressed = frame.rsv1;
      }
      size += frame.payload.length;
      if (size > MAX_MESSAGE) return { kind: 'gone', detail: `a message over ${MAX_MESSAGE} octets` };
      pieces.push(frame.payload);
      if (!frame.fin) continue;
      const joined = Buffer.concat(pieces);
      if (!compressed) return { kind: 'message', opcode, payload: joined, compressed, wire: joined.length };
      try {
        return { kind: 'message', opcode, payload: await this.#inflate(joined), compressed, wire: joined.length };
      } catch (error) {
        return { kind: 'gone', detail: `a message that does not inflate with ${JSON.stringify(this.terms.client)} (${error instanceof Error ? error.message : String(error)})` };
      }
    }
  }

  /** Starts the closing handshake with 1000 and judges the reply. */
  async closeNormally(deadline: number, sofar: string): Promise<Verdict> {
    this.#peer.sendClose(CloseCode.Normal);
    for (;;) {
      const reply = await this.receive(deadline);
      if (reply.kind === 'message') continue; // data still in flight (RFC 6455 §5.5.1)
      if (reply.kind === 'close' && reply.code === CloseCode.Normal) return { passed: true, detail: `${sofar}; answered our Close with 1000` };
      return { passed: false, detail: `${sofar}, but answered our Close 1000 with ${reply.kind === 'close' ? `a Close ${reply.code}` : reply.detail}` };
    }
  }

  dispose(): void {
    this.#deflater?.close();
    this.#inflater?.close();
  }
}

/** JSON-ish ASCII of exactly `size` bytes, deterministic per seed. */
function jsonBytes(size: number, seed: number): Uint8Array {
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>>= 0);
  };
  const names = ['ada', 'brian', 'chen', 'dora', 'emil', 'fatima'];
  let out = '[';
  for (let id = 1; out.length < size; id++) {
    const name = names[next() % names.length];
    out += `${id > 1 ? ',' : ''}{"id":${id},"user":"${name}-${next() % 1000}","email":"${name}@example.com","active":${next() % 2 === 0},"score":${next() % 10000}}`;
  }
  return encodeUtf8(out.slice(0, size));
}

/** Random octets (incompressible), or a random 8191-octet block repeated (found only by 2^14+ windows). */
function randomBytes(size: number, seed: number, block = size): Uint8Array {
  let state = (seed * 2246822519) >>> 0 || 1;
  const base = new Uint8Array(Math.min(size, block));
  for (let i = 0; i < base.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    base[i] = state >>> 24;
  }
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += base.length || 1) out.set(base.subarray(0, Math.min(base.length, size - at)), at);
  return out;
}

interface Outgoing {
  opcode: number;
  data: Uint8Array;
}

const KiB = 1024;
const describeMessage = (m: Outgoing): string => `${m.opcode === Opcode.Text ? 'text' : 'binary'} message of ${m.data.length} octets`;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Sends the messages (all first when `burst`, else each after the previous echo), expects
 * each echoed with its type, then closes normally. The detail tells how much of the agent's
 * echo came compressed.
 */
async function echoAll(channel: DeflateChannel, deadline: number, messages: readonly Outgoing[], burst: boolean): Promise<Verdict> {
  let wire = 0;
  let plain = 0;
  let compressed = 0;
  const check = async (message: Outgoing, index: number): Promise<Verdict | null> => {
    const got = await channel.receive(deadline);
    if (got.kind !== 'message') {
      return { passed: false, detail: `message ${index + 1}/${messages.length} (${describeMessage(message)}): expected its echo, got ${got.kind === 'close' ? `a Close ${got.code}` : got.detail}` };
    }
    if (got.opcode !== message.opcode || !sameBytes(got.payload, message.data)) {
      return { passed: false, detail: `message ${index + 1}/${messages.length} (${describeMessage(message)}) came back as a ${got.opcode === Opcode.Text ? 'text' : 'binary'} message of ${got.payload.length} octets, different` };
    }
    wire += got.wire;
    plain += got.payload.length;
    if (got.compressed) compressed++;
    return null;
  };
  if (burst) {
    for (const message of messages) await channel.send(message.opcode, message.data);
    for (const [i, message] of messages.entries()) {
      const failed = await check(message, i);
      if (failed !== null) return failed;
    }
  } else {
    for (const [i, message] of messages.entries()) {
      await channel.send(message.opcode, message.data);
      const failed = await check(message, i);
      if (failed !== null) return failed;
    }
  }
  const ratio = plain === 0 ? '-' : (wire / plain).toFixed(3);
  return channel.closeNormally(deadline, `echoed ${messages.length} messages (${compressed} compressed by the agent, wire/plain ${ratio}) under ${JSON.stringify(channel.terms)}`);
}

function deflateCase(id: string, description: string, response: ExtensionParam[], messages: () => Outgoing[], burst = false): DeflateFuzzingCase {
  return {
    id,
    description,
    response,
    run: () => Promise.resolve({ passed: false, detail: 'a compression case needs a permessage-deflate connection' }),
    runDeflate: (channel, deadline) => echoAll(channel, deadline, messages(), burst),
  };
}

const text = (data: Uint8Array): Outgoing => ({ opcode: Opcode.Text, data });
const binary = (data: Uint8Array): Outgoing => ({ opcode: Opcode.Binary, data });
const windowSet = (messagesSeed: number): Outgoing[] => [
  ...Array.from({ length: 20 }, (_, i) => text(jsonBytes(4 * KiB, messagesSeed + i))),
  binary(randomBytes(64 * KiB, messagesSeed, 8191)),
  text(jsonBytes(256 * KiB, messagesSeed)),
];

/** The compression cases, after the plain ones: Autobahn's 12.x (sizes, counts) and 13.x (parameters) in small. */
export const DEFLATE_FUZZING_CASES: readonly DeflateFuzzingCase[] = [
  deflateCase('deflate-text-sizes', 'permessage-deflate: text messages of 16 B to 1 MiB, one at a time', [], () =>
    [16, 125, KiB, 4 * KiB, 64 * KiB, 1024 * KiB].map((size, i) => text(jsonBytes(size, i + 1))),
  ),
  deflateCase('deflate-binary-sizes', 'permessage-deflate: binary messages of 0 B to 1 MiB, compressible and random', [], () =>
    [0, 1, KiB, 64 * KiB, 1024 * KiB].flatMap((size, i) => [binary(jsonBytes(size, i + 10)), binary(randomBytes(size, i + 10))]),
  ),
  deflateCase('deflate-100-in-a-row', 'permessage-deflate: 100 similar 2 KiB texts sent back to back (context takeover)', [], () => Array.from({ length: 100 }, () => text(jsonBytes(2 * KiB, 7))), true),
  ...[9, 10, 11, 12, 13, 14, 15].map((bits) =>
    deflateCase(
      `deflate-window-bits-${bits}`,
      `permessage-deflate; client_max_window_bits=${bits}; server_max_window_bits=${bits}: 22 messages, the agent's within 2^${bits} octets`,
      [
        ['client_max_window_bits', String(bits)],
        ['server_max_window_bits', String(bits)],
      ],
      () => windowSet(bits * 100),
      true,
    ),
  ),
  deflateCase('deflate-server-no-context-takeover', 'permessage-deflate; server_no_context_takeover: 20 similar texts', [['server_no_context_takeover', true]], () => Array.from({ length: 20 }, () => text(jsonBytes(2 * KiB, 8))), true),
  deflateCase(
    'deflate-client-no-context-takeover',
    "permessage-deflate; client_no_context_takeover: 20 similar texts, each of the agent's inflated alone",
    [['client_no_context_takeover', true]],
    () => Array.from({ length: 20 }, () => text(jsonBytes(2 * KiB, 9))),
    true,
  ),
  deflateCase(
    'deflate-no-context-takeover-window-9',
    'permessage-deflate with both no_context_takeover and both max_window_bits=9',
    [
      ['server_no_context_takeover', true],
      ['client_no_context_takeover', true],
      ['server_max_window_bits', '9'],
      ['client_max_window_bits', '9'],
    ],
    () => windowSet(900),
    true,
  ),
  {
    id: 'deflate-fragmented-with-ping',
    description: 'permessage-deflate: a compressed 64 KiB text in 4 frames (RSV1 on the first) with a Ping after the first',
    response: [],
    run: () => Promise.resolve({ passed: false, detail: 'a compression case needs a permessage-deflate connection' }),
    runDeflate: async (channel, deadline) => {
      const data = jsonBytes(64 * KiB, 11);
      const ping = encodeUtf8('ping-deflate');
      await channel.send(Opcode.Text, data, 4, ping);
      const got = await channel.receive(deadline);
      if (got.kind !== 'message' || got.opcode !== Opcode.Text || !sameBytes(got.payload, data)) {
        return { passed: false, detail: `expected the 64 KiB text echoed, got ${got.kind === 'message' ? `${got.payload.length} octets` : got.kind === 'close' ? `a Close ${got.code}` : got.detail}` };
      }
      if (!channel.peer.pongs.some((p) => sameBytes(p, ping))) return { passed: false, detail: 'no Pong for the Ping between the fragments' };
      return channel.closeNormally(deadline, 'reassembled and inflated the fragmented message, answered the Ping');
    },
  },
  {
    id: 'deflate-invalid-data',
    description: 'permessage-deflate: a text with RSV1 whose payload is not DEFLATE (block type 3); expects a Close 1007',
    response: [],
    run: () => Promise.resolve({ passed: false, detail: 'a compression case needs a permessage-deflate connection' }),
    runDeflate: async (channel, deadline) => {
      // ff: BFINAL 1, BTYPE 11, a reserved block type (RFC 1951 §3.2.3).
      channel.peer.send({ fin: true, rsv1: true, rsv2: false, rsv3: false, opcode: Opcode.Text, payload: new Uint8Array([0xff, 0xff, 0xff]) });
      const got = await channel.receive(deadline);
      if (got.kind === 'close' && got.code === CloseCode.InvalidPayload) {
        channel.peer.sendClose(CloseCode.InvalidPayload);
        return { passed: true, detail: 'failed the connection with 1007' };
      }
      return { passed: false, detail: `expected a Close 1007, got ${got.kind === 'close' ? `a Close ${got.code}` : got.kind === 'message' ? 'a message' : got.detail}` };
    },
  },
];
