/**
 * Event handler IDL attributes (`onopen`, `onmessage`, …) with the HTML Standard's
 * semantics ("Event handlers", §8.1.8.1), over any `EventTarget`.
 * @module
 */

/** The value an `on…` attribute holds: a callback, or null. */
export type EventHandlerValue<T, E extends Event> = ((this: T, event: E) => unknown) | null;

interface Slot {
  /** The event handler's value: null, or the object it was set to. */
  value: object | null;
  /** The event listener added for it, while the handler is active. */
  listener: ((event: Event) => void) | null;
}

/**
 * The event handlers of one `EventTarget`.
 *
 * - Setting a non-object (a string, a number, …) is treated as null, as Web IDL converts
 *   a `[LegacyTreatNonObjectAsNull]` callback; any object is kept, and one that is not
 *   callable is silently skipped when the event fires (Web IDL "invoke a callback
 *   function", step for non-callable values).
 * - The first non-null value adds one event listener at that moment; later values only
 *   replace what it calls, so the handler keeps its place among the listeners. Setting
 *   null removes the listener ("deactivate an event handler"); a later value adds it
 *   again, at the end.
 * - The handler is called with `this` set to the target; a return value of `false`
 *   cancels the event (HTML "the event handler processing algorithm", step 5).
 *
 * @example
 * ```ts
 * class Socket extends EventTarget {
 *   readonly #handlers = new EventHandlers(this);
 *   get onopen() { return this.#handlers.get('open'); }
 *   set onopen(value) { this.#handlers.set('open', value); }
 * }
 * ```
 */
export class EventHandlers {
  readonly #target: EventTarget;
  readonly #slots = new Map<string, Slot>();

  constructor(target: EventTarget) {
    this.#target = target;
  }

  /** The handler for `type`, or null. */
  get(type: string): object | null {
    return this.#slots.get(type)?.value ?? null;
  }

  /** Sets the handler for `type` (HTML "event handler IDL attribute" setter). */
  set(type: string, value: unknown): void {
    let slot = this.#slots.get(type);
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
      // Deactivate: value null, listener removed.
      if (slot !== undefined) {
        slot.value = null;
        if (slot.listener !== null) this.#target.removeEventListener(type, slot.listener);
        slot.listener = null;
      }
      return;
    }
    if (slot === undefined) {
      slot = { value: null, listener: null };
      this.#slots.set(type, slot);
    }
    slot.value = value;
    // Activate: add the listener the first time only.
    if (slot.listener === null) {
      const current = slot;
      const target = this.#target;
      current.listener = (event: Event): void => {
        const callback = current.value;
        if (typeof callback !== 'function') return;
        const result: unknown = (callback as (this: EventTarget, event: Event) => unknown).call(target, event);
        if (result === false) event.preventDefault();
      };
      target.addEventListener(type, current.listener);
    }
  }
}
