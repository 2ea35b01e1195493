/**
 * The cursor behind every `next…()` wait of the test kit: each item of an append-only list
 * is handed out once, in order, to the caller or the waiter first in line; a wait times out
 * without taking the item that comes later; closing rejects the waiters but not the items
 * left.
 */
import { describe, expect, it } from 'vitest';
import { Cursor } from '../src/cursor.ts';
import { WaitTimeoutError, timeoutOf, testKitDefaults } from '../src/wait.ts';

const none = (ms: number): string => `nothing within ${ms} ms`;

describe('Cursor', () => {
  it('hands out items already appended, each once, in order', async () => {
    const items = ['a', 'b'];
    const cursor = new Cursor(items);
    expect(await cursor.next(50, none)).toBe('a');
    expect(await cursor.next(50, none)).toBe('b');
  });

  it('gives an item appended later to the waiters in the order they waited', async () => {
    const items: string[] = [];
    const cursor = new Cursor(items);
    const first = cursor.next(1000, none);
    const second = cursor.next(1000, none);
    items.push('a', 'b');
    cursor.added();
    cursor.added();
    expect(await first).toBe('a');
    expect(await second).toBe('b');
  });

  it('times out with the description, and the item that comes after goes to the next call', async () => {
    const items: string[] = [];
    const cursor = new Cursor(items);
    const late = cursor.next(10, none);
    await expect(late).rejects.toThrow(WaitTimeoutError);
    await expect(late).rejects.toThrow('nothing within 10 ms');
    items.push('a');
    cursor.added();
    expect(await cursor.next(50, none)).toBe('a');
  });

  it('once closed, rejects its waiters and calls past the end, but still hands out the items left', async () => {
    const items: string[] = [];
    const cursor = new Cursor(items);
    const waiting = cursor.next(1000, none);
    cursor.close(() => new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    items.push('left');
    expect(await cursor.next(50, none)).toBe('left');
    await expect(cursor.next(50, none)).rejects.toThrow('closed');
  });
});

describe('timeoutOf', () => {
  it("takes the wait's timeout, else the fallback, else the test kit's default", () => {
    expect(timeoutOf({ timeout: 100 }, 500)).toBe(100);
    expect(timeoutOf({}, 500)).toBe(500);
    expect(timeoutOf({})).toBe(testKitDefaults.timeout);
  });

  it('rejects a timeout that is not a positive number with a RangeError', () => {
    expect(() => timeoutOf({ timeout: 0 }, 500)).toThrow(RangeError);
  });
});
