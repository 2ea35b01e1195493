/**
 * The matrix's line-oriented JSON driver protocol, spoken by every client driver (a
 * process reading commands on stdin and answering on stdout, one JSON object per line,
 * or an in-process adapter that takes the same objects) and, for `events`, by every
 * server process.
 *
 * A command is `{ "id": 7, "op": "send", ... }`; its answer is `{ "id": 7, "ok": true, ... }`
 * or `{ "id": 7, "ok": false, "error": "..." }`. Answers may come out of order (each
 * command waits on its own connection). A process's first line is its `ready` line.
 *
 * Payloads never cross the protocol: a command names `(kind, size, seed)` (see
 * payload.ts) and an answer carries a {@link Digest}.
 * @module
 */
import type { Digest, PayloadKind } from './payload.ts';

/** A client driver command. `conn` is the number `connect` answered. */
export type ClientCommand =
  /** Opens a connection. `paused`: read nothing until `resume` (backpressure). `ca`: PEM to trust for wss. */
  | { op: 'connect'; url: string; protocols?: string[]; origin?: string; ca?: string; paused?: boolean; timeoutMs?: number }
  /** Sends the payload `(kind, size, seed)`, whole or as `fragments` frames (a fragmented message). */
  | { op: 'send'; conn: number; kind: PayloadKind; size: number; seed: number; fragments?: number }
  /** Answers with the digest of the next message received. */
  | { op: 'recv'; conn: number; timeoutMs: number }
  /** Sends a Ping with `payload` and answers with the payload of the Pong that comes back. */
  | { op: 'ping'; conn: number; payload: string; timeoutMs: number }
  /** Starts the closing handshake, with no code (an empty Close frame) when `code` is absent. */
  | { op: 'close'; conn: number; code?: number; reason?: string }
  /** Answers once the connection is closed, with how it ended. */
  | { op: 'closed'; conn: number; timeoutMs: number }
  /** Stops reading from the socket (the peer's sends must then wait). */
  | { op: 'pause'; conn: number }
  /** Reads again. */
  | { op: 'resume'; conn: number }
  /**
   * For a connection opened `paused` (stream mode: its binary messages are tallied with a
   * running CRC-32, not queued): waits until `bytes` arrived; answers with the tally.
   */
  | { op: 'drain'; conn: number; bytes: number; timeoutMs: number }
  /** Drops a connection at once (clean-up after a failed test). */
  | { op: 'abort'; conn: number }
  /** Ends the driver process. */
  | { op: 'exit' };

/** What each command answers on success. */
export interface ClientResults {
  connect: { conn: number; protocol: string };
  send: Record<string, never>;
  recv: Digest;
  ping: { payload: string };
  close: Record<string, never>;
  closed: ClosedInfo;
  pause: Record<string, never>;
  resume: Record<string, never>;
  drain: { messages: number; bytes: number; crc: number };
  abort: Record<string, never>;
  exit: Record<string, never>;
}

/** How a connection ended, as the peer's API reports it. */
export interface ClosedInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** The first line a driver or server process prints. */
export interface ReadyLine {
  ready: true;
  /** The runtime and version, e.g. `deno 2.9.5`. */
  runtime: string;
  /** Servers: the `ws://` port. */
  port?: number;
  /** Servers: the `wss://` port. */
  tlsPort?: number;
}

/** A failed command's answer. */
export interface ErrorAnswer {
  id: number;
  ok: false;
  error: string;
  /** The HTTP status of a refused handshake, when the client API tells it. */
  status?: number;
}

/** A server process command. */
export type ServerCommand =
  /** The record of the connection(s) whose URL carried `?t=tag`. */
  | { op: 'events'; tag: string }
  /** Ends the server process. */
  | { op: 'exit' };

/** What a server recorded about one tagged connection (see server_behaviour.ts). */
export interface ServerRecord {
  /** The handshake was refused: the HTTP status and the server's reason code. */
  rejected?: { status: number; code: string };
  /** The connection opened: the path, negotiated subprotocol and the `Origin` sent. */
  open?: { path: string; protocol: string; origin: string | null };
  /** Digests of the messages received. */
  messages: Digest[];
  /** Payloads of the Pongs received (as UTF-8 text). */
  pongs: string[];
  /** The peer's Close frame, when one arrived. */
  closing?: { code: number; reason: string };
  /** How the connection ended. */
  closed?: ClosedInfo;
  /** `/send`: the backpressure sender's progress. */
  send?: SendProgress;
}

/** Progress of the `/send` path, which writes `size` bytes as `chunk`-byte binary messages. */
export interface SendProgress {
  size: number;
  chunk: number;
  /** Bytes whose write the server's API accepted (a write that waits is not counted until it resolves). */
  written: number;
  /** The largest `bufferedAmount` seen after a write. */
  maxBuffered: number;
  /** How many writes had to wait for the socket to drain. */
  waits: number;
  done: boolean;
  error?: string;
}
