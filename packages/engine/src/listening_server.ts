/**
 * What a running server looks like on every runtime: a shim's `serve` returns a subclass
 * that adds its listener and says how to stop listening.
 * @module
 */
import type { CloseOptions } from '@wsflow/codec';
import type { AcceptedConnection } from './connection_hub.ts';
import type { ServerConnection } from './server_connection.ts';
import type { ServerEngine } from './server_engine.ts';
import type { PublishData, PublishOptions, PublishStats } from './topic_hub.ts';

/** A listening WebSocket server, on any runtime. */
export interface WebSocketServerBase extends AsyncIterable<AcceptedConnection> {
  /** The port listened on. */
  readonly port: number;
  /** The URL clients connect to, e.g. `ws://127.0.0.1:41234/`. */
  readonly url: string;
  /** The open connections (handshake done, not yet closed). */
  readonly connections: ReadonlySet<ServerConnection>;
  /** Sockets accepted whose handshake is under way (at most `maxPendingHandshakes`). */
  readonly pendingHandshakes: number;
  /**
   * Publishes `data` on `topic` (a string as text, anything binary as binary), framed once,
   * to every subscriber on this server, and through the `backplane` to the other
   * instances'. Subscribers that do not read are handled by `publishBackpressure`.
   * @returns the number of local subscribers the message was queued to (those skipped or
   *   closed by `publishBackpressure` and those closing are not counted; nor are the other
   *   instances')
   * @throws TypeError for a topic that is not a string, data that is neither a string, an
   *   `ArrayBuffer` nor an `ArrayBufferView`, or an unknown option
   * @example
   * ```ts
   * const server = await serve({ handler: (conn) => void conn.subscribe('time') });
   * setInterval(() => server.publish('time', new Date().toISOString()), 1000);
   * ```
   */
  publish(topic: string, data: PublishData, options?: PublishOptions): number;
  /**
   * How many connections of this server are subscribed to `topic` (other instances'
   * subscribers are not counted).
   * @throws TypeError for a topic that is not a string
   * @example
   * ```ts
   * if (server.subscriberCount('time') === 0) stopTheClock();
   * ```
   */
  subscriberCount(topic: string): number;
  /**
   * What was published since the server started: messages `published` here and `received`
   * from the backplane, and per subscriber: `delivered` (queued), `skipped` and `closed`
   * by `publishBackpressure`. A snapshot.
   * @example
   * ```ts
   * const { delivered, skipped } = server.publishStats;
   * ```
   */
  readonly publishStats: PublishStats;
  /**
   * Stops listening, drops handshakes under way, closes every connection gracefully
   * (default 1001 Going Away) and resolves once all are closed (each within its
   * `closeTimeout`).
   * @throws RangeError for a close code that may not be sent (before closing anything)
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * The part of every runtime's server that only delegates to its {@link ServerEngine}.
 * @example
 * ```ts
 * class DenoServer extends ListeningServer {
 *   get port() { return this.listener.addr.port; }
 *   protected stopListening(closed) { this.listener.close(); return closed; }
 * }
 * ```
 */
export abstract class ListeningServer implements WebSocketServerBase {
  readonly url: string;
  readonly #engine: ServerEngine;
  #closing: Promise<void> | null = null;

  protected constructor(engine: ServerEngine, url: string) {
    this.#engine = engine;
    this.url = url;
  }

  abstract get port(): number;

  get connections(): ReadonlySet<ServerConnection> {
    return this.#engine.connections;
  }

  publish(topic: string, data: PublishData, options?: PublishOptions): number {
    return this.#engine.publish(topic, data, options);
  }

  subscriberCount(topic: string): number {
    return this.#engine.subscriberCount(topic);
  }

  get publishStats(): PublishStats {
    return this.#engine.publishStats;
  }

  get pendingHandshakes(): number {
    return this.#engine.pendingHandshakes;
  }

  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection> {
    return this.#engine[Symbol.asyncIterator]();
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const closed = this.#engine.close(options); // throws first for a bad close code
    const closing = this.stopListening(closed);
    this.#closing = closing;
    return closing;
  }

  /**
   * Stops accepting at once, and resolves once `closed` (every connection closed) has and
   * whatever still lingers (refused sockets, `fetch` answers) is gone.
   */
  protected abstract stopListening(closed: Promise<void>): Promise<void>;
}
