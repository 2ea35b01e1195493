/**
 * Drives a `WebSocketProtocol` (frame parser, message assembler, UTF-8, close payload and,
 * when negotiated, permessage-deflate) with fuzzed bytes, in one role, and checks:
 *  - `receiveData` never throws (a protocol violation must fail the connection, not throw);
 *  - a failure carries a documented close code (1002, 1007, 1009; never 1011 "internal");
 *  - nothing is reported after the connection failed or the peer's Close arrived;
 *  - messages stay within `maxMessage`;
 *  - the same bytes cut into different chunks give the same events and the same output;
 *  - every byte the protocol writes back parses, for the peer's role, as valid frames;
 *  - without permessage-deflate, `ws`'s receiver (`ws/lib/receiver.js`) given the same bytes
 *    and the same limits delivers the same messages and the same verdict: the same Close, or
 *    a failure with the same close code, or neither. Two differences are by design: we
 *    validate text as each fragment arrives (RFC 6455 §8.1 fail fast) where `ws` waits for the
 *    whole message, so we may fail with 1007 on a message that never completed; and `ws`
 *    does not enforce every MUST of RFC 6455 (`NOT_CHECKED_BY_WS` below).
 * @module
 */
import { CloseCode, type Role } from '../../packages/codec/src/constants.ts';
import { ProtocolError } from '../../packages/codec/src/errors.ts';
import { FrameParser } from '../../packages/codec/src/frame_parser.ts';
import type { MaskKeySource } from '../../packages/codec/src/mask.ts';
import { PerMessageDeflate } from '../../packages/codec/src/per_message_deflate.ts';
import { WebSocketProtocol } from '../../packages/codec/src/protocol.ts';
import { zlibEngine } from '../../packages/deflate-zlib/src/zlib_engine.ts';
import { chunkSizes, cut, FuzzInput } from './input.ts';
import { check, hex, sameData } from './oracle.ts';
import { WsReceiver, wsStatusCode } from './ws.ts';

/** Small limits, so that fuzz inputs reach them. */
export const LIMITS = { maxPayload: 1024, maxMessage: 2048, maxFragments: 16 } as const;

type Event = readonly (string | number)[];

/** The same keys every run, so that two runs write the same bytes. */
function fixedKeys(): MaskKeySource {
  let key = 0x12345678;
  return { next: () => (key = (Math.imul(key, 1103515245) + 12345) >>> 0) };
}

function feed(role: Role, flags: number, chunks: readonly Uint8Array[]): { events: Event[]; written: Uint8Array[] } {
  const events: Event[] = [];
  const written: Uint8Array[] = [];
  let ended = false;
  const note = (event: Event): void => {
    check(!ended, `${role}: ${event[0]} reported after the connection ended`);
    events.push(event);
  };
  const deflate = (flags & 1) !== 0
    ? new PerMessageDeflate(role, {
        serverNoContextTakeover: (flags & 4) !== 0,
        clientNoContextTakeover: (flags & 4) !== 0,
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 15,
      }, zlibEngine, { threshold: 0 })
    : undefined;
  const protocol: WebSocketProtocol = new WebSocketProtocol(
    { role, ...LIMITS, maskKeys: fixedKeys(), mutableInput: (flags & 2) !== 0, perMessageDeflate: deflate },
    {
      write: (bytes) => written.push(bytes.slice()),
      onText: (text) => {
        check(text.length <= LIMITS.maxMessage, `${role}: text message of ${text.length} UTF-16 units over maxMessage`);
        note(['text', text]);
      },
      onBinary: (data) => {
        check(data.length <= LIMITS.maxMessage, `${role}: binary message of ${data.length} octets over maxMessage`);
        note(['binary', hex(data)]);
      },
      onPing: (payload) => note(['ping', hex(payload)]),
      onPong: (payload) => note(['pong', hex(payload)]),
      onClose: (code, reason) => {
        note(['close', code, reason]);
        ended = true;
      },
      onError: (error) => {
        check(error instanceof ProtocolError, `${role}: onError got ${String(error)}`);
        check(error.code !== 'INTERNAL_ERROR' && error.closeCode !== CloseCode.InternalError, `${role}: internal error: ${error.message}`);
        note(['error', error.code, error.closeCode]);
        ended = true;
      },
    },
  );
  // receiveData must not throw: any exception escapes to the fuzzer as a finding.
  for (const chunk of chunks) protocol.receiveData(chunk);
  protocol.receiveEof();
  return { events, written };
}

