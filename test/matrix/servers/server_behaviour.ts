/**
 * What every matrix server does, whatever it runs on: the behaviour paths, over a
 * {@link ServerConn} that each server implementation (wsflow on a runtime, `Deno.serve`,
 * `Bun.serve`) adapts its connections to, and the per-tag {@link ServerRecord}s that the
 * runner reads back with the `events` command.
 *
 * Paths (every URL carries `?t=TAG`, the key of its record):
 * - `/echo`: sends every message back as it came (text as text). `&digest=1` also records
 *   the digest of each message received.
 * - `/guarded`: `/echo`, behind the `Origin` allowlist (the server's `--origins`).
 * - `/close?code=&reason=`: closes at once with that code and reason (no code: an empty Close).
 * - `/ping?payload=`: sends a Ping at once; Pongs are recorded.
 * - `/send?size=&chunk=&seed=`: writes the binary payload `(size, seed)` as `chunk`-byte
 *   messages, each write waiting while the server's API says its buffer is full, and
 *   records the progress (bytes accepted, the largest `bufferedAmount` seen).
 * Every path selects the subprotocol `chat` when the client offers it.
 * @module
 */
import { binaryPayload, digestOf } from '../payload.ts';
import type { ClosedInfo, SendProgress, ServerRecord } from '../protocol.ts';

/** The subprotocol every server selects when offered. */
export const SUBPROTOCOL = 'chat';

/** A server-side connection, reduced to what the paths need. */
export interface ServerConn {
  readonly protocol: string;
  send(data: string | Uint8Array): void;
  /**
   * Sends with the implementation's own backpressure: resolves once it may be called
   * again; `waited` tells whether it had to wait for the socket to drain.
   */
  write(data: Uint8Array): Promise<{ waited: boolean }>;
  /** Bytes accepted but not yet handed to the operating system. */
  bufferedAmount(): number;
  /** Absent: the server API has no Ping. */
  ping?(payload: string): void;
  close(code?: number, reason?: string): void;
}

/** The events a server implementation passes on for one connection. */
export interface Session {
  message(data: string | Uint8Array): void;
  pong(payload: string): void;
  /** The peer's Close frame arrived (1005: it had no code). */
  closing(code: number, reason: string): void;
  closed(info: ClosedInfo): void;
}

/** The records, by tag. */
export class Recorder {
  readonly #records = new Map<string, ServerRecord>();

  /** The record of `tag`, created empty on first use. */
  get(tag: string): ServerRecord {
    let record = this.#records.get(tag);
    if (record === undefined) {
      record = { messages: [], pongs: [] };
      this.#records.set(tag, record);
    }
    return record;
  }

  /** The record of `tag`, or null if the server never saw it. */
  peek(tag: string): ServerRecord | null {
    return this.#records.get(tag) ?? null;
  }
}

/** The `?t=` tag of a request URL. */
export function tagOf(url: URL): string {
  return url.searchParams.get('t') ?? '';
}

/** The server's settings from its command line. */
export interface BehaviourSettings {
  /** Origins `/guarded` accepts. */
  origins: readonly string[];
}

/** Whether the request for `url` with `origin` may open (only `/guarded` checks). */
export function originAllowed(settings: BehaviourSettings, url: URL, origin: string | null | undefined): boolean {
  return url.pathname !== '/guarded' || (typeof origin === 'string' && settings.origins.includes(origin));
}

/** The subprotocol to select among `offered`. */
export function selectProtocol(offered: readonly string[]): string | null {
  return offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : null;
}

/** Starts the behaviour of `url`'s path on an open connection. */
export function startSession(recorder: Recorder, url: URL, origin: string | null | undefined, conn: ServerConn): Session {
  const record = recorder.get(tagOf(url));
  const path = url.pathname;
  const q = url.searchParams;
  record.open = { path, protocol: conn.protocol, origin: origin ?? null };
  const session: Session = {
    message: () => {},
    pong: (payload) => void record.pongs.push(payload),
    closing: (code, reason) => void (record.closing = { code, reason }),
    closed: (info) => void (record.closed = info),
  };
  switch (path) {
    case '/echo':
    case '/guarded': {
      const digest = q.get('digest') === '1';
      session.message = (data) => {
        if (digest) record.messages.push(digestOf(data));
        conn.send(data);
      };
      break;
    }
    case '/close': {
      const code = q.get('code');
      // After this turn: some implementations let a handler set up first.
      setTimeout(() => conn.close(code === null ? undefined : Number(code), q.get('reason') ?? ''), 0);
      break;
    }
    case '/ping': {
      if (conn.ping === undefined) throw new Error('this server cannot send a Ping');
      setTimeout(() => conn.ping!(q.get('payload') ?? ''), 0);
      break;
    }
    case '/send': {
      const progress: SendProgress = { size: Number(q.get('size')), chunk: Number(q.get('chunk')), written: 0, maxBuffered: 0, waits: 0, done: false };
      record.send = progress;
      void sendAll(conn, progress, Number(q.get('seed') ?? '1'));
      break;
    }
    default:
      conn.close(4404, `no behaviour at ${path}`);
  }
  return session;
}

async function sendAll(conn: ServerConn, progress: SendProgress, seed: number): Promise<void> {
  const data = binaryPayload(progress.size, seed);
  try {
    for (let at = 0; at < data.length; at += progress.chunk) {
      const piece = data.subarray(at, Math.min(data.length, at + progress.chunk));
      const writing = conn.write(piece);
      progress.maxBuffered = Math.max(progress.maxBuffered, conn.bufferedAmount());
      const { waited } = await writing;
      if (waited) progress.waits++;
      progress.written += piece.length;
    }
    progress.done = true;
  } catch (error) {
    progress.error = String((error as Error)?.message ?? error);
  }
}
