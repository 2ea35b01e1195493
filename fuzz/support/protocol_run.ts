/**
 * Drives a `WebSocketProtocol` (frame parser, message assembler, UTF-8, close payload and,
 * when negotiated, permessage-deflate) with fuzzed bytes, in one role, and checks:
 *  - `receiveData` never throws (a protocol violation must fail the connection, not throw);
 *  - a failure carries a documented close code (1002, 1007, 1009; never 1011 "internal");
 *  - nothing is reported after the connection failed or the peer's Close arrived;
 *  - messages stay within `maxMessage`;
 *  - the same bytes cut into different chunks give the same events and the same output;
 *  - every byte the protocol writes back parses, for the peer's role, as valid frames.
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

function brief(events: readonly Event[]): string {
  const text = JSON.stringify(events);
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

