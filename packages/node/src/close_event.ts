/**
 * The WHATWG `CloseEvent`: Node's global one where it exists (Node 23+), else a small
 * equivalent with the same `code`, `reason` and `wasClean`.
 * @module
 */

/** What a close event carries (WHATWG HTML, `CloseEventInit`). */
export interface CloseEventFields extends EventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

class CloseEventShim extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;

  constructor(type: string, init: CloseEventFields = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/**
 * The `CloseEvent` constructor used by {@link WebSocket}.
 *
 * @example
 * ```ts
 * new CloseEventImpl('close', { code: 1000, reason: 'bye', wasClean: true }).code; // 1000
 * ```
 */
export const CloseEventImpl: typeof CloseEvent =
  typeof globalThis.CloseEvent === 'function' ? globalThis.CloseEvent : (CloseEventShim as unknown as typeof CloseEvent);
