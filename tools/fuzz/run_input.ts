/**
 * Sends one fuzz input over a fresh TCP connection and classifies what the server did,
 * within a hard per-input deadline. What a conforming server may do with a bad input is
 * open (refuse it with an HTTP status, fail the connection with a Close code, drop it, or
 * wait for more bytes), so those are outcomes, counted; what it may not do is a problem:
 * answer with something that is not HTTP, send masked or malformed frames, send data after
 * its Close, send a Close code that may not go on the wire, or — for a valid input — not
 * echo exactly what was sent.
 * @module
 */
import { connect } from 'node:net';
import { constants, inflateRawSync } from 'node:zlib';
import { acceptOf, closeCodeOf, parseResponseHead, ServerFrameReader, type ResponseHead } from '../soak/wire.ts';
import { Op, RSV1 } from './generate.ts';
import type { FuzzInput } from './mutate.ts';

/** What happened to one input. */
export interface Outcome {
  /**
   * `http-<status>`, `closed-<code>` (a Close frame came), `dropped-after-101` (TCP closed
   * without a Close), `dropped-before-response`, `reset-after-101`, `reset-before-response`,
   * `timeout-after-101` / `timeout-before-response` (still open at the deadline: we dropped
   * it), or `partial-response`.
   */
  kind: string;
  /** Data messages the server sent (echoes). */
  echoes: number;
  pongs: number;
  ms: number;
  /** We half-closed (sent FIN) after our writes, the server not having closed by then. */
  finSent: boolean;
  /** A violation by the server, or a valid input not answered as it must be. */
  problem?: string;
  /** A valid input that hit the deadline before its answers were all in (slow, not wrong). */
  validTimeout?: boolean;
}

/** Options of {@link runInput}. */
export interface RunOptions {
  /** Milliseconds from connecting to the hard end. */
  timeoutMs: number;
  /** Milliseconds after the last write before we half-close, if the server has not closed. */
  quietMs: number;
  localAddress?: string;
}

