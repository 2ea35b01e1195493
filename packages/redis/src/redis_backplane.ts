/**
 * `RedisBackplane`: a wsflow {@link Backplane} over Redis pub/sub, so that a message
 * published on a topic in one server process reaches that topic's subscribers in every
 * other process (or machine) connected to the same Redis.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { checkKnownOptions } from '@wsflow/engine';
import { createClient } from 'redis';
import type { Backplane } from '@wsflow/engine';
import { decodeFrame, encodeFrame, newInstanceId, sameInstance } from './frame.ts';

/** A pub/sub message listener in node-redis's buffer mode. */
type BufferListener = (message: Buffer, channel: Buffer) => void;

/**
 * The part of a node-redis client (`createClient()`) or cluster (`createCluster()`) the
 * backplane uses. Pass yours as `client`: it is used only as a template for `duplicate()`.
 */
export interface RedisClientLike {
  duplicate(): RedisClientLike;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  readonly isReady: boolean;
  publish(channel: string, message: Buffer): Promise<unknown>;
  sPublish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>;
  sSubscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>;
  unsubscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>;
  sUnsubscribe(channel: string, listener: BufferListener, bufferMode: true): Promise<unknown>;
}

/** Options of {@link RedisBackplane}. Give exactly one of `url` and `client`. */
export interface RedisBackplaneOptions {
  /** The Redis server, e.g. `redis://127.0.0.1:6379` (`rediss://` for TLS). */
  url?: string;
  /**
   * A node-redis client or cluster (`createClient(...)`, `createCluster(...)`), connected or
   * not, used as a template: the backplane opens its own two connections with `duplicate()`
   * (so they keep its socket, TLS, auth and reconnect settings) and never touches this one.
   */
  client?: RedisClientLike;
  /** Prepended to a topic to make its Redis channel name. Default `"wsflow:"`. */
  channelPrefix?: string;
  /**
   * Use sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7+): on a Redis Cluster a channel
   * lives on the shard that owns its hash slot instead of being broadcast to every node.
   * Works on a standalone server too. Default `false` (`PUBLISH`/`SUBSCRIBE`).
   */
  sharded?: boolean;
  /**
   * Publishes sent to Redis and not yet acknowledged, at most; a publish past this is
   * dropped and counted (Redis slower than the publishers). Default 10 000.
   */
  maxPendingPublishes?: number;
  /** Milliseconds before the first reconnection attempt (doubling each time). Default 50. With `url` only. */
  minReconnectDelay?: number;
  /** The longest wait between reconnection attempts, in milliseconds. Default 2 000. With `url` only. */
  maxReconnectDelay?: number;
  /**
   * Told of every error: a lost or refused Redis connection (once per attempt), a failed
   * publish or subscription, a throw from the server's `deliver` callback, a message on the
   * channel that is no wsflow frame. Never thrown. Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

/** What a {@link RedisBackplane} has done so far. */
export interface RedisBackplaneStats {
  /** Messages published here that Redis acknowledged. */
  published: number;
  /** Messages from other instances handed to the server (own echoes are not counted). */
  received: number;
  /** Messages published here that were not relayed: Redis unreachable, too many pending, or the publish failed. */
  dropped: number;
}

const OPTION_NAMES = ['url', 'client', 'channelPrefix', 'sharded', 'maxPendingPublishes', 'minReconnectDelay', 'maxReconnectDelay', 'onError'];

function checkDelay(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`RedisBackplane: option "${name}" must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * A {@link Backplane} over Redis pub/sub. Give it to a server's `backplane` option; the
 * server starts it, tells it which topics have local subscribers, and closes it.
 *
 * Guarantees: **at-most-once** delivery; messages from one publisher on one topic arrive
 * in the order they were published (one connection, one channel); a message published by
 * this instance is never delivered back to it. While Redis is unreachable, publishes are
 * dropped at once and counted in `stats.dropped` (no queue: nothing stale is replayed
 * later), and the connections retry with exponential backoff; once Redis answers again,
 * every topic that still has local subscribers is subscribed again and messages flow.
 * Messages published elsewhere while this instance was disconnected are lost.
 *
 * @throws TypeError for an unknown option, neither or both of `url`/`client`, or a non-string prefix
 * @throws RangeError for a negative or non-finite number
 * @example
 * ```ts
 * import { RedisBackplane } from '@wsflow/redis';
 *
 * const backplane = new RedisBackplane({ url: 'redis://127.0.0.1:6379', channelPrefix: 'chat:' });
 * backplane.start((topic, data) => console.log('from another instance:', topic, data));
 * backplane.subscribe('room-1');
 * await backplane.ready();
 * backplane.publish('room-1', 'hello');
 * console.log(backplane.stats); // { published, received, dropped }
 * await backplane.close();
 * ```
 */
export class RedisBackplane implements Backplane {
  /** This instance's id on the wire (16 random bytes). */
  readonly instanceId: Uint8Array = newInstanceId();
  readonly #prefix: string;
  readonly #sharded: boolean;
  readonly #maxPending: number;
  readonly #onError: (error: unknown) => void;
  readonly #publisher: RedisClientLike;
  readonly #subscriber: RedisClientLike;
  /** The topics subscribed in Redis, each with its listener. */
  readonly #listeners = new Map<string, BufferListener>();
  /** Subscription changes not yet acknowledged. */
  readonly #settling = new Set<Promise<void>>();
  readonly #stats: RedisBackplaneStats = { published: 0, received: 0, dropped: 0 };
  #deliver: ((topic: string, data: string | Uint8Array) => void) | undefined;
  #connected: Promise<void> | undefined;
  #pending = 0;
  #closed: Promise<void> | undefined;

  constructor(options: RedisBackplaneOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RedisBackplane: options must be an object');
    checkKnownOptions('RedisBackplane', options, OPTION_NAMES);
    const { url, client, channelPrefix = 'wsflow:', sharded = false, maxPendingPublishes = 10_000, onError } = options;
    if ((url === undefined) === (client === undefined)) throw new TypeError('RedisBackplane: give exactly one of the options "url" and "client"');
    if (url !== undefined && typeof url !== 'string') throw new TypeError('RedisBackplane: option "url" must be a string');
    if (client !== undefined && (client === null || typeof client.duplicate !== 'function')) {
      throw new TypeError('RedisBackplane: option "client" must be a node-redis client or cluster');
    }
    if (typeof channelPrefix !== 'string') throw new TypeError('RedisBackplane: option "channelPrefix" must be a string');
    if (typeof sharded !== 'boolean') throw new TypeError('RedisBackplane: option "sharded" must be a boolean');
    if (!Number.isSafeInteger(maxPendingPublishes) || maxPendingPublishes < 1) {
      throw new RangeError(`RedisBackplane: option "maxPendingPublishes" must be an integer >= 1, got ${String(maxPendingPublishes)}`);
    }
    if (onError !== undefined && typeof onError !== 'function') throw new TypeError('RedisBackplane: option "onError" must be a function');
    const minDelay = checkDelay('minReconnectDelay', options.minReconnectDelay ?? 50);
    const maxDelay = checkDelay('maxReconnectDelay', options.maxReconnectDelay ?? 2_000);
    this.#prefix = channelPrefix;
    this.#sharded = sharded;
    this.#maxPending = maxPendingPublishes;
    this.#onError = onError ?? ((error) => console.error('wsflow/redis:', error));
    if (client !== undefined) {
      this.#publisher = client.duplicate();
      this.#subscriber = client.duplicate();
    } else {
      // Exponential backoff with a little jitter, so that many instances do not retry in step.
      const reconnectStrategy = (retries: number): number => Math.min(maxDelay, minDelay * 2 ** Math.min(retries, 20)) * (0.8 + Math.random() * 0.4);
      // The publisher refuses commands while disconnected (a publish is dropped, not queued);
      // the subscriber keeps its offline queue: subscriptions are state, replayed on reconnect.
      this.#publisher = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy } }) as unknown as RedisClientLike;
      this.#subscriber = createClient({ url, socket: { reconnectStrategy } }) as unknown as RedisClientLike;
    }
    // An 'error' event without a listener would crash the process: every one goes to onError.
    this.#publisher.on('error', (error) => this.#report(error));
    this.#subscriber.on('error', (error) => this.#report(error));
  }

  /** Counters so far (a snapshot). */
  get stats(): RedisBackplaneStats {
    return { ...this.#stats };
  }

  /** The topics this instance is subscribed to in Redis. */
  get topics(): string[] {
    return [...this.#listeners.keys()];
  }

  /** The Redis channel of `topic`. */
  channelOf(topic: string): string {
    return this.#prefix + topic;
  }

  start(deliver: (topic: string, data: string | Uint8Array) => void): void {
    if (typeof deliver !== 'function') throw new TypeError('RedisBackplane.start: deliver must be a function');
    if (this.#deliver !== undefined) throw new TypeError('RedisBackplane.start: already started');
    if (this.#closed !== undefined) throw new TypeError('RedisBackplane.start: closed');
    this.#deliver = deliver;
    this.#connected = Promise.all([this.#publisher.connect(), this.#subscriber.connect()]).then(
      () => undefined,
      (error) => {
        this.#report(error);
        throw error;
      },
    );
    this.#connected.catch(() => {});
  }

  subscribe(topic: string): void {
    this.#checkTopic('subscribe', topic);
    if (this.#closed !== undefined || this.#listeners.has(topic)) return;
    const listener: BufferListener = (message) => this.#receive(topic, message);
    this.#listeners.set(topic, listener);
    const channel = this.channelOf(topic);
    this.#settle((sub) => (this.#sharded ? sub.sSubscribe(channel, listener, true) : sub.subscribe(channel, listener, true)));
  }

  unsubscribe(topic: string): void {
    this.#checkTopic('unsubscribe', topic);
    const listener = this.#listeners.get(topic);
    if (listener === undefined || this.#closed !== undefined) return;
    this.#listeners.delete(topic);
    const channel = this.channelOf(topic);
    this.#settle((sub) => (this.#sharded ? sub.sUnsubscribe(channel, listener, true) : sub.unsubscribe(channel, listener, true)));
  }

  publish(topic: string, data: string | Uint8Array): void {
    this.#checkTopic('publish', topic);
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError('RedisBackplane.publish: data must be a string or a Uint8Array');
    if (this.#closed !== undefined || !this.#publisher.isReady || this.#pending >= this.#maxPending) {
      this.#stats.dropped++;
      return;
    }
    const frame = encodeFrame(this.instanceId, data);
    const channel = this.channelOf(topic);
    this.#pending++;
    (this.#sharded ? this.#publisher.sPublish(channel, frame) : this.#publisher.publish(channel, frame)).then(
      () => {
        this.#pending--;
        this.#stats.published++;
      },
      (error) => {
        this.#pending--;
        this.#stats.dropped++;
        this.#report(error);
      },
    );
  }

  /**
   * Resolves once both Redis connections are up and every subscribe/unsubscribe asked so
   * far has been acknowledged by Redis (while Redis is down: once it is back).
   * @throws the connection error when the first connection failed for good
   */
  async ready(): Promise<void> {
    if (this.#connected === undefined) throw new TypeError('RedisBackplane.ready: not started');
    await this.#connected;
    while (this.#settling.size > 0) await Promise.all(this.#settling);
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#listeners.clear();
    if (this.#connected === undefined) return;
    try {
      await this.#connected;
    } catch {
      // Never connected: nothing to say goodbye to.
    }
    await Promise.allSettled(this.#settling);
    for (const client of [this.#publisher, this.#subscriber]) {
      // QUIT when connected (waits for pending replies); otherwise stop reconnecting at once.
      if (client.isReady) {
        await client.close().catch(() => client.destroy());
      } else {
        try {
          client.destroy();
        } catch {
          // already closed
        }
      }
    }
  }

  #settle(change: (subscriber: RedisClientLike) => Promise<unknown>): void {
    const connected = this.#connected ?? Promise.reject(new TypeError('RedisBackplane: subscribe before start'));
    const done: Promise<void> = connected
      .then(() => change(this.#subscriber))
      .then(
        () => {},
        (error) => this.#report(error),
      )
      .finally(() => this.#settling.delete(done));
    this.#settling.add(done);
  }

  #receive(topic: string, message: Buffer): void {
    const frame = decodeFrame(message);
    if (frame === undefined) {
      this.#report(new TypeError(`RedisBackplane: a message on channel ${JSON.stringify(this.channelOf(topic))} is no wsflow frame; ignored`));
      return;
    }
    if (sameInstance(frame.instance, this.instanceId)) return;
    if (this.#closed !== undefined || !this.#listeners.has(topic)) return;
    this.#stats.received++;
    try {
      this.#deliver!(topic, frame.data);
    } catch (error) {
      this.#report(error);
    }
  }

  #checkTopic(where: string, topic: string): void {
    if (typeof topic !== 'string') throw new TypeError(`RedisBackplane.${where}: topic must be a string`);
  }

  #report(error: unknown): void {
    try {
      this.#onError(error);
    } catch (thrown) {
      console.error('wsflow/redis: onError threw:', thrown);
    }
  }
}
