/**
 * A server's topics: who is subscribed to what, and publishing — a message framed once
 * (`prepareMessage`) and handed to every subscriber, each corked so that a burst of
 * publishes is one write per subscriber per turn, under the publish backpressure policy;
 * relayed to and from a {@link Backplane} when the server has one.
 * @module
 */
import { bytesOf, CloseCode, prepareMessage, type PreparedMessage } from '@wsflow/codec';
import { checkBackplane, type Backplane } from './backplane.ts';
import { checkPublishBackpressure, type PublishBackpressure, type ResolvedPublishBackpressure } from './publish_backpressure.ts';
import { countDropped, type ServerConnection } from './server_connection.ts';

/** What can be published: text as a string, binary as bytes. */
export type PublishData = string | ArrayBuffer | ArrayBufferView;

/** Options of one publish. */
export interface PublishOptions {
  /**
   * With permessage-deflate: `false` sends the message uncompressed, `true` compresses it
   * whatever its size. Default: compressed from the threshold up (as `send`'s).
   */
  compress?: boolean;
}

/** Options of a connection's publish. */
export interface ConnectionPublishOptions extends PublishOptions {
  /** Whether the publishing connection gets the message too, when subscribed. Default false. */
  includeSelf?: boolean;
}

/**
 * A server's publish counters (since it started).
 * @example
 * ```ts
 * const { published, delivered, skipped } = server.publishStats;
 * console.log(`${published} published, ${delivered} queued, ${skipped} skipped for slow subscribers`);
 * ```
 */
export interface PublishStats {
  /** Messages published on this server (`server.publish` and connections' `publish`). */
  readonly published: number;
  /** Messages that came from the backplane (published on another instance). */
  readonly received: number;
  /** Messages queued to a local subscriber (one per message and subscriber). */
  readonly delivered: number;
  /** Messages not queued to a subscriber that had reached the limit (policy `'skip'`). */
  readonly skipped: number;
  /** Subscribers closed with 1008 for having reached the limit (policy `'close'`). */
  readonly closed: number;
}

/** Where a topic hub takes its settings from (a server's options). */
export interface TopicSettings {
  /** Joins this server's topics with other instances'. Default: topics are local. */
  backplane?: Backplane;
  /** What publishing does for a subscriber that does not read. */
  publishBackpressure?: PublishBackpressure;
}

const PUBLISH_OPTION_NAMES = ['compress', 'includeSelf'];

/** Checks a topic name. @throws TypeError when it is not a string */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string') throw new TypeError(`a topic must be a string, got ${topic === null ? 'null' : typeof topic}`);
}

function checkPublishOptions(options: unknown, includeSelf: boolean): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw new TypeError('publish options must be an object');
  for (const [name, value] of Object.entries(options)) {
    if (!PUBLISH_OPTION_NAMES.includes(name) || (name === 'includeSelf' && !includeSelf)) throw new TypeError(`publish has no option "${name}"`);
    if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`publish option "${name}" must be a boolean`);
  }
}

function checkData(data: unknown): void {
  if (typeof data !== 'string' && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
    throw new TypeError('published data must be a string, an ArrayBuffer or an ArrayBufferView');
  }
}

/**
 * The topics of one server (or TestServer). Connections join and leave through their own
 * `subscribe`/`unsubscribe`; the server publishes through {@link publish}.
 *
 * @example
 * ```ts
 * const topics = new TopicHub({ publishBackpressure: { policy: 'close' } });
 * const conn = new ServerConnection(transport, { role: 'server' }, topics);
 * conn.subscribe('news');
 * topics.publish('news', 'extra!'); // 1
 * ```
 */
export class TopicHub {
  readonly #subscribers = new Map<string, Set<ServerConnection>>();
  readonly #backplane: Backplane | null;
  readonly #backpressure: ResolvedPublishBackpressure;
  readonly #stats = { published: 0, received: 0, delivered: 0, skipped: 0, closed: 0 };
  /** Subscribers corked this turn, uncorked together by {@link #flushLater}. */
  #corked: ServerConnection[] = [];
  readonly #flushLater: (callback: () => void) => void;
  #closed = false;

