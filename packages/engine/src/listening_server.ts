/**
 * What a running server looks like on every runtime: a shim's `serve` returns a subclass
 * that adds its listener and says how to stop listening.
 * @module
 */
import type { CloseOptions, WebSocketConnection } from '@wsflow/codec';
import type { AcceptedConnection } from './connection_hub.ts';
import type { ServerEngine } from './server_engine.ts';

/** A listening WebSocket server, on any runtime. */
export interface WebSocketServerBase extends AsyncIterable<AcceptedConnection> {
  /** The port listened on. */
  readonly port: number;
  /** The URL clients connect to, e.g. `ws://127.0.0.1:41234/`. */
  readonly url: string;
  /** The open connections (handshake done, not yet closed). */
  readonly connections: ReadonlySet<WebSocketConnection>;
  /** Sockets accepted whose handshake is under way (at most `maxPendingHandshakes`). */
  readonly pendingHandshakes: number;
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

  get connections(): ReadonlySet<WebSocketConnection> {
    return this.#engine.connections;
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
