// What the peers (ws, undici, Python websockets) observe, keyed by connection id, so a test
// can wait for "the peer saw close 4001" without caring which process reported it.

export interface PeerEvent {
  id: string | null;
  event: string;
  [field: string]: unknown;
}

export class PeerEvents {
  readonly #events: PeerEvent[] = [];
  readonly #waiters: Array<{ id: string; event: string; resolve: (e: PeerEvent) => void }> = [];

  emit(id: string | null, event: string, fields: Record<string, unknown> = {}): void {
    const record: PeerEvent = { ...fields, id, event };
    const at = this.#waiters.findIndex((w) => w.id === id && w.event === event);
    if (at >= 0) {
      const [waiter] = this.#waiters.splice(at, 1);
      waiter.resolve(record);
      return;
    }
    this.#events.push(record);
  }

  /** The next event of that kind for that connection (consumed), waiting up to `ms`. */
  next(id: string, event: string, ms = 20_000): Promise<PeerEvent> {
    const at = this.#events.findIndex((e) => e.id === id && e.event === event);
    if (at >= 0) return Promise.resolve(this.#events.splice(at, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`peer ${id} did not report "${event}" within ${ms} ms`));
      }, ms);
      const waiter = {
        id,
        event,
        resolve: (e: PeerEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** The first of several kinds of event for that connection. */
  async first(id: string, events: string[], ms = 20_000): Promise<PeerEvent> {
    const found = this.#events.findIndex((e) => e.id === id && events.includes(e.event));
    if (found >= 0) return this.#events.splice(found, 1)[0];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer ${id} reported none of ${events.join(', ')} within ${ms} ms`)), ms);
      const waiters = events.map((event) => ({
        id,
        event,
        resolve: (e: PeerEvent) => {
          clearTimeout(timer);
          for (const w of waiters) {
            const i = this.#waiters.indexOf(w);
            if (i >= 0) this.#waiters.splice(i, 1);
          }
          resolve(e);
        },
      }));
      this.#waiters.push(...waiters);
    });
  }
}
