/**
 * The `CloseEvent` a `WebSocket` fires (WebSockets Standard, "The CloseEvent interface"):
 * the runtime's own where it has one (browsers, Node 23+, Deno, Bun), else a spec-shaped
 * class with the same constructor and attributes.
 * @module
 */
import type { EventInitFields } from './dom_dictionaries.ts';
import { lazyGlobalClass } from './lazy_global_class.ts';
import { applyInterfaceShape } from './webidl_interface.ts';
import { toUSVString } from './webidl.ts';

/** Init dictionary of {@link CloseEvent} (WebSockets Standard `CloseEventInit`). */
export interface CloseEventFields extends EventInitFields {
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/** What a close event exposes: whether the closing handshake completed, the code, the reason. */
export interface CloseEventLike extends Event {
  readonly wasClean: boolean;
  readonly code: number;
  readonly reason: string;
}

/** The `CloseEvent` constructor's shape. */
export type CloseEventConstructor = new (type: string, init?: CloseEventFields) => CloseEventLike;

/**
 * A spec-shaped `CloseEvent` for runtimes without one.
 *
 * @example
 * ```ts
 * const event = new CloseEventPolyfill('close', { wasClean: true, code: 1000, reason: 'done' });
 * event.code; // 1000
 * ```
 */
export class CloseEventPolyfill extends Event implements CloseEventLike {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, init: CloseEventFields = {}) {
    super(type, init);
    this.#wasClean = Boolean(init.wasClean);
    // `unsigned short code = 0`: the modulo conversion of Web IDL.
    this.#code = init.code === undefined ? 0 : ((Math.trunc(Number(init.code)) % 0x10000) + 0x10000) % 0x10000 || 0;
    this.#reason = init.reason === undefined ? '' : toUSVString(init.reason);
  }

  get wasClean(): boolean {
    return this.#wasClean;
  }

  get code(): number {
    return this.#code;
  }

  get reason(): string {
    return this.#reason;
  }

}

// Web IDL: attributes are enumerable accessors of the prototype; the class string is a data property.
applyInterfaceShape(CloseEventPolyfill, 'CloseEvent');

/** The runtime's `CloseEvent`, or {@link CloseEventPolyfill}, looked up on first use (see lazy_global_class.ts). */
export const CloseEventImpl: CloseEventConstructor = lazyGlobalClass('CloseEvent', CloseEventPolyfill);
