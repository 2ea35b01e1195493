/**
 * The cap on a server's concurrent pending opening handshakes, the same on every runtime:
 * a socket holds a slot from its accept (or its `upgrade` event, where the host server
 * reads requests) until the 101 is written or the socket closes. When every slot is taken,
 * the oldest pending handshake is evicted to make room, so stalled handshakes (slowloris)
 * can never lock legitimate clients out. Sans-I/O: the shim says how to drop a socket.
 * @module
 */

/** Default {@link PendingHandshakeSettings.maxPendingHandshakes}. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 1024;

/** The server setting capping pending handshakes (the same name and default on Node, Deno and Bun). */
export interface PendingHandshakeSettings {
  /**
   * The most opening handshakes under way at once: sockets accepted (with Node's `attach`,
   * upgrade requests received) whose 101 is not written yet. When a new one would exceed
   * it, the oldest pending handshake is dropped (reported to `onReject` with code
   * `EVICTED`, status 0; on Node only once its request head was read, as `onReject` needs
   * the request): a legitimate client completes its handshake within a round trip,
   * so it is the stalled ones (slowloris) that are evicted, and newcomers are never locked
   * out. Default 1024: far above what well-behaved clients keep pending (a server
   * accepting 10 000 connections a second with 50 ms handshakes holds about 500), while it
   * bounds what stalled handshakes hold to 1024 sockets and their partial request heads
   * (at most `maxHeadSize` each). A positive integer, or `Infinity` for no cap.
   */
  maxPendingHandshakes?: number;
}

/**
 * Checks a `maxPendingHandshakes` option: a positive integer or `Infinity`, or the default
 * when unset.
 * @throws {RangeError} for anything else
 * @example
 * ```ts
 * checkMaxPendingHandshakes(undefined); // 1024
 * checkMaxPendingHandshakes(0);         // throws RangeError
 * ```
 */
export function checkMaxPendingHandshakes(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_PENDING_HANDSHAKES;
  if (value === Infinity || (typeof value === 'number' && Number.isInteger(value) && value > 0)) return value;
  throw new RangeError(`maxPendingHandshakes must be a positive integer or Infinity, got ${String(value)}`);
}

/** One pending handshake's hold on a {@link HandshakeSlots} slot. */
export interface HandshakeSlot {
  /** Gives the slot back (the 101 was written, or the socket closed). Idempotent. */
  release(): void;
  /** Whether the slot was given back or evicted. */
  readonly released: boolean;
}

class Slot implements HandshakeSlot {
  readonly #owner: HandshakeSlots;
  readonly evict: () => void;
  released = false;

  constructor(owner: HandshakeSlots, evict: () => void) {
    this.#owner = owner;
    this.evict = evict;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    slotsRelease(this.#owner, this);
  }
}

let slotsRelease!: (owner: HandshakeSlots, slot: Slot) => void;

/**
 * The pending handshakes of one server, oldest first, at most `max`.
 *
 * @example
 * ```ts
 * const slots = new HandshakeSlots(checkMaxPendingHandshakes(options.maxPendingHandshakes));
 * // on accept:
 * const slot = slots.admit(() => socket.destroy()); // may evict the oldest pending socket
 * socket.once('close', () => slot.release());
 * // once the 101 is written:
 * slot.release();
 * ```
 */
export class HandshakeSlots {
  static {
    slotsRelease = (owner, slot) => owner.#slots.delete(slot);
  }

  /** The cap. */
  readonly max: number;
  /** In admission order (a `Set` iterates in insertion order): the first is the oldest. */
  readonly #slots = new Set<Slot>();
  #evicted = 0;

  /** @param max the cap: a positive integer or `Infinity` (see {@link checkMaxPendingHandshakes}) */
  constructor(max: number = DEFAULT_MAX_PENDING_HANDSHAKES) {
    this.max = checkMaxPendingHandshakes(max);
  }

  /** Pending handshakes now. */
  get size(): number {
    return this.#slots.size;
  }

  /** Pending handshakes evicted so far (for metrics). */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * Admits a new pending handshake. If the cap is reached, the oldest one is evicted
   * first: its slot is released and its `evict` called (synchronously; a throw from it is
   * swallowed, so admission always succeeds).
   * @param evict drops this handshake's socket, should it be evicted later
   */
  admit(evict: () => void): HandshakeSlot {
    while (this.#slots.size >= this.max) {
      const oldest = this.#slots.values().next().value as Slot;
      oldest.release();
      this.#evicted++;
      try {
        oldest.evict();
      } catch {
        /* dropping a socket must not stop the newcomer */
      }
    }
    const slot = new Slot(this, evict);
    this.#slots.add(slot);
    return slot;
  }
}
