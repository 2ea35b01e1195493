/**
 * The socket-adapter interface: all a runtime shim gives the engines. A shim wraps each
 * accepted or dialed socket in an {@link EngineSocket} (bytes in through its `receiver`,
 * bytes out through the codec's `ByteTransport`) and describes the runtime once in a
 * {@link RuntimeAdapter} (timers, allocation, the DEFLATE engine, a fast SHA-1). Nothing
 * else crosses the line: every rule of the protocol is the codec's, every policy the
 * engine's.
 * @module
 */
import type { ByteTransport, DeflateEngine, SyncSha1, Timers } from '@wsflow/codec';

/** Where an {@link EngineSocket} delivers what happens to it. */
export interface SocketReceiver {
  /** Bytes arrived: a buffer the receiver may keep (the socket never writes it again). */
  receive(chunk: Uint8Array): void;
  /** The peer finished sending (TCP FIN). */
  receiveEnd(): void;
  /** The socket closed, with the error that closed it, if any. */
  transportClosed(error?: unknown): void;
  /** Everything queued was handed to the operating system. */
  drain(): void;
}

/** A receiver that drops everything: for sockets being refused or handed over. */
export const IGNORE_RECEIVER: SocketReceiver = {
  receive: () => {},
  receiveEnd: () => {},
  transportClosed: () => {},
  drain: () => {},
};

/**
 * One socket as the engines drive it. Its events go to the current `receiver`; the engines
 * swap receivers as a socket goes from its request head to a body, a refusal or a
 * WebSocket connection.
 *
 * @example
 * ```ts
 * // a shim's data callback:
 * onData(chunk) { socket.receiver.receive(chunk); }
 * ```
 */
export interface EngineSocket extends ByteTransport {
  /** Where events go; set by the engines. */
  receiver: SocketReceiver;
  /** The peer's IP address, when known. */
  readonly remoteAddress: string | undefined;
  /** Whether the socket has closed (no event will follow). */
  readonly closed: boolean;
  /** Stops delivering bytes while the engine decides (bytes on their way may still come). */
  hold(): void;
  /** Lifts {@link hold}. */
  release(): void;
}

/** What an engine needs of the runtime besides sockets. */
export interface RuntimeAdapter {
  /** Timers that do not keep the process alive on their own (unless asked to: see `Timers`). */
  readonly timers: Timers;
  /** The DEFLATE engine for a `perMessageDeflate` setting that names none. */
  readonly deflateEngine?: DeflateEngine;
  /** A synchronous SHA-1 for the accept key faster than the codec's own, where the runtime has one. */
  readonly sha1?: SyncSha1;
  /** Unzeroed allocation for the codec's buffers, where the runtime has it. */
  readonly allocate?: (size: number) => Uint8Array;
  /** Whether sockets hand over read buffers nothing else holds (the codec may keep views). */
  readonly mutableInput: boolean;
  /** Runs `callback` in a later macrotask (so an iterator's taker can set handlers first). */
  readonly later: (callback: () => void) => void;
  /**
   * When the subscribers corked by publishes are written. Default {@link later}: once per
   * event-loop turn, however many socket reads the turn had. An in-memory adapter, whose
   * tests settle with promise jobs, passes a promise job.
   */
  readonly flushPublished?: (callback: () => void) => void;
}