  /**
   * Starts the backplane, if there is one (its messages fan out here from now on).
   * @param flushLater when the corked subscribers are written: a server passes its
   *   runtime's next macrotask (one write per subscriber per event-loop turn, however many
   *   socket reads that turn had); default a microtask (one per read)
   * @throws TypeError/RangeError for an invalid `publishBackpressure` or `backplane`
   */
  constructor(settings: TopicSettings = {}, flushLater: (callback: () => void) => void = queueMicrotask) {
    this.#flushLater = flushLater;
    this.#backpressure = checkPublishBackpressure(settings.publishBackpressure);
    checkBackplane(settings.backplane);
    const backplane = settings.backplane ?? null;
    backplane?.start((topic, data) => this.#fromBackplane(topic, data));
    this.#backplane = backplane;
  }

  /** The counters of what was published (a snapshot). */
  get stats(): PublishStats {
    return { ...this.#stats };
  }

  /** How many local connections are subscribed to `topic`. @throws TypeError for a topic that is no string */
  subscriberCount(topic: string): number {
    checkTopic(topic);
    return this.#subscribers.get(topic)?.size ?? 0;
  }

  /** @internal `connection` subscribes (it keeps its own set too). */
  join(connection: ServerConnection, topic: string): void {
    let set = this.#subscribers.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#subscribers.set(topic, set);
      if (!this.#closed) this.#backplane?.subscribe(topic);
    }
    set.add(connection);
  }

  /** @internal `connection` unsubscribes. */
  leave(connection: ServerConnection, topic: string): void {
    const set = this.#subscribers.get(topic);
    if (set === undefined || !set.delete(connection) || set.size > 0) return;
    this.#subscribers.delete(topic);
    if (!this.#closed) this.#backplane?.unsubscribe(topic);
  }

  /**
   * Publishes `data` on `topic`: to every local subscriber but `sender` (unless
   * `includeSelf`), then to the backplane.
   * @returns the number of local subscribers the message was queued to
   * @throws TypeError for a topic that is no string, data that is neither a string, an
   *   `ArrayBuffer` nor an `ArrayBufferView`, or unknown/invalid options
   */
  publish(topic: string, data: PublishData, options?: ConnectionPublishOptions, sender: ServerConnection | null = null): number {
    checkTopic(topic);
    checkData(data);
    checkPublishOptions(options, sender !== null);
    this.#stats.published++;
    const queued = this.#fanOut(topic, data, options?.compress, sender !== null && options?.includeSelf === true ? null : sender);
    if (this.#backplane !== null && !this.#closed) this.#backplane.publish(topic, typeof data === 'string' ? data : bytesOf(data));
    return queued;
  }

  /** Stops relaying: the backplane is closed. Local topics go on working until the connections close. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#backplane?.close() ?? Promise.resolve();
  }

  /** A message another instance published: fanned out here only, never relayed again. */
  #fromBackplane(topic: string, data: string | Uint8Array): void {
    if (this.#closed || typeof topic !== 'string' || (typeof data !== 'string' && !(data instanceof Uint8Array))) return;
    this.#stats.received++;
    this.#fanOut(topic, data, undefined, null);
  }

  #fanOut(topic: string, data: PublishData, compress: boolean | undefined, except: ServerConnection | null): number {
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) return 0;
    let message: PreparedMessage | null = null;
    const { limit, policy } = this.#backpressure;
    const stats = this.#stats;
    let queued = 0;
    for (const connection of subscribers) {
      if (connection === except || connection.state !== 'open') continue;
      if (policy !== 'queue' && connection.bufferedAmount >= limit) {
        countDropped(connection);
        if (policy === 'skip') stats.skipped++;
        else {
          stats.closed++;
          connection.close({ closeCode: CloseCode.PolicyViolation, reason: 'subscriber not reading' });
        }
        continue;
      }
      message ??= prepareMessage(data, { compress });
      if (connection.cork()) {
        if (this.#corked.length === 0) this.#flushLater(() => this.#uncorkAll());
        this.#corked.push(connection);
      }
      if (connection.sendPrepared(message)) queued++;
    }
    stats.delivered += queued;
    return queued;
  }

  #uncorkAll(): void {
    const corked = this.#corked;
    this.#corked = [];
    for (const connection of corked) {
      try {
        connection.uncork();
      } catch (error) {
        // A transport that throws on write: that connection's failure, not the others'.
        console.error('wsflow: writing published messages failed:', error);
      }
    }
  }
}
