/**
 * The behaviour table of the interop matrix: each behaviour is written once, against a
 * {@link Cell} (one server, one client, both reached through the driver protocol), and is
 * run for every (server, client) pair by matrix.test.ts (Node, Deno, Bun, ws and Python
 * clients) and test-e2e/matrix.spec.ts (Chromium). {@link planCell} says, for a pair,
 * whether a behaviour runs, is not applicable (and why), or is a known limitation.
 *
 * Assertions use node:assert, so the table runs under Vitest and Playwright alike.
 * @module
 */
import assert from 'node:assert/strict';
import { expectedDigest, type Digest, type PayloadKind } from './payload.ts';
import { KNOWN_LIMITATIONS, type ClientCapability, type ClientKind, type KnownLimitation, type ServerCapability, type ServerKind } from './peers.ts';
import type { Channel } from './processes.ts';
import type { ClosedInfo, ServerRecord } from './protocol.ts';

/** A running server as the behaviours see it. */
export interface ServerHandle {
  kind: ServerKind;
  port: number;
  tlsPort: number;
  /** The server's record for a tag (null: it never saw the tag). */
  events(tag: string): Promise<ServerRecord | null>;
}

/** A running client as the behaviours see it. */
export interface ClientHandle {
  kind: ClientKind;
  channel: Channel;
  /** Browsers ({@link ClientKind.originByPage}): the channel of a page on an allowed or a refused origin. */
  channelForOrigin?(which: 'allowed' | 'refused'): Channel;
}

/** One (server, client) pair, for one behaviour. */
export interface Cell {
  server: ServerHandle;
  client: ClientHandle;
  /** Unique per cell and behaviour: the server records under it (`?t=`). */
  tag: string;
  /** The PEM of the CA that signed the servers' certificate. */
  ca: string;
  /** `Origin` values the servers' `/guarded` path accepts and refuses (browsers: their two pages' origins). */
  origins: { allowed: string; refused: string };
  /** Connections opened, aborted after the behaviour whatever happened. */
  opened: Array<{ channel: Channel; conn: number }>;
  /** Records an observation for the report (e.g. how far a sender got before it waited). */
  note(text: string): void;
}

/** A behaviour of the matrix. */
export interface Behaviour {
  id: string;
  title: string;
  needs?: { client?: ClientCapability[]; server?: ServerCapability[] };
  /** Milliseconds the behaviour may take. */
  timeoutMs: number;
  run(cell: Cell): Promise<void>;
}

/** What a cell does with a behaviour. */
export type CellPlan = { status: 'run' } | { status: 'n/a'; reason: string } | { status: 'known'; limitation: KnownLimitation };

/** Whether `behaviour` runs for (server, client), and if not, why. */
export function planCell(server: ServerKind, client: ClientKind, behaviour: Behaviour): CellPlan {
  const reasons: string[] = [];
  for (const need of behaviour.needs?.client ?? []) {
    const why = client.cannot[need];
    // A browser's origin comes from its page: origin behaviours run through `channelForOrigin`.
    if (why !== undefined && !(need === 'origin' && client.originByPage === true)) reasons.push(`client: ${why}`);
  }
  for (const need of behaviour.needs?.server ?? []) {
    const why = server.cannot[need];
    if (why !== undefined) reasons.push(`server: ${why}`);
  }
  if (reasons.length > 0) return { status: 'n/a', reason: reasons.join('; ') };
  const known = KNOWN_LIMITATIONS.find(
    (k) => k.behaviour === behaviour.id && (k.server === undefined || k.server === server.id) && (k.client === undefined || k.client === client.id),
  );
  return known === undefined ? { status: 'run' } : { status: 'known', limitation: known };
}

// ---- helpers ---------------------------------------------------------------------------

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The URL of `path` on the cell's server, tagged. */
function urlOf(cell: Cell, path: string, params: Record<string, string | number> = {}, secure = false): string {
  const q = new URLSearchParams({ ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])), t: cell.tag });
  return `${secure ? 'wss' : 'ws'}://127.0.0.1:${secure ? cell.server.tlsPort : cell.server.port}${path}?${q}`;
}

