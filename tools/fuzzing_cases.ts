/**
 * The cases of our own fuzzing server: each writes frames to the agent (the client under
 * test) with a {@link RawPeer} and judges what comes back. An agent passes a case when it
 * echoes every message with its type, answers Pings, fails invalid text with 1007, and
 * completes the closing handshake (RFC 6455 §5.4, §5.5, §7.4.1, §8.1).
 *
 * This is a smoke test of a client driver, not a conformance suite: Autobahn|Testsuite is
 * the reference (see tools/README.md).
 * @module
 */
import { CloseCode, Opcode, encodeUtf8, makeFrame, parseClosePayload, type Frame } from '@wsflow/codec';
import type { RawPeer } from './raw_peer.ts';

/** How an agent did in one case. */
export interface Verdict {
  passed: boolean;
  /** One line on what happened. */
  detail: string;
}

/** One case: what it sends and how it judges the answer. */
export interface FuzzingCase {
  /** A short stable name, e.g. `text-echo`. */
  readonly id: string;
  readonly description: string;
  /** Runs the case on a fresh connection; every wait ends by `deadline` (a `Date.now()` time). */
  run(peer: RawPeer, deadline: number): Promise<Verdict>;
}

/** The largest echoed message a case accepts (cases send at most 1 MiB). */
const MAX_ECHO = 4 * 1024 * 1024;

/** What the agent sent next, at the message level. */
type Received =
  | { readonly kind: 'message'; readonly opcode: number; readonly payload: Uint8Array }
  | { readonly kind: 'close'; readonly code: number; readonly reason: string }
  | { readonly kind: 'gone'; readonly detail: string };

const pass = (detail: string): Verdict => ({ passed: true, detail });
const fail = (detail: string): Verdict => ({ passed: false, detail });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function preview(payload: Uint8Array, opcode: number): string {
  if (opcode === Opcode.Text && payload.length <= 40) return JSON.stringify(new TextDecoder().decode(payload));
  return `${payload.length} octets`;
}

function describe(received: Received): string {
  switch (received.kind) {
    case 'message':
      return `a ${received.opcode === Opcode.Text ? 'text' : 'binary'} message of ${preview(received.payload, received.opcode)}`;
    case 'close':
      return `a Close ${received.code}${received.reason === '' ? '' : ` ${JSON.stringify(received.reason)}`}`;
    case 'gone':
      return received.detail;
  }
}

function closeOf(frame: Frame): Received {
  try {
    const { code, reason } = parseClosePayload(frame.payload);
    return { kind: 'close', code, reason };
  } catch (error) {
    return { kind: 'gone', detail: `an invalid Close frame (${error instanceof Error ? error.message : String(error)})` };
  }
}

/**
 * Reads the agent's next message, reassembling fragments (RFC 6455 §5.4), answering its
 * Pings and skipping its Pongs (the peer records them).
 */
async function receive(peer: RawPeer, deadline: number): Promise<Received> {
  let opcode = -1;
  const pieces: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const event = await peer.next(deadline);
    if (event.type === 'timeout') return { kind: 'gone', detail: 'nothing before the deadline' };
    if (event.type === 'end') return { kind: 'gone', detail: 'the connection ended without a Close' };
    if (event.type === 'protocol-error') return { kind: 'gone', detail: `a framing error (${event.error.message})` };
    const { frame } = event;
    if (frame.rsv1 || frame.rsv2 || frame.rsv3) return { kind: 'gone', detail: 'a frame with reserved bits set' };
    switch (frame.opcode) {
      case Opcode.Ping:
        peer.send(makeFrame(Opcode.Pong, frame.payload));
        continue;
      case Opcode.Pong:
        continue;
      case Opcode.Close:
        return closeOf(frame);
      case Opcode.Continuation:
        if (opcode === -1) return { kind: 'gone', detail: 'a continuation frame outside a message' };
        break;
      default:
        if (opcode !== -1) return { kind: 'gone', detail: 'a new message inside a fragmented one' };
        opcode = frame.opcode;
    }
    size += frame.payload.length;
    if (size > MAX_ECHO) return { kind: 'gone', detail: `a message over ${MAX_ECHO} octets` };
    pieces.push(frame.payload);
    if (frame.fin) {
      const payload = new Uint8Array(size);
      let at = 0;
      for (const piece of pieces) {
        payload.set(piece, at);
        at += piece.length;
      }
      return { kind: 'message', opcode, payload };
    }
  }
}

/** Reads until the agent's Close, ignoring data still in flight after ours (RFC 6455 §5.5.1). */
async function awaitClose(peer: RawPeer, deadline: number): Promise<Received> {
  for (;;) {
    const received = await receive(peer, deadline);
    if (received.kind !== 'message') return received;
  }
}

/** Starts the closing handshake with 1000 and judges the agent's reply. */
async function closeNormally(peer: RawPeer, deadline: number, sofar: string): Promise<Verdict> {
  peer.sendClose(CloseCode.Normal);
  const reply = await awaitClose(peer, deadline);
  if (reply.kind === 'close' && reply.code === CloseCode.Normal) return pass(`${sofar}; answered our Close with 1000`);
  return fail(`${sofar}, but answered our Close 1000 with ${describe(reply)}`);
}

