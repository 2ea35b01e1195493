/**
 * The backplane: how the topics of several server instances (processes, machines) become
 * one. An instance tells its backplane which topics it has subscribers for and relays what
 * is published on it; the backplane delivers, exactly once, what other instances published
 * on those topics. The in-process one is {@link LocalBackplane}; a networked one (Redis
 * pub/sub) implements the same interface.
 * @module
 */

/**
 * What a server needs of a backplane. The server calls `start` once when it starts,
 * `subscribe`/`unsubscribe` as the first local subscriber of a topic appears and the last
 * leaves, `publish` for every message published on it (by `server.publish` or a
 * connection's `publish`; never for a message that came from the backplane), and `close`
 * from `server.close()`.
 *
 * @example
 * ```ts
 * const hub = new LocalBackplane();
 * const a = await serve({ backplane: hub.join(), handler });
 * const b = await serve({ backplane: hub.join(), handler });
 * a.publish('news', 'hello'); // b's subscribers of "news" get it too
 * ```
 */
export interface Backplane {
  /** Called once by the server when it starts: `deliver` gets every message another instance published
   *  on a topic this instance subscribed to, exactly once (the backplane filters its own echoes). */
  start(deliver: (topic: string, data: string | Uint8Array) => void): void;
  /** The first local subscriber of `topic` appeared. */
  subscribe(topic: string): void;
  /** The last local subscriber of `topic` left. */
  unsubscribe(topic: string): void;
  /** Relays a message published here to the other instances. */
  publish(topic: string, data: string | Uint8Array): void;
  /** Stops relaying; called by `server.close()`. */
  close(): Promise<void>;
}

/**
 * Checks that `value` is a {@link Backplane} (every method there), or `undefined`.
 * @throws TypeError naming the option otherwise
 * @example
 * ```ts
 * checkBackplane(options.backplane);
 * ```
 */
export function checkBackplane(value: unknown): asserts value is Backplane | undefined {
  if (value === undefined) return;
  for (const name of ['start', 'subscribe', 'unsubscribe', 'publish', 'close']) {
    if (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)[name] !== 'function') {
      throw new TypeError('option "backplane" must implement Backplane (start, subscribe, unsubscribe, publish, close)');
    }
  }
}