/** Close codes that may be sent in a Close frame (RFC 6455 §7.4.1, §7.4.2; IANA registry). */
function sendableCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one input; never rejects, always settles within `timeoutMs` (plus a tick). */
export function runInput(port: number, input: FuzzInput, options: RunOptions): Promise<Outcome> {
  const started = performance.now();
  const expected = input.expected;
  return new Promise<Outcome>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    socket.setNoDelay(true);
    let head: ResponseHead | null = null;
    let received: Buffer = Buffer.alloc(0);
    const reader = new ServerFrameReader();
    let closeCode: number | null = null;
    let echoes = 0;
    let pongs = 0;
    /** How far into the expected Pongs the answers have come (Pongs may be coalesced). */
    let pongAt = 0;
    let parts: Uint8Array[] = [];
    let partsOpcode = -1;
    let partsCompressed = false;
    /** permessage-deflate was agreed in the 101. */
    let deflate = false;
    let problem: string | undefined;
    let finSent = false;
    let settled = false;

    const flag = (text: string): void => {
      problem ??= text;
    };
    const validComplete = (): boolean =>
      expected !== null && echoes >= expected.echoes.length && pongAt >= expected.pongs.length && (expected.closeCode === null || closeCode !== null);

    const finish = (kind: string, timedOut = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (timedOut) socket.resetAndDestroy();
      else socket.destroy();
      let validTimeout: boolean | undefined;
      if (expected !== null && problem === undefined) {
        if (head !== null && head.status !== 101) flag(`valid input refused with ${head.status}`);
        else if (!validComplete()) {
          if (timedOut) validTimeout = true;
          else flag(`valid input: ${echoes}/${expected.echoes.length} echoes, ${pongs}/${expected.pongs.length} pongs, close ${closeCode} (${kind})`);
        }
      }
      resolve({ kind, echoes, pongs, ms: Math.round(performance.now() - started), finSent, ...(problem === undefined ? {} : { problem }), ...(validTimeout ? { validTimeout } : {}) });
    };

    const deadline = setTimeout(() => finish(head === null ? 'timeout-before-response' : head.status === 101 ? 'timeout-after-101' : `http-${head.status}`, true), options.timeoutMs);

    const halfClose = (): void => {
      if (settled || finSent || socket.destroyed) return;
      finSent = true;
      socket.end();
    };

    const onMessage = (opcode: number, wire: Uint8Array, compressed: boolean): void => {
      let payload = wire;
      if (compressed) {
        // RFC 7692 §7.2.2: append 00 00 ff ff and inflate. The server was asked for no context takeover.
        try {
          payload = inflateRawSync(Buffer.concat([wire, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 * 1024 + 1 });
        } catch (error) {
          flag(`server sent a compressed message that does not inflate: ${(error as Error).message}`);
          echoes++;
          return;
        }
      }
      if (expected !== null) {
        const want = expected.echoes[echoes];
        if (want === undefined) flag(`valid input: echo ${echoes + 1} was never sent`);
        else if (want.opcode !== opcode || !sameBytes(want.payload, payload)) flag(`valid input: echo ${echoes + 1} differs (opcode ${opcode}, ${payload.length} octets; sent opcode ${want.opcode}, ${want.payload.length} octets)`);
      }
      echoes++;
    };

    const onFrames = (chunk: Uint8Array): void => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (error) {
        flag(`server frame: ${(error as Error).message}`);
        return finish('server-violation');
      }
      for (const f of frames) {
        if (closeCode !== null) {
          flag(`server sent opcode ${f.opcode} after its Close`);
          continue;
        }
        const firstOfMessage = f.opcode === Op.Text || f.opcode === Op.Binary;
        if (f.rsv !== 0 && !(f.rsv === RSV1 && deflate && firstOfMessage)) flag(`server frame opcode ${f.opcode} with RSV ${f.rsv}`);
        if (f.opcode === Op.Close) {
          closeCode = closeCodeOf(f.payload);
          if (f.payload.length === 1 || (f.payload.length >= 2 && !sendableCode(closeCode))) flag(`server sent Close payload ${Buffer.from(f.payload).toString('hex')}`);
          if (expected !== null && validComplete()) halfClose();
        } else if (f.opcode === Op.Pong) {
          if (expected !== null) {
            // RFC 6455 §5.5.3: a server busy writing may answer only the most recent of
            // several Pings, so a Pong may skip ahead, but only forward and to a Ping sent.
            let at = pongAt;
            while (at < expected.pongs.length && !sameBytes(expected.pongs[at], f.payload)) at++;
            if (at === expected.pongs.length) flag(`valid input: pong ${pongs + 1} answers no Ping still unanswered`);
            else pongAt = at + 1;
          }
          pongs++;
        } else if (f.opcode === Op.Ping) {
          // The server's own heartbeat: allowed, no answer needed here.
        } else if (f.opcode === Op.Text || f.opcode === Op.Binary) {
          if (partsOpcode !== -1) flag('server started a message inside another');
          if (f.fin) onMessage(f.opcode, f.payload, f.rsv === RSV1);
          else {
            parts = [f.payload];
            partsOpcode = f.opcode;
            partsCompressed = f.rsv === RSV1;
          }
        } else if (f.opcode === Op.Continuation && partsOpcode !== -1) {
          parts.push(f.payload);
          if (f.fin) {
            onMessage(partsOpcode, Buffer.concat(parts), partsCompressed);
            parts = [];
            partsOpcode = -1;
          }
        } else flag(`server sent opcode ${f.opcode}`);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (head !== null) return onFrames(chunk);
      received = Buffer.concat([received, chunk]);
      try {
        head = parseResponseHead(received);
      } catch (error) {
        flag(`not an HTTP response: ${(error as Error).message}`);
        return finish('bad-response');
      }
      if (head === null) {
        if (received.length > 65536) {
          flag('response head over 64 KiB');
          finish('bad-response');
        }
        return;
      }
      if (head.status !== 101) return finish(`http-${head.status}`);
      const extensions = head.headers.get('sec-websocket-extensions') ?? '';
      deflate = /permessage-deflate/i.test(extensions);
      if (deflate && !/server_no_context_takeover/i.test(extensions)) flag(`server agreed ${JSON.stringify(extensions)} without the server_no_context_takeover asked for`);
      if (expected !== null && head.headers.get('sec-websocket-accept') !== acceptOf(expected.key)) flag('valid input: wrong Sec-WebSocket-Accept');
      if (received.length > head.length) onFrames(received.subarray(head.length));
    });
    socket.on('error', () => {
      if (settled) return;
      if (closeCode !== null) return finish(`closed-${closeCode}`);
      finish(head === null ? 'reset-before-response' : head.status === 101 ? 'reset-after-101' : `http-${head.status}`);
    });
    socket.on('close', () => {
      if (settled) return;
      if (closeCode !== null) return finish(`closed-${closeCode}`);
      if (head !== null) return finish(head.status === 101 ? 'dropped-after-101' : `http-${head.status}`);
      if (received.length > 0) flag(`partial response head: ${JSON.stringify(received.toString('latin1').slice(0, 80))}`);
      finish(received.length > 0 ? 'partial-response' : 'dropped-before-response');
    });
    // Half-close from the server: Node answers with our FIN (allowHalfOpen is false); 'close' follows.

    socket.once('connect', () => {
      void (async () => {
        let at = 0;
        for (const w of input.writes) {
          if (w.delayMs > 0) await sleep(w.delayMs);
          if (settled || socket.destroyed || socket.writableEnded) return;
          socket.write(input.bytes.subarray(at, at + w.bytes));
          at += w.bytes;
        }
        if (expected !== null) {
          // A valid input: wait for its answers (the deadline bounds it), then half-close.
          for (;;) {
            if (settled) return;
            if (validComplete()) break;
            await sleep(10);
          }
          halfClose();
          return;
        }
        await sleep(options.quietMs);
        halfClose();
      })();
    });
  });
}
