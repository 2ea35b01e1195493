// Small waiting helpers: bounded, so a broken test fails instead of hanging.
import { afterEach, beforeEach, expect } from 'vitest';
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

/**
 * For tests where peers misbehave: installs hooks so each test's cleanups run after it
 * (last first) and the test fails if an unhandled rejection or uncaught exception happened
 * meanwhile. Returns the list the file's tests push cleanups to.
 */
export function guardEachTest(): Array<() => unknown> {
  const cleanups: Array<() => unknown> = [];
  let crashes: unknown[] = [];
  const onCrash = (error: unknown): void => void crashes.push(error);
  beforeEach(() => {
    crashes = [];
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await delay(20);
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
    expect(crashes).toEqual([]);
  });
  return cleanups;
}
