// Timers a test advances by hand: the codec takes its timers injected, so a timeout can be
// driven without waiting and without a fake-timer library (the tests also run on Deno and Bun).
import type { Timers } from '../src/connection.ts';

/** {@link Timers} whose clock moves only with `advance`; `pending` counts timers not yet fired or cleared. */
export interface ManualTimers extends Timers {
  /** Moves the clock `ms` forward, firing the timers due, in order. */
  advance(ms: number): void;
  /** Timers set and neither fired nor cleared. */
  readonly pending: number;
  /** Every delay ever asked for, in order. */
  readonly delays: number[];
}

export function manualTimers(): ManualTimers {
  let now = 0;
  let nextId = 1;
  const due = new Map<number, { at: number; callback: () => void }>();
  const delays: number[] = [];
  return {
    setTimeout(callback, ms) {
      const id = nextId++;
      delays.push(ms);
      due.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      due.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now || !due.has(id)) continue;
        due.delete(id);
        timer.callback();
      }
    },
    get pending() {
      return due.size;
    },
    delays,
  };
}