interface ConnectOptions {
  protocols?: string[];
  origin?: 'allowed' | 'refused';
  paused?: boolean;
  secure?: boolean;
  params?: Record<string, string | number>;
}

/** A client connection of the cell, through its driver. */
class Conn {
  readonly channel: Channel;
  readonly conn: number;
  readonly protocol: string;

  constructor(channel: Channel, conn: number, protocol: string) {
    this.channel = channel;
    this.conn = conn;
    this.protocol = protocol;
  }

  send(kind: PayloadKind, size: number, seed: number, fragments?: number): Promise<unknown> {
    return this.channel.request({ op: 'send', conn: this.conn, kind, size, seed, ...(fragments === undefined ? {} : { fragments }) }, 30_000);
  }

  recv(timeoutMs = 20_000): Promise<Digest> {
    return this.channel.request<Digest>({ op: 'recv', conn: this.conn, timeoutMs }, timeoutMs + 2000);
  }

  close(code?: number, reason?: string): Promise<unknown> {
    return this.channel.request({ op: 'close', conn: this.conn, ...(code === undefined ? {} : { code, reason: reason ?? '' }) });
  }

  async closed(timeoutMs = 10_000): Promise<ClosedInfo> {
    const { code, reason, wasClean } = await this.channel.request<ClosedInfo>({ op: 'closed', conn: this.conn, timeoutMs }, timeoutMs + 2000);
    return { code, reason, wasClean };
  }
}

async function connect(cell: Cell, path: string, options: ConnectOptions = {}): Promise<Conn> {
  const { client } = cell;
  let channel = client.channel;
  let origin: string | undefined;
  if (options.origin !== undefined) {
    if (client.kind.originByPage === true) channel = client.channelForOrigin!(options.origin);
    else origin = cell.origins[options.origin];
  }
  const answer = await channel.request<{ conn: number; protocol: string }>(
    {
      op: 'connect',
      url: urlOf(cell, path, options.params, options.secure),
      ...(options.protocols === undefined ? {} : { protocols: options.protocols }),
      ...(origin === undefined ? {} : { origin }),
      ...(options.secure === true ? { ca: cell.ca } : {}),
      ...(options.paused === true ? { paused: true } : {}),
      timeoutMs: 10_000,
    },
    15_000,
  );
  cell.opened.push({ channel, conn: answer.conn });
  return new Conn(channel, answer.conn, answer.protocol);
}

/** Polls the server's record until `ready` holds (every 20 ms, at most `timeoutMs`). */
async function serverRecord(cell: Cell, ready: (r: ServerRecord) => boolean, what: string, timeoutMs = 5000): Promise<ServerRecord> {
  let last: ServerRecord | null = null;
  for (let waited = 0; waited <= timeoutMs; waited += 20) {
    last = await cell.server.events(cell.tag);
    if (last !== null && ready(last)) return last;
    await sleep(20);
  }
  assert.fail(`the server never recorded ${what} within ${timeoutMs} ms; its record: ${JSON.stringify(last)}`);
}

/** Sends `(kind, size, seed)` and checks that the echo comes back whole. */
async function echoes(conn: Conn, kind: PayloadKind, size: number, seed: number, fragments?: number): Promise<void> {
  await conn.send(kind, size, seed, fragments);
  const got = await conn.recv(30_000);
  assert.deepEqual(got, expectedDigest(kind, size, seed), `${kind} message of ${size} bytes${fragments === undefined ? '' : ` in ${fragments} fragments`}: the echo differs`);
}

/** Closes cleanly from the client with 1000. */
async function closeNormally(conn: Conn): Promise<void> {
  await conn.close(1000, '');
  const info = await conn.closed();
  assert.equal(info.wasClean, true, `closing with 1000 was not clean: ${JSON.stringify(info)}`);
}

/** A close reason of exactly 123 UTF-8 bytes (the most a Close frame can carry), mostly 2-byte characters. */
export const LONG_REASON = `${'ü'.repeat(61)}!`;

// ---- the behaviours -------------------------------------------------------------------

