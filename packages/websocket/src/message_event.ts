/**
 * The `MessageEvent` a `WebSocket` fires (HTML Standard, "The MessageEvent interface"):
 * the runtime's own where it has one (every runtime wsflow targets does), else a minimal
 * spec-shaped class with `data`, `origin`, `lastEventId`, `source` and `ports`.
 * @module
 */
import type { EventInitFields } from './dom_dictionaries.ts';
import { lazyGlobalClass } from './lazy_global_class.ts';
import { applyInterfaceShape } from './webidl_interface.ts';

/** The fields a WebSocket message event carries. */
export interface MessageEventFields extends EventInitFields {
  data?: unknown;
  origin?: string;
  lastEventId?: string;
}

/** What a message event exposes. */
export interface MessageEventLike extends Event {
  readonly data: unknown;
  readonly origin: string;
  readonly lastEventId: string;
  readonly source: null | object;
  readonly ports: readonly unknown[];
}

/** The `MessageEvent` constructor's shape, as far as the facade uses it. */
export type MessageEventConstructor = new (type: string, init?: MessageEventFields) => MessageEventLike;

/**
 * A minimal `MessageEvent` for runtimes without one.
 *
 * @example
 * ```ts
 * new MessageEventPolyfill('message', { data: 'hi', origin: 'ws://example.test' }).data; // 'hi'
 * ```
 */
export class MessageEventPolyfill extends Event implements MessageEventLike {
  readonly #data: unknown;
  readonly #origin: string;
  readonly #lastEventId: string;

  constructor(type: string, init: MessageEventFields = {}) {
    super(type, init);
    this.#data = init.data ?? null;
    this.#origin = init.origin === undefined ? '' : String(init.origin);
    this.#lastEventId = init.lastEventId === undefined ? '' : String(init.lastEventId);
  }

  get data(): unknown {
    return this.#data;
  }

  get origin(): string {
    return this.#origin;
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  get source(): null {
    void this.#data; // the brand check: a TypeError on another object
    return null;
  }

  get ports(): readonly unknown[] {
    void this.#data; // the brand check: a TypeError on another object
    return Object.freeze([]);
  }

}

// Web IDL: attributes are enumerable accessors of the prototype; the class string is a data property.
applyInterfaceShape(MessageEventPolyfill, 'MessageEvent');

/** The runtime's `MessageEvent`, or {@link MessageEventPolyfill}, looked up on first use (see lazy_global_class.ts). */
export const MessageEventImpl: MessageEventConstructor = lazyGlobalClass('MessageEvent', MessageEventPolyfill);
