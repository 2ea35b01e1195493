/**
 * A TCP relay that sits between a WebSocket client and server, forwards every byte
 * unchanged, and checks what crossed the wire with its own DEFLATE decoder (node:zlib,
 * not the engine under test):
 *
 * - it reads the offer (request) and the answer (101 response) and works out the agreement
 *   itself (RFC 7692 §7.1: a client's `client_no_context_takeover` and
 *   `client_max_window_bits=N` bind it even when the response does not repeat them);
 * - it inflates every message that has RSV1 set with exactly the window the sender agreed
 *   to (zlib fails with "invalid distance too far back" when a sender reaches further),
 *   and, for a sender that agreed to no context takeover, with a fresh decoder per message
 *   (which fails when the sender referred to an earlier message);
 * - it records per direction each message's opcode, RSV1, octets on the wire, inflated
 *   size and CRC-32.
 * @module
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { constants, createInflateRaw, inflateRawSync, type InflateRaw } from 'node:zlib';
import { FrameParser } from '@wsflow/codec';
import { crc32 } from '../matrix/payload.ts';

/** One data message as it crossed the wire. */
export interface WireMessage {
  opcode: number;
  rsv1: boolean;
  /** Payload octets on the wire (all frames). */
  wire: number;
  /** Octets after inflating (= wire when not compressed). */
  size: number;
  crc: number;
}

/** What one side promised to compress with. */
export interface SenderTerms {
  windowBits: number;
  noContextTakeover: boolean;
}

/** One relayed connection. */
export interface WireRecord {
  /** The client's `Sec-WebSocket-Extensions` (all field lines, joined), '' for none. */
  offered: string;
  /** The server's `Sec-WebSocket-Extensions` in the 101, '' for none. */
  accepted: string;
  /** The agreement as the relay works it out, null without permessage-deflate. */
  client: SenderTerms | null;
  server: SenderTerms | null;
  /** Client to server, server to client. */
  c2s: WireMessage[];
  s2c: WireMessage[];
  /** Close codes seen each way. */
  closes: { c2s: number[]; s2c: number[] };
  /** Anything the relay could not decode: a broken frame, an inflate error, RSV1 without agreement. */
  errors: string[];
}

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const MAX_MESSAGE = 64 * 1024 * 1024;

/** Parses a `Sec-WebSocket-Extensions` value into elements; quoted values unquoted. */
function elements(value: string): Array<{ name: string; params: Map<string, string | true> }> {
  if (value.trim() === '') return [];
  return value.split(',').map((element) => {
    const [name, ...params] = element.split(';').map((part) => part.trim());
    const map = new Map<string, string | true>();
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq === -1) map.set(param, true);
      else map.set(param.slice(0, eq).trim(), param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
    }
    return { name: name.toLowerCase(), params: map };
  });
}

/** The terms of both senders, from the offer the server accepted and its response (RFC 7692 §7.1). */
export function termsOf(offered: string, accepted: string): { client: SenderTerms; server: SenderTerms } | null {
  const answer = elements(accepted).find((e) => e.name === 'permessage-deflate');
  if (answer === undefined) return null;
  // The server accepted one of the offers; with several, the client's promises of any could
  // apply, so take the strictest offered (the peers here offer one).
  const offers = elements(offered).filter((e) => e.name === 'permessage-deflate');
  const offeredClientBits = offers.map((o) => o.params.get('client_max_window_bits')).find((v) => typeof v === 'string');
  const bits = (v: string | true | undefined): number | undefined => (typeof v === 'string' ? Number(v) : undefined);
  return {
    client: {
      windowBits: bits(answer.params.get('client_max_window_bits')) ?? bits(offeredClientBits) ?? 15,
      noContextTakeover: answer.params.has('client_no_context_takeover') || offers.some((o) => o.params.has('client_no_context_takeover')),
    },
    server: {
      windowBits: bits(answer.params.get('server_max_window_bits')) ?? 15,
      noContextTakeover: answer.params.has('server_no_context_takeover'),
    },
  };
}

