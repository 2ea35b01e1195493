// Small waiting helpers: bounded, so a broken test fails instead of hanging.
import type { Message, WebSocketConnection } from '../../src/index.ts';

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function within<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `predicate` every 5 ms until it holds (or fails after `ms`). */
export async function until(predicate: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await delay(5);
  }
}

/** Collects a connection's messages; `next()` waits for the next one. */
export class Inbox {
  readonly messages: Message[] = [];
  #read = 0;
  #wake: (() => void) | null = null;

  constructor(connection: WebSocketConnection) {
    connection.onmessage = (data) => {
      this.messages.push(data);
      this.#wake?.();
    };
  }

  async next(ms = 5000): Promise<Message> {
    const deadline = Date.now() + ms;
    while (this.#read >= this.messages.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${ms} ms`);
      await within(new Promise<void>((resolve) => (this.#wake = resolve)), left, 'next message').catch(() => {});
      this.#wake = null;
    }
    return this.messages[this.#read++];
  }
}
