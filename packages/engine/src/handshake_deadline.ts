/**
 * The budget of an opening handshake: a timeout on injected timers, an outer abort signal
 * (the caller's, or a server's shutdown) and any other reason to stop (the peer left),
 * merged into one stop reason that the async steps of the handshake race against.
 * @module
 */
import type { Timers } from '@wsflow/codec';

/** How a promise raced against a {@link HandshakeDeadline} came out. */
export type DeadlineOutcome<T, R> = { value: T } | { error: unknown } | { stopped: R };

/** Options of the {@link HandshakeDeadline} constructor. */
export interface HandshakeDeadlineOptions<R> {
  /**
   * Milliseconds until the deadline stops with `timeoutReason()` (already checked: positive,
   * finite). Without it (or without `timers`), only the signal and {@link HandshakeDeadline.stop} stop it.
   */
  timeout?: number;
  /** The runtime's timers (the codec touches no timer global). */
  timers?: Timers;
  /** The reason to stop with when the timeout expires. */
  timeoutReason?: () => R;
  /** An outer signal: once it aborts (or if it already has), the deadline stops with `abortReason(signal)`. */
  signal?: AbortSignal;
  /** The reason to stop with when `signal` aborts. */
  abortReason?: (signal: AbortSignal) => R;
}

/**
 * One handshake's deadline. The first of the timeout, the outer signal and {@link stop}
 * stops it: {@link signal} aborts with that reason (so a shim can close its socket, and a
 * dial can pass it on), and every {@link settle}/{@link run} under way ends at once.
 * {@link dispose} clears the timer and detaches from the outer signal once the handshake
 * is over either way.
 *
 * Servers use {@link HandshakeDeadline.forServer} (reasons are stable codes for
 * `onReject`), clients {@link HandshakeDeadline.forClient} (reasons are the errors the
 * handshake rejects with).
 *
 * @example
 * ```ts
 * const deadline = HandshakeDeadline.forClient(5000, timers, options.signal);
 * deadline.signal.addEventListener('abort', () => socket.destroy());
 * try {
 *   return await deadline.run(handshake());
 * } finally {
 *   deadline.dispose();
 * }
 * ```
 */
export class HandshakeDeadline<R = unknown> {
  // The signal is made on first use: a server handshake without an authorize hook never
  // needs one, and an AbortController with its listeners is most of a deadline's cost.
  #controller: AbortController | undefined = undefined;
  /** What {@link settle} waits on besides its promise: called once when the deadline stops. */
  #waiters: Set<() => void> | undefined = undefined;
  readonly #timers: Timers | undefined;
  #handle: unknown;
  #stopped = false;
  #reason: R | undefined;
  #outer: AbortSignal | undefined;
  #onOuterAbort: (() => void) | undefined;