/** Inflates one direction's messages with the sender's terms, in order. */
class DirectionInflater {
  readonly #terms: SenderTerms;
  #stream: InflateRaw | null = null;
  #chunks: Buffer[] = [];
  #error: Error | null = null;
  #failed: ((error: Error) => void) | null = null;
  /** Messages inflate one after the other. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(terms: SenderTerms) {
    this.#terms = terms;
  }

  inflate(payload: Buffer): Promise<Buffer> {
    const run = async (): Promise<Buffer> => {
      const input = Buffer.concat([payload, TAIL]);
      if (this.#terms.noContextTakeover) {
        // A fresh decoder: a reference into an earlier message fails here.
        return inflateRawSync(input, { ...this.#zlibOptions(), finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_MESSAGE });
      }
      if (this.#error !== null) throw new Error(`an earlier message broke the stream (${this.#error.message})`);
      const stream = (this.#stream ??= this.#open());
      return new Promise<Buffer>((resolve, reject) => {
        // A stream that fails never calls the flush callback back: its error settles this.
        this.#failed = reject;
        stream.write(input);
        stream.flush(constants.Z_SYNC_FLUSH, () => {
          this.#failed = null;
          if (this.#error !== null) return reject(this.#error);
          const out = Buffer.concat(this.#chunks);
          this.#chunks = [];
          resolve(out);
        });
      });
    };
    const result = this.#chain.then(run);
    this.#chain = result.catch(() => {});
    return result;
  }

  /**
   * zlib lets a distance reach back into the output buffer of the current call, window or
   * not; with output buffers no larger than the window, any reach past the window fails.
   */
  #zlibOptions(): { windowBits: number; chunkSize: number } {
    return { windowBits: this.#terms.windowBits, chunkSize: Math.max(64, 2 ** this.#terms.windowBits) };
  }

  #open(): InflateRaw {
    const stream = createInflateRaw(this.#zlibOptions());
    stream.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    stream.on('error', (error) => {
      this.#error = error;
      this.#failed?.(error);
      this.#failed = null;
    });
    return stream;
  }

  close(): void {
    this.#stream?.close();
  }
}

/** Finds the end of an HTTP head (`\r\n\r\n`) in what was buffered. */
function headEnd(buffer: Buffer): number {
  const at = buffer.indexOf('\r\n\r\n');
  return at === -1 ? -1 : at + 4;
}

function extensionsOf(head: string): string {
  return head
    .split('\r\n')
    .filter((line) => /^sec-websocket-extensions\s*:/i.test(line))
    .map((line) => line.slice(line.indexOf(':') + 1).trim())
    .join(', ');
}

/** One direction of one connection: the head, then frames. */
class Direction {
  #head: Buffer | null = Buffer.alloc(0);
  #parser: FrameParser | null = null;
  #opcode = 0;
  #rsv1 = false;
  #pieces: Buffer[] = [];
  #size = 0;
  #inflater: DirectionInflater | null = null;
  readonly pending: Array<Promise<void>> = [];
  /** The parser's role: `server` reads the client's (masked) frames. */
  readonly role: 'server' | 'client';
  readonly record: WireRecord;
  readonly onHead: (head: string) => void;

  constructor(role: 'server' | 'client', record: WireRecord, onHead: (head: string) => void) {
    this.role = role;
    this.record = record;
    this.onHead = onHead;
  }

  get out(): WireMessage[] {
    return this.role === 'server' ? this.record.c2s : this.record.s2c;
  }

