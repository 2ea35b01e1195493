/**
 * The `ErrorEvent` a `WebSocket` fires when its connection fails (HTML Standard, "The
 * ErrorEvent interface"): the runtime's own where it has one (browsers, Deno, Bun), else
 * a spec-shaped class with the same constructor and attributes. The WebSockets Standard
 * fires a plain `Event`; like undici and Deno, the facade fires an `ErrorEvent` (an
 * `Event` still) whose `message` and `error` say why.
 * @module
 */
import { lazyGlobalClass } from './lazy_global_class.ts';
import { applyInterfaceShape } from './webidl_interface.ts';
import { toDOMString } from './webidl.ts';

/** Init dictionary of {@link ErrorEventLike} (HTML Standard `ErrorEventInit`). */
export interface ErrorEventFields extends EventInit {
  message?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
  error?: unknown;
}

/** What an error event exposes: a message, where it happened (unused here), the error. */
export interface ErrorEventLike extends Event {
  readonly message: string;
  readonly filename: string;
  readonly lineno: number;
  readonly colno: number;
  readonly error: unknown;
}

/** The `ErrorEvent` constructor's shape. */
export type ErrorEventConstructor = new (type: string, init?: ErrorEventFields) => ErrorEventLike;

/** Web IDL `unsigned long`: the modulo conversion. */
function toUnsignedLong(value: unknown): number {
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) ? ((n % 2 ** 32) + 2 ** 32) % 2 ** 32 : 0;
}

/**
 * A spec-shaped `ErrorEvent` for runtimes without one (Node).
 *
 * @example
 * ```ts
 * const event = new ErrorEventPolyfill('error', { message: 'connect ECONNREFUSED 127.0.0.1:1', error });
 * event.message; // 'connect ECONNREFUSED 127.0.0.1:1'
 * ```
 */
export class ErrorEventPolyfill extends Event implements ErrorEventLike {
  readonly #message: string;
  readonly #filename: string;
  readonly #lineno: number;
  readonly #colno: number;
  readonly #error: unknown;

  constructor(type: string, init: ErrorEventFields = {}) {
    super(type, init);
    this.#message = init.message === undefined ? '' : toDOMString(init.message);
    this.#filename = init.filename === undefined ? '' : toDOMString(init.filename);
    this.#lineno = init.lineno === undefined ? 0 : toUnsignedLong(init.lineno);
    this.#colno = init.colno === undefined ? 0 : toUnsignedLong(init.colno);
    this.#error = init.error;
  }

  get message(): string {
    return this.#message;
  }

  get filename(): string {
    return this.#filename;
  }

  get lineno(): number {
    return this.#lineno;
  }

  get colno(): number {
    return this.#colno;
  }

  get error(): unknown {
    return this.#error;
  }
}

// Web IDL: attributes are enumerable accessors of the prototype; the class string is a data property.
applyInterfaceShape(ErrorEventPolyfill, 'ErrorEvent');

/** The runtime's `ErrorEvent`, or {@link ErrorEventPolyfill}, looked up on first use (see lazy_global_class.ts). */
export const ErrorEventImpl: ErrorEventConstructor = lazyGlobalClass('ErrorEvent', ErrorEventPolyfill);
