/**
 * The DOM dictionaries and callback types that the facade's public signatures name,
 * declared here by their shape: the declarations then type-check without the DOM lib
 * (Node's, Deno's and Bun's own types lack `EventInit`, `AddEventListenerOptions` and
 * `EventListenerOrEventListenerObject`), and the DOM's own values still fit them.
 * @module
 */

/** DOM `EventInit`. */
export interface EventInitFields {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

/** DOM `EventListenerOptions`. */
export interface ListenerOptions {
  capture?: boolean;
}

/** DOM `AddEventListenerOptions`. */
export interface AddListenerOptions extends ListenerOptions {
  once?: boolean;
  passive?: boolean;
  signal?: AbortSignal;
}

/** DOM `EventListenerOrEventListenerObject`: a function, or an object with `handleEvent`. */
export type Listener = ((event: Event) => void) | { handleEvent(event: Event): void };