  constructor(options: HandshakeDeadlineOptions<R>) {
    this.#timers = options.timers;
    const { signal, abortReason } = options;
    if (signal !== undefined && abortReason !== undefined) {
      if (signal.aborted) {
        this.stop(abortReason(signal));
        return;
      }
      this.#outer = signal;
      this.#onOuterAbort = () => this.stop(abortReason(signal));
      signal.addEventListener('abort', this.#onOuterAbort, { once: true });
    }
    const { timeout, timeoutReason } = options;
    if (this.#timers !== undefined && timeout !== undefined && timeoutReason !== undefined) {
      this.#handle = this.#timers.setTimeout(() => this.stop(timeoutReason()), timeout);
    }
  }

  /**
   * A server handshake's deadline: stops with `'TIMEOUT'` after `timeout` ms and with
   * `'SHUTTING_DOWN'` when `shutdown` aborts; a shim stops it with other codes
   * (`'SOCKET_CLOSED'` when the peer leaves).
   * @example
   * ```ts
   * const deadline = HandshakeDeadline.forServer(10_000, timers, shutdown.signal);
   * ```
   */
  static forServer(timeout: number, timers: Timers, shutdown?: AbortSignal): HandshakeDeadline<string> {
    return new HandshakeDeadline<string>({ timeout, timers, timeoutReason: () => 'TIMEOUT', signal: shutdown, abortReason: () => 'SHUTTING_DOWN' });
  }

  /**
   * A client handshake's deadline: stops with a `TimeoutError` `DOMException` after
   * `timeout` ms, and with the reason of `signal` (or an `AbortError`) when it aborts.
   * @example
   * ```ts
   * const deadline = HandshakeDeadline.forClient(options.handshakeTimeout ?? 10_000, timers, options.signal);
   * ```
   */
  static forClient(timeout: number, timers: Timers, signal?: AbortSignal): HandshakeDeadline<unknown> {
    return new HandshakeDeadline<unknown>({
      timeout,
      timers,
      timeoutReason: () => new DOMException(`The opening handshake did not complete within ${timeout} ms`, 'TimeoutError'),
      signal,
      abortReason: (aborted) => aborted.reason ?? new DOMException('The opening handshake was aborted', 'AbortError'),
    });
  }

  /** Aborts, with the stop reason, when the deadline stops (already aborted if it has). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#stopped) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Whether the deadline stopped. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Why it stopped; `undefined` while it has not. */
  get reason(): R | undefined {
    return this.#reason;
  }

  /** Stops the deadline with `reason`, unless it stopped already (the first reason wins). */
  stop(reason: R): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reason = reason;
    this.dispose();
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters !== undefined) for (const wake of waiters) wake();
    this.#controller?.abort(reason);
  }

  /**
   * Settles with `promise`'s value or error, or with `{ stopped }` as soon as the deadline
   * stops first (at once if it has). Never rejects; `promise`'s later outcome is ignored.
   */
  settle<T>(promise: PromiseLike<T>): Promise<DeadlineOutcome<T, R>> {
    const settled = Promise.resolve(promise).then(
      (value): DeadlineOutcome<T, R> => ({ value }),
      (error: unknown): DeadlineOutcome<T, R> => ({ error }),
    );
    if (this.#stopped) return Promise.resolve({ stopped: this.#reason as R });
    return new Promise((resolve) => {
      const onStop = (): void => resolve({ stopped: this.#reason as R });
      (this.#waiters ??= new Set()).add(onStop);
      void settled.then((outcome) => {
        this.#waiters?.delete(onStop);
        resolve(outcome);
      });
    });
  }

  /**
   * Resolves with `promise`'s value; rejects with its error, or with the stop reason as soon
   * as the deadline stops first.
   */
  async run<T>(promise: PromiseLike<T>): Promise<T> {
    const outcome = await this.settle(promise);
    if ('value' in outcome) return outcome.value;
    throw 'error' in outcome ? outcome.error : outcome.stopped;
  }

  /**
   * Runs a handshake that opens resources (sockets) under this deadline, then disposes it.
   * `handshake` hands each resource to `track` as soon as it exists; they are all closed
   * with `close` when the deadline stops (a resource tracked afterwards at once) or the
   * handshake fails, and left open when it succeeds. Check {@link signal} after each await
   * (`deadline.signal.throwIfAborted()`) and pass it to dials that take one.
   *
   * @returns the handshake's value
   * @throws the handshake's error, or the stop reason when the deadline stopped first
   * @example
   * ```ts
   * return HandshakeDeadline.forClient(timeout, timers, signal).guard(
   *   (socket: Socket) => socket.destroy(),
   *   async (track) => {
   *     const socket = await dial(host, port, track);
   *     return handshakeOver(socket);
   *   },
   * );
   * ```
   */
  async guard<T, S>(close: (resource: S) => void, handshake: (track: (resource: S) => void) => Promise<T>): Promise<T> {
    const resources: S[] = [];
    let failed = false;
    const closeAll = (): void => {
      for (const resource of resources.splice(0)) close(resource);
    };
    this.signal.addEventListener('abort', closeAll, { once: true });
    const track = (resource: S): void => {
      if (this.#stopped || failed) close(resource);
      else resources.push(resource);
    };
    try {
      return await this.run(handshake(track));
    } catch (error) {
      failed = true;
      closeAll();
      throw error;
    } finally {
      this.signal.removeEventListener('abort', closeAll);
      this.dispose();
    }
  }

  /** Clears the timer and detaches from the outer signal (without stopping). Idempotent. */
  dispose(): void {
    if (this.#handle !== undefined) {
      this.#timers?.clearTimeout(this.#handle);
      this.#handle = undefined;
    }
    if (this.#onOuterAbort !== undefined) {
      this.#outer?.removeEventListener('abort', this.#onOuterAbort);
      this.#onOuterAbort = undefined;
      this.#outer = undefined;
    }
  }
}