const SIZES: ReadonlyArray<[label: string, size: number]> = [
  ['0', 0],
  ['125', 125],
  ['126', 126],
  ['65535', 65535],
  ['65536', 65536],
  ['1MiB', MiB],
  ['16MiB', 16 * MiB],
];

function messageBehaviour(kind: PayloadKind, label: string, size: number): Behaviour {
  return {
    id: `${kind}-${label}`,
    title: `${kind} message of ${label} bytes comes back whole`,
    timeoutMs: size >= 16 * MiB ? 60_000 : 15_000,
    async run(cell) {
      const conn = await connect(cell, '/echo');
      await echoes(conn, kind, size, size % 251);
      await closeNormally(conn);
    },
  };
}

/** Fragment counts and sizes: text split into 7 (inside characters where the client can), binary into 5. */
const FRAGMENTED: ReadonlyArray<[kind: PayloadKind, size: number, fragments: number]> = [
  ['text', 100_003, 7],
  ['binary', MiB + 3, 5],
];

/** The backpressure case: the server writes this much to a client that does not read. */
export const BACKPRESSURE_BYTES = 48 * MiB;
const BACKPRESSURE_CHUNK = 64 * 1024;
/** A sender's buffer may hold its high-water mark (1 MiB) plus the write that crossed it. */
const BACKPRESSURE_BOUND = MiB + 2 * BACKPRESSURE_CHUNK;

