// Collects what one of OUR connections receives (messages, pings, pongs), from the moment
// it exists, so a test never misses an early message.
import type { Message, WebSocketConnection } from '@wsflow/codec';

class Queue<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<(item: T) => void> = [];
  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.#items.push(item);
  }
  next(what: string, ms: number): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      const waiter = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      this.#waiters.push(waiter);
    });
  }
  get size(): number {
    return this.#items.length;
  }
}

export class Inbox {
  readonly messages = new Queue<Message>();
  readonly pings = new Queue<string>();
  readonly pongs = new Queue<string>();
  readonly errors: Error[] = [];

  constructor(conn: WebSocketConnection) {
    conn.onmessage = (data) => this.messages.push(data);
    conn.onping = (payload) => this.pings.push(Buffer.from(payload).toString('utf8'));
    conn.onpong = (payload) => this.pongs.push(Buffer.from(payload).toString('utf8'));
    conn.onerror = (error) => this.errors.push(error);
  }

  next(ms = 20_000): Promise<Message> {
    return this.messages.next('message', ms);
  }
}