  push(chunk: Buffer): void {
    if (this.#head !== null) {
      const buffered = Buffer.concat([this.#head, chunk]);
      const end = headEnd(buffered);
      if (end === -1) {
        this.#head = buffered;
        return;
      }
      this.#head = null;
      this.onHead(buffered.subarray(0, end).toString('latin1'));
      chunk = buffered.subarray(end);
      this.#parser = new FrameParser(
        { role: this.role, maxPayload: MAX_MESSAGE, allowedRsv: 0x40 },
        { frameHeader: () => {}, framePartial: () => {}, frame: (fin, rsv, opcode, payload) => this.#frame(fin, rsv, opcode, Buffer.from(payload)) },
      );
    }
    if (chunk.length === 0 || this.#parser === null) return;
    try {
      this.#parser.push(chunk);
    } catch (error) {
      this.record.errors.push(`${this.role === 'server' ? 'c2s' : 's2c'}: ${(error as Error).message}`);
      this.#parser = null;
    }
  }

  #frame(fin: boolean, rsv: number, opcode: number, payload: Buffer): void {
    if (opcode === 0x8) {
      (this.role === 'server' ? this.record.closes.c2s : this.record.closes.s2c).push(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
      return;
    }
    if (opcode >= 0x8) return;
    if (opcode !== 0) {
      this.#opcode = opcode;
      this.#rsv1 = (rsv & 0x40) !== 0;
      this.#pieces = [];
      this.#size = 0;
    }
    this.#pieces.push(payload);
    this.#size += payload.length;
    if (!fin) return;
    const message = Buffer.concat(this.#pieces);
    const entry: WireMessage = { opcode: this.#opcode, rsv1: this.#rsv1, wire: message.length, size: message.length, crc: 0 };
    this.out.push(entry);
    const dir = this.role === 'server' ? 'c2s' : 's2c';
    if (!this.#rsv1) {
      entry.crc = crc32(message);
      return;
    }
    const terms = this.role === 'server' ? this.record.client : this.record.server;
    if (terms === null) {
      this.record.errors.push(`${dir}: message ${this.out.length} has RSV1 but no permessage-deflate was agreed`);
      return;
    }
    this.#inflater ??= new DirectionInflater(terms);
    const index = this.out.length;
    this.pending.push(
      this.#inflater.inflate(message).then(
        (plain) => {
          entry.size = plain.length;
          entry.crc = crc32(plain);
        },
        (error: Error) => void this.record.errors.push(`${dir}: message ${index} does not inflate with ${JSON.stringify(terms)}: ${error.message}`),
      ),
    );
  }

  close(): void {
    this.#inflater?.close();
  }
}

/**
 * A relay to `target` on 127.0.0.1. Each accepted connection gets a {@link WireRecord}.
 *
 * @example
 * ```ts
 * const relay = await WireRelay.start(serverPort);
 * // connect a client to ws://127.0.0.1:${relay.port}/echo ...
 * const [record] = await relay.settled();
 * ```
 */
export class WireRelay {
  readonly records: WireRecord[] = [];
  readonly #server: Server;
  readonly #directions: Direction[] = [];
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  static async start(target: number): Promise<WireRelay> {
    const server = createServer();
    const relay = new WireRelay(server);
    server.on('connection', (client) => relay.#relay(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  #relay(client: Socket, target: number): void {
    const record: WireRecord = { offered: '', accepted: '', client: null, server: null, c2s: [], s2c: [], closes: { c2s: [], s2c: [] }, errors: [] };
    this.records.push(record);
    const upstream = connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.#sockets.delete(socket);
        (socket === client ? upstream : client).end();
      });
    }
    const c2s = new Direction('server', record, (head) => (record.offered = extensionsOf(head)));
    const s2c = new Direction('client', record, (head) => {
      record.accepted = extensionsOf(head);
      const terms = termsOf(record.offered, record.accepted);
      record.client = terms?.client ?? null;
      record.server = terms?.server ?? null;
    });
    this.#directions.push(c2s, s2c);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      c2s.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      s2c.push(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  }

  /** The records, once every inflation so far has finished. */
  async settled(): Promise<WireRecord[]> {
    for (;;) {
      const pending = this.#directions.flatMap((d) => d.pending.splice(0));
      if (pending.length === 0) return this.records;
      await Promise.all(pending);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    for (const direction of this.#directions) direction.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