/** Every behaviour, in the order the matrix runs them. */
export const BEHAVIOURS: readonly Behaviour[] = [
  ...SIZES.flatMap(([label, size]) => [messageBehaviour('text', label, size), messageBehaviour('binary', label, size)]),
  ...FRAGMENTED.map(
    ([kind, size, fragments]): Behaviour => ({
      id: `fragmented-${kind}`,
      title: `a ${kind} message sent in ${fragments} fragments is reassembled by the server`,
      needs: { client: ['sendFragments'] },
      timeoutMs: 15_000,
      async run(cell) {
        const conn = await connect(cell, '/echo', { params: { digest: 1 } });
        await echoes(conn, kind, size, 7, fragments);
        const record = await serverRecord(cell, (r) => r.messages.length > 0, 'the message');
        assert.deepEqual(record.messages, [expectedDigest(kind, size, 7)], 'the server reassembled something else');
        await closeNormally(conn);
      },
    }),
  ),
  {
    id: 'ping-from-client',
    title: "the client's Ping gets a Pong with its payload",
    needs: { client: ['ping'] },
    timeoutMs: 10_000,
    async run(cell) {
      const conn = await connect(cell, '/echo');
      const payload = 'matrix ping ✓';
      const answer = await conn.channel.request<{ payload: string }>({ op: 'ping', conn: conn.conn, payload, timeoutMs: 5000 }, 7000);
      assert.equal(answer.payload, payload);
      // The connection still works after it.
      await echoes(conn, 'text', 10, 1);
      await closeNormally(conn);
    },
  },
  {
    id: 'ping-from-server',
    title: "the server's Ping gets a Pong with its payload",
    needs: { server: ['ping'] },
    timeoutMs: 10_000,
    async run(cell) {
      const payload = 'server ping ✓';
      const conn = await connect(cell, '/ping', { params: { payload } });
      const record = await serverRecord(cell, (r) => r.pongs.length > 0, 'a Pong');
      assert.deepEqual(record.pongs, [payload]);
      await closeNormally(conn);
    },
  },
  {
    id: 'close-from-client',
    title: 'the client closes with 3001 and a 123-byte reason: the server sees both, the close is clean',
    timeoutMs: 10_000,
    async run(cell) {
      const conn = await connect(cell, '/echo');
      await conn.close(3001, LONG_REASON);
      const info = await conn.closed();
      const record = await serverRecord(cell, (r) => r.closing !== undefined, "the client's Close");
      assert.deepEqual(record.closing, { code: 3001, reason: LONG_REASON }, 'what the server received');
      assert.equal(info.wasClean, true, `client side: ${JSON.stringify(info)}`);
      // The server echoes the code (RFC 6455 §5.5.1), which the client reports.
      assert.equal(info.code, 3001, `client side: ${JSON.stringify(info)}`);
    },
  },
  {
    id: 'close-from-client-without-code',
    title: 'the client closes without a code: the server sees 1005',
    needs: { client: ['emptyClose'] },
    timeoutMs: 10_000,
    async run(cell) {
      const conn = await connect(cell, '/echo');
      await conn.close();
      const info = await conn.closed();
      const record = await serverRecord(cell, (r) => r.closing !== undefined, "the client's Close");
      assert.deepEqual(record.closing, { code: 1005, reason: '' }, 'what the server received');
      assert.equal(info.wasClean, true, `client side: ${JSON.stringify(info)}`);
      assert.equal(info.code, 1005, `client side: ${JSON.stringify(info)}`);
    },
  },
  {
    id: 'close-from-server',
    title: 'the server closes with 4002 and a 123-byte reason: the client sees both, the close is clean',
    timeoutMs: 10_000,
    async run(cell) {
      const conn = await connect(cell, '/close', { params: { code: 4002, reason: LONG_REASON } });
      const info = await conn.closed();
      assert.deepEqual(info, { code: 4002, reason: LONG_REASON, wasClean: true });
      const record = await serverRecord(cell, (r) => r.closed !== undefined, 'the end');
      assert.equal(record.closed!.wasClean, true, `server side: ${JSON.stringify(record.closed)}`);
    },
  },
  {
    id: 'close-from-server-without-code',
    title: 'the server closes without a code: the client sees 1005',
    timeoutMs: 10_000,
    async run(cell) {
      const conn = await connect(cell, '/close');
      const info = await conn.closed();
      assert.deepEqual(info, { code: 1005, reason: '', wasClean: true });
    },
  },
  {
    id: 'subprotocol-selected',
    title: "offered ['superchat', 'chat'], the server selects 'chat'",
    timeoutMs: 10_000,
    async run(cell) {
      const conn = await connect(cell, '/echo', { protocols: ['superchat', 'chat'] });
      assert.equal(conn.protocol, 'chat', 'client side');
      const record = await serverRecord(cell, (r) => r.open !== undefined, 'the connection');
      assert.equal(record.open!.protocol, 'chat', 'server side');
      await echoes(conn, 'text', 20, 2);
      await closeNormally(conn);
    },
  },
  {
    id: 'subprotocol-none',
    title: "offered ['superchat'] only, the server selects none: RFC 6455 clients open with no subprotocol, Fetch-standard ones fail",
    timeoutMs: 10_000,
    async run(cell) {
      const rule = cell.client.kind.noSubprotocol;
      if (rule.outcome === 'opens') {
        const conn = await connect(cell, '/echo', { protocols: ['superchat'] });
        assert.equal(conn.protocol, '', `client side (${rule.why})`);
        const record = await serverRecord(cell, (r) => r.open !== undefined, 'the connection');
        assert.equal(record.open!.protocol, '', 'server side');
        await closeNormally(conn);
        return;
      }
      let error: unknown = null;
      try {
        await connect(cell, '/echo', { protocols: ['superchat'] });
      } catch (e) {
        error = e;
      }
      assert.notEqual(error, null, `the connection opened, but ${rule.why}`);
      // The server did answer 101 with no subprotocol, then saw the client go.
      const record = await serverRecord(cell, (r) => r.closed !== undefined, 'the end of the connection the client failed');
      assert.equal(record.open!.protocol, '', 'server side');
    },
  },
  {
    id: 'origin-allowed',
    title: 'an allowed Origin opens /guarded',
    needs: { client: ['origin'] },
    timeoutMs: 10_000,
    async run(cell) {
      const conn = await connect(cell, '/guarded', { origin: 'allowed' });
      const record = await serverRecord(cell, (r) => r.open !== undefined, 'the connection');
      assert.equal(record.open!.origin, cell.origins.allowed, 'the Origin the server saw');
      await echoes(conn, 'text', 30, 3);
      await closeNormally(conn);
    },
  },
  {
    id: 'origin-refused',
    title: 'another Origin is refused with 403 on /guarded',
    needs: { client: ['origin'] },
    timeoutMs: 10_000,
    async run(cell) {
      let error: unknown = null;
      try {
        await connect(cell, '/guarded', { origin: 'refused' });
      } catch (e) {
        error = e;
      }
      assert.notEqual(error, null, 'the handshake was accepted');
      const status = (error as { status?: number }).status;
      if (status !== undefined) assert.equal(status, 403, 'the status the client saw');
      const record = await serverRecord(cell, (r) => r.rejected !== undefined, 'the refusal');
      assert.deepEqual(record.rejected, { status: 403, code: 'FORBIDDEN_ORIGIN' });
      assert.equal(record.open, undefined, 'the server opened it anyway');
    },
  },
  {
    id: 'wss',
    title: 'over wss:// (a CA made with openssl at test time): text and 1 MiB binary echo, clean close',
    timeoutMs: 20_000,
    async run(cell) {
      const conn = await connect(cell, '/echo', { secure: true, protocols: ['chat'] });
      assert.equal(conn.protocol, 'chat');
      await echoes(conn, 'text', 70_000, 4);
      await echoes(conn, 'binary', MiB, 5);
      await conn.close(3003, 'tls bye');
      const info = await conn.closed();
      assert.deepEqual(info, { code: 3003, reason: 'tls bye', wasClean: true });
    },
  },
  {
    id: 'backpressure',
    title: `the server sends ${BACKPRESSURE_BYTES / MiB} MiB to a client that does not read: its writes wait, its buffer stays under ${BACKPRESSURE_BOUND} bytes, all arrives once read`,
    needs: { client: ['pause'], server: ['backpressure'] },
    timeoutMs: 30_000,
    async run(cell) {
      const seed = 11;
      const conn = await connect(cell, '/send', { paused: true, params: { size: BACKPRESSURE_BYTES, chunk: BACKPRESSURE_CHUNK, seed } });
      // Wait until the sender's progress stops: the same count on 4 polls, 100 ms apart (at most 10 s).
      let last = -1;
      let same = 0;
      let record: ServerRecord | null = null;
      for (let i = 0; i < 100 && same < 4; i++) {
        await sleep(100);
        record = await cell.server.events(cell.tag);
        const written = record?.send?.written ?? -1;
        same = written === last && written >= 0 ? same + 1 : 0;
        last = written;
      }
      const progress = record?.send;
      assert.ok(progress !== undefined, `the server never started sending: ${JSON.stringify(record)}`);
      assert.equal(progress.error, undefined, 'the sender failed');
      assert.ok(!progress.done && progress.written < BACKPRESSURE_BYTES, `the sender never waited: ${JSON.stringify(progress)}`);
      assert.ok(same >= 4, `the sender kept going while the client did not read: ${JSON.stringify(progress)}`);
      assert.ok(progress.maxBuffered <= BACKPRESSURE_BOUND, `the sender buffered ${progress.maxBuffered} bytes`);
      cell.note(`sender waited after ${(progress.written / MiB).toFixed(1)} MiB of ${BACKPRESSURE_BYTES / MiB}, its buffer peaked at ${(progress.maxBuffered / 1024).toFixed(0)} KiB`);
      await conn.channel.request({ op: 'resume', conn: conn.conn });
      const got = await conn.channel.request<{ bytes: number; crc: number }>({ op: 'drain', conn: conn.conn, bytes: BACKPRESSURE_BYTES, timeoutMs: 20_000 }, 22_000);
      const expected = expectedDigest('binary', BACKPRESSURE_BYTES, seed);
      assert.deepEqual({ bytes: got.bytes, crc: got.crc }, { bytes: expected.size, crc: expected.crc }, 'what arrived');
      const done = await serverRecord(cell, (r) => r.send?.done === true, 'the end of the sending');
      assert.ok(done.send!.maxBuffered <= BACKPRESSURE_BOUND, `the sender buffered ${done.send!.maxBuffered} bytes`);
      await closeNormally(conn);
    },
  },
];

/** Aborts what a behaviour left open (after it passed or failed); never throws. */
export async function cleanUp(cell: Cell): Promise<void> {
  await Promise.all(cell.opened.splice(0).map(({ channel, conn }) => channel.request({ op: 'abort', conn }, 3000).catch(() => {})));
}
