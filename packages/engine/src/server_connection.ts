/**
 * The connection a server hands its handler: the codec's {@link WebSocketConnection} plus
 * topics (publish/subscribe). Client connections carry no topic methods.
 * @module
 */
import { WebSocketConnection, type ByteTransport, type ConnectionOptions } from '@wsflow/codec';
import { checkTopic, type ConnectionPublishOptions, type PublishData, type TopicHub } from './topic_hub.ts';

const NO_TOPICS: ReadonlySet<string> = new Set<string>();

/** Counts a published message a connection missed (set in the class's static block). */
export let countDropped!: (connection: ServerConnection) => void;

/**
 * A server-side connection: everything of {@link WebSocketConnection}, and topics. A
 * connection subscribes to topics; a message published on a topic (by the server, or by a
 * connection) is framed once and queued to every subscriber. A closed connection leaves
 * all its topics.
 *
 * @example
 * ```ts
 * serve({
 *   handler: (conn, request) => {
 *     const room = new URL(request.url).searchParams.get('room') ?? 'lobby';
 *     conn.subscribe(room);
 *     conn.onmessage = (text) => conn.publish(room, text); // to everyone else in the room
 *   },
 * });
 * ```
 */
export class ServerConnection extends WebSocketConnection {
  static {
    countDropped = (connection) => void connection.#dropped++;
  }

  readonly #hub: TopicHub;
  #topics: Set<string> | null = null;
  #dropped = 0;

  /**
   * @param transport the bytes side, past the opening handshake
   * @param options the connection's options (role `'server'`)
   * @param topics the server's topics
   */
  constructor(transport: ByteTransport, options: ConnectionOptions, topics: TopicHub) {
    super(transport, options);
    this.#hub = topics;
  }

  /**
   * The topics this connection is subscribed to: a live, read-only view (empty once closed).
   * @example
   * ```ts
   * conn.subscribe('a');
   * [...conn.topics]; // ['a']
   * ```
   */
  get topics(): ReadonlySet<string> {
    return this.#topics ?? NO_TOPICS;
  }

  /**
   * Published messages this connection did not get because it had reached the server's
   * `publishBackpressure.limit` (skipped, or the one on which it was closed).
   */
  get droppedMessages(): number {
    return this.#dropped;
  }

  /**
   * Subscribes to `topic`: messages published on it are sent to this connection.
   * @returns whether it changed anything (false when subscribed already, or closed)
   * @throws TypeError for a topic that is not a string
   * @example
   * ```ts
   * conn.subscribe('prices/EURUSD'); // true
   * conn.subscribe('prices/EURUSD'); // false
   * ```
   */
  subscribe(topic: string): boolean {
    checkTopic(topic);
    if (this.state === 'closed') return false;
    const topics = (this.#topics ??= new Set());
    if (topics.has(topic)) return false;
    topics.add(topic);
    this.#hub.join(this, topic);
    return true;
  }

  /**
   * Unsubscribes from `topic`.
   * @returns whether it changed anything (false when not subscribed)
   * @throws TypeError for a topic that is not a string
   * @example
   * ```ts
   * conn.unsubscribe('prices/EURUSD');
   * ```
   */
  unsubscribe(topic: string): boolean {
    checkTopic(topic);
    const topics = this.#topics;
    if (topics === null || !topics.delete(topic)) return false;
    this.#hub.leave(this, topic);
    return true;
  }

  /**
   * Whether this connection is subscribed to `topic`.
   * @throws TypeError for a topic that is not a string
   * @example
   * ```ts
   * if (!conn.isSubscribed('news')) conn.subscribe('news');
   * ```
   */
  isSubscribed(topic: string): boolean {
    checkTopic(topic);
    return this.#topics?.has(topic) ?? false;
  }

  /**
   * Publishes `data` on `topic` (a string as text, anything binary as binary): to every
   * subscriber of this server but this connection (unless `includeSelf`), and through the
   * server's backplane to the other instances'. The message is framed once for all.
   * @returns the number of local subscribers the message was queued to
   * @throws TypeError for a topic that is not a string, data that is neither a string, an
   *   `ArrayBuffer` nor an `ArrayBufferView` (a Blob cannot be framed at once), or an unknown option
   * @example
   * ```ts
   * conn.onmessage = (text) => conn.publish('chat', text);                       // the others
   * conn.onmessage = (text) => conn.publish('chat', text, { includeSelf: true }); // everyone
   * ```
   */
  publish(topic: string, data: PublishData, options?: ConnectionPublishOptions): number {
    return this.#hub.publish(topic, data, options, this);
  }

  /** @internal The transport closed: the connection leaves its topics, then closes. */
  override transportClosed(error?: unknown): void {
    const topics = this.#topics;
    if (topics !== null) {
      this.#topics = null;
      for (const topic of topics) this.#hub.leave(this, topic);
    }
    super.transportClosed(error);
  }
}