/** Expects the next message to be `payload` with `opcode`, then closes normally. */
async function expectEcho(peer: RawPeer, deadline: number, opcode: number, payload: Uint8Array): Promise<Verdict> {
  const what = `${opcode === Opcode.Text ? 'text' : 'binary'} message of ${preview(payload, opcode)}`;
  const got = await receive(peer, deadline);
  if (got.kind !== 'message' || got.opcode !== opcode || !sameBytes(got.payload, payload)) {
    return fail(`expected the ${what} echoed, got ${describe(got)}`);
  }
  return closeNormally(peer, deadline, `echoed the ${what}`);
}

/** Bytes of a recognisable pattern, so that a misplaced chunk shows. */
function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + (i >>> 8)) & 0xff;
  return bytes;
}

const fragment = (opcode: number, payload: Uint8Array, fin: boolean): Frame => makeFrame(opcode, payload, fin);

/** The cases, in order: case N of `/runCase?case=N` is `FUZZING_CASES[N - 1]`. */
export const FUZZING_CASES: readonly FuzzingCase[] = [
  {
    id: 'text-echo',
    description: 'sends the text "Hello" and expects it echoed as text',
    run: (peer, deadline) => {
      const payload = encodeUtf8('Hello');
      peer.send(makeFrame(Opcode.Text, payload));
      return expectEcho(peer, deadline, Opcode.Text, payload);
    },
  },
  {
    id: 'binary-1mib',
    description: 'sends a 1 MiB binary message in one frame and expects it echoed as binary',
    run: (peer, deadline) => {
      const payload = pattern(1024 * 1024);
      peer.send(makeFrame(Opcode.Binary, payload));
      return expectEcho(peer, deadline, Opcode.Binary, payload);
    },
  },
  {
    id: 'fragmented-text-with-ping',
    description: 'sends a text in 3 fragments with a Ping after the first; expects the Pong and the whole text echoed',
    run: async (peer, deadline) => {
      const ping = encodeUtf8('ping-3');
      peer.send(fragment(Opcode.Text, encodeUtf8('Hel'), false));
      peer.send(makeFrame(Opcode.Ping, ping)); // RFC 6455 §5.4: control frames may come between fragments
      peer.send(fragment(Opcode.Continuation, encodeUtf8('lo, '), false));
      peer.send(fragment(Opcode.Continuation, encodeUtf8('world!'), true));
      const verdict = await expectEcho(peer, deadline, Opcode.Text, encodeUtf8('Hello, world!'));
      if (!peer.pongs.some((payload) => sameBytes(payload, ping))) {
        return fail(`no Pong with the Ping's payload "ping-3" (RFC 6455 §5.5.3); ${verdict.detail}`);
      }
      return verdict.passed ? pass(`answered the Ping between fragments; ${verdict.detail}`) : verdict;
    },
  },
  {
    id: 'utf8-split-in-code-points',
    description: 'sends a text whose fragments split 2- and 4-byte UTF-8 sequences; expects it echoed whole',
    run: (peer, deadline) => {
      const payload = encodeUtf8('κόσμε 𝄞 €');
      const inFourByte = payload.indexOf(0xf0) + 2;
      peer.send(fragment(Opcode.Text, payload.subarray(0, 1), false)); // half of "κ"
      peer.send(fragment(Opcode.Continuation, payload.subarray(1, inFourByte), false)); // ends inside "𝄞"
      peer.send(fragment(Opcode.Continuation, payload.subarray(inFourByte), true));
      return expectEcho(peer, deadline, Opcode.Text, payload);
    },
  },
  {
    id: 'dropped-connection',
    description: 'echoes one text, then drops the TCP connection without a Close; the agent must go on to the next case',
    run: async (peer, deadline) => {
      const payload = encodeUtf8('dropped after this');
      peer.send(makeFrame(Opcode.Text, payload));
      const got = await receive(peer, deadline);
      peer.destroy();
      if (got.kind !== 'message' || got.opcode !== Opcode.Text || !sameBytes(got.payload, payload)) {
        return fail(`expected the text echoed, got ${describe(got)}`);
      }
      return pass('echoed the text; the connection was then dropped on purpose');
    },
  },
  {
    id: 'invalid-utf8',
    description: 'sends a text message holding an encoded surrogate (invalid UTF-8); expects a Close 1007 and no echo',
    run: async (peer, deadline) => {
      // "Hi", then ED A0 80 (U+D800, a surrogate: not UTF-8, RFC 3629 §3), then "!".
      peer.send(makeFrame(Opcode.Text, new Uint8Array([0x48, 0x69, 0xed, 0xa0, 0x80, 0x21])));
      const got = await receive(peer, deadline);
      if (got.kind !== 'close' || got.code !== CloseCode.InvalidPayload) {
        return fail(`expected a Close 1007 (RFC 6455 §8.1), got ${describe(got)}`);
      }
      peer.sendClose(CloseCode.InvalidPayload);
      return pass('failed the connection with 1007');
    },
  },
  {
    id: 'close-1000',
    description: 'sends a Close 1000 with a reason; expects a Close 1000 in reply',
    run: async (peer, deadline) => {
      peer.sendClose(CloseCode.Normal, 'bye');
      const got = await awaitClose(peer, deadline);
      if (got.kind === 'close' && got.code === CloseCode.Normal) return pass('answered the Close with 1000');
      return fail(`expected a Close 1000 in reply, got ${describe(got)}`);
    },
  },
];
