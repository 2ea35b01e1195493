/**
 * The in-process backplane: several servers (and TestServers) in one process share their
 * topics through one {@link LocalBackplane} hub. It is also the reference semantics a
 * networked backplane is tested against.
 * @module
 */
import type { Backplane } from './backplane.ts';

/** One server's place on a {@link LocalBackplane}. */
class LocalMember implements Backplane {
  readonly #hub: Set<LocalMember>;
  readonly topics = new Set<string>();
  deliver: ((topic: string, data: string | Uint8Array) => void) | null = null;
  #closed = false;

  constructor(hub: Set<LocalMember>) {
    this.#hub = hub;
    hub.add(this);
  }

  start(deliver: (topic: string, data: string | Uint8Array) => void): void {
    if (this.deliver !== null) throw new TypeError('this backplane member was started already: join() one per server');
    this.deliver = deliver;
  }

  subscribe(topic: string): void {
    if (!this.#closed) this.topics.add(topic);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }

  publish(topic: string, data: string | Uint8Array): void {
    if (this.#closed) return;
    // As a networked backplane would: the message is taken now, delivered later (in a
    // microtask, in publish order), to every other member subscribed then, never back here.
    const message = typeof data === 'string' ? data : data.slice();
    for (const member of this.#hub) {
      if (member === this || !member.topics.has(topic)) continue;
      queueMicrotask(() => member.#receive(topic, message));
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    this.topics.clear();
    this.#hub.delete(this);
    return Promise.resolve();
  }

  #receive(topic: string, data: string | Uint8Array): void {
    // Unsubscribed or closed meanwhile: the message is no longer this member's.
    if (this.#closed || !this.topics.has(topic)) return;
    this.deliver?.(topic, data);
  }
}

/**
 * A hub that joins servers in one process into one set of topics: give each server its own
 * `hub.join()` as its `backplane` option. A message published on one server reaches the
 * subscribers on every other server once (in a microtask, as a networked backplane would
 * deliver it later), never its own server twice.
 *
 * @example
 * ```ts
 * const hub = new LocalBackplane();
 * const left = await serve({ backplane: hub.join(), handler: (conn) => conn.subscribe('room') });
 * const right = await serve({ backplane: hub.join(), handler: (conn) => conn.subscribe('room') });
 * left.publish('room', 'to both servers\' subscribers');
 * ```
 */
export class LocalBackplane {
  readonly #members = new Set<LocalMember>();

  /** A new member for one server (each server needs its own). */
  join(): Backplane {
    return new LocalMember(this.#members);
  }

  /** How many members are joined and not closed. */
  get size(): number {
    return this.#members.size;
  }
}