/** Checks that what a protocol in `role` wrote is a sequence of valid frames for its peer. */
function checkWritten(role: Role, written: readonly Uint8Array[]): void {
  const peer: Role = role === 'server' ? 'client' : 'server';
  const parser = new FrameParser(
    { role: peer, maxPayload: Infinity, allowedRsv: 0x40 },
    { frameHeader: () => true, framePartial: () => {}, frame: () => {} },
  );
  for (const bytes of written) {
    try {
      parser.push(bytes);
    } catch (error) {
      check(false, `${role} wrote bytes its peer rejects: ${(error as Error).message}`);
    }
  }
}

/**
 * One fuzz input: octet 0 picks options (bit 0 permessage-deflate, bit 1 `mutableInput`,
 * bit 2 no context takeover), octet 1 how the rest is cut into chunks; the rest is fed.
 */
export function fuzzProtocol(role: Role, data: Uint8Array): void {
  const input = new FuzzInput(data);
  const flags = input.byte();
  const seed = input.byte();
  const bytes = input.rest();
  const whole = feed(role, flags, [bytes.slice()]);
  const split = feed(role, flags, cut(bytes, chunkSizes(seed, bytes.length)));
  check(
    sameData(whole.events, split.events),
    `${role}: events differ when the input is cut into chunks (seed ${seed}):\n  whole: ${brief(whole.events)}\n  split: ${brief(split.events)}`,
  );
  check(hex(concatAll(whole.written)) === hex(concatAll(split.written)), `${role}: written bytes differ when the input is cut into chunks`);
  checkWritten(role, whole.written);
  if ((flags & 1) === 0) compareWithWs(role, bytes);
}

/** The limits both sides get for the comparison with `ws`, whose `maxPayload` bounds a message. */
const WS_LIMITS = { maxPayload: 2048, maxMessage: 2048, maxFragments: 16 } as const;

type Verdict = { messages: string[]; end: string };

function oursVerdict(role: Role, bytes: Uint8Array): Verdict {
  const messages: string[] = [];
  let end = 'none';
  const protocol = new WebSocketProtocol(
    { role, ...WS_LIMITS, maskKeys: fixedKeys() },
    {
      write: () => {},
      onText: (text) => messages.push(`text ${hex(new TextEncoder().encode(text))}`),
      onBinary: (data) => messages.push(`binary ${hex(data)}`),
      onClose: (code, reason) => (end = `close ${code} ${hex(new TextEncoder().encode(reason))}`),
      onError: (error) => (end = `error ${error.closeCode} ${error.code}`),
    },
  );
  protocol.receiveData(bytes.slice());
  return { messages, end };
}

function wsVerdict(role: Role, bytes: Uint8Array): Verdict {
  const messages: string[] = [];
  let end = 'none';
  const receiver = new WsReceiver({ isServer: role === 'server', maxPayload: WS_LIMITS.maxPayload, maxFragments: WS_LIMITS.maxFragments });
  receiver.on('message', (data, isBinary) => messages.push(`${isBinary ? 'binary' : 'text'} ${hex(data)}`));
  receiver.on('conclude', (code, reason) => (end = `close ${code} ${hex(reason)}`));
  receiver._write(Buffer.from(bytes), 'buffer', (error) => {
    if (error) end = `error ${String((error as unknown as Record<symbol, number>)[wsStatusCode])} ${(error as { code?: string }).code}`;
  });
  return { messages, end };
}

/**
 * Rules of RFC 6455 we enforce and `ws` does not: after such a failure `ws` reads on, so it
 * only has to agree on the messages before it.
 *  - NON_MINIMAL_LENGTH: §5.2 "the minimal number of bytes MUST be used to encode the length".
 */
