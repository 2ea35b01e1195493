/**
 * For tests where peers misbehave: each test's cleanups run after it (last first), and the
 * test fails if an unhandled rejection or uncaught exception happened meanwhile — peer
 * behaviour must never produce one. Plus the waiting helpers those tests share.
 */
import { afterEach, beforeEach, expect } from 'vitest';

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds. @throws naming `what` after `ms` */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await delay(5);
  }
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Installs the hooks for the calling test file; returns the list its tests push cleanups to. */
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