const NOT_CHECKED_BY_WS = new Set(['NON_MINIMAL_LENGTH']);

/**
 * Failures both report, with a different close code by design (ours reason: `ws`'s error code).
 *  - A 64-bit length with its top bit set: §5.2 says that bit MUST be 0, a protocol error
 *    (1002); `ws` reports any length over 2^53 - 1 as too big (1009).
 */
const OTHER_CODE_IN_WS: Readonly<Record<string, string>> = { LENGTH_TOO_LARGE: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH' };

/** Our failures for a limit (1009). */
const OUR_LIMITS = new Set(['PAYLOAD_TOO_LARGE', 'MESSAGE_TOO_LARGE', 'TOO_MANY_FRAGMENTS']);

/** `ws`'s errors for a length over its limit, which it reports before the frame's mask key. */
const LENGTH_ERRORS_IN_WS = new Set(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH']);

function compareWithWs(role: Role, bytes: Uint8Array): void {
  const ours = oursVerdict(role, bytes);
  const theirs = wsVerdict(role, bytes);
  const what = `${role} vs ws: ours ${JSON.stringify(ours).slice(0, 300)}, ws ${JSON.stringify(theirs).slice(0, 300)}`;
  const [oursKind, oursCode, oursReason] = ours.end.split(' ');
  if (oursKind === 'error' && NOT_CHECKED_BY_WS.has(oursReason)) {
    check(sameData(ours.messages, theirs.messages.slice(0, ours.messages.length)), `${what}: different messages`);
    return;
  }
  check(sameData(ours.messages, theirs.messages), `${what}: different messages`);
  if (ours.end === theirs.end) return;
  const [theirKind, theirCode, theirReason] = theirs.end.split(' ');
  // Fail fast: we failed a text message on a fragment before it completed; ws, waiting for
  // the whole message, read on and saw what came after (its end, a Close, or another error).
  if (ours.end === 'error 1007 INVALID_UTF8') return;
  if (oursKind === 'error' && theirKind === 'error') {
    // A frame over a limit that also breaks a protocol rule: which of the two is checked
    // first is each implementation's choice (we check sizes as soon as the header is read).
    const limitFirst = OUR_LIMITS.has(oursReason) || LENGTH_ERRORS_IN_WS.has(theirReason);
    check(oursCode === theirCode || OTHER_CODE_IN_WS[oursReason] === theirReason || limitFirst, `${what}: different close codes`);
    return;
  }
  // ws judges a frame by its first two octets (and its length) as they arrive, we once the
  // header is whole. Given the rest of the header, we must fail too: the same way for a
  // length (only the 4 key octets can be missing then), else at least fail (zeros complete
  // the header; they may break a rule of their own, as a non-minimal length).
  if (ours.end === 'none' && theirKind === 'error') {
    const length = LENGTH_ERRORS_IN_WS.has(theirReason);
    const completed = oursVerdict(role, concatAll([bytes, new Uint8Array(length ? 4 : 12)]));
    const [kind, code, reason] = completed.end.split(' ');
    const same = !length || code === theirCode || OTHER_CODE_IN_WS[reason] === theirReason || NOT_CHECKED_BY_WS.has(reason);
    check(kind === 'error' && same, `${what}: with its header completed, ours ${completed.end}`);
    return;
  }
  // We judge the limits from a frame's header, ws some of them (fragments) once the frame's
  // payload is in: given the rest of that frame (at most maxPayload octets), ws must fail on a
  // limit too (1009, or 1008 for too many fragments).
  if (oursKind === 'error' && OUR_LIMITS.has(oursReason) && theirs.end === 'none') {
    const completed = wsVerdict(role, concatAll([bytes, new Uint8Array(WS_LIMITS.maxPayload + 14)]));
    check(/^error 100[89] /.test(completed.end), `${what}: with the frame completed, ws ${completed.end}`);
    return;
  }
  check(false, `${what}: different verdicts`);
}

function brief(events: readonly Event[]): string {
  const text = JSON.stringify(events);
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

function concatAll(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
