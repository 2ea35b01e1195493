// The cap on pending opening handshakes every server shim applies: a socket holds a slot
// from accept until its 101 (or its close); a newcomer past the cap evicts the oldest.
import { describe, expect, it } from 'vitest';
import { checkMaxPendingHandshakes, DEFAULT_MAX_PENDING_HANDSHAKES, HandshakeSlots, type HandshakeSlot } from '../src/handshake_slots.ts';

describe('maxPendingHandshakes', () => {
  it('defaults to 1024 and takes a positive integer or Infinity', () => {
    expect(checkMaxPendingHandshakes(undefined)).toBe(DEFAULT_MAX_PENDING_HANDSHAKES);
    expect(DEFAULT_MAX_PENDING_HANDSHAKES).toBe(1024);
    expect(checkMaxPendingHandshakes(1)).toBe(1);
    expect(checkMaxPendingHandshakes(Infinity)).toBe(Infinity);
  });

  it.each([0, -3, 2.5, Number.NaN, '8'])('refuses %s with a RangeError', (value) => {
    expect(() => checkMaxPendingHandshakes(value as number)).toThrow(RangeError);
    expect(() => new HandshakeSlots(value as number)).toThrow(/maxPendingHandshakes must be a positive integer or Infinity/);
  });
});

describe('HandshakeSlots', () => {
  it('counts admitted handshakes until they are released; release is idempotent', () => {
    const slots = new HandshakeSlots(3);
    const a = slots.admit(() => {});
    const b = slots.admit(() => {});
    expect(slots.size).toBe(2);
    a.release();
    a.release();
    expect(a.released).toBe(true);
    expect(slots.size).toBe(1);
    b.release();
    expect(slots.size).toBe(0);
    expect(slots.evicted).toBe(0);
  });

  it('past the cap, evicts the oldest pending handshake, and only it, to admit the newcomer', () => {
    const slots = new HandshakeSlots(3);
    const dropped: string[] = [];
    const held = new Map<string, HandshakeSlot>();
    for (const name of ['a', 'b', 'c']) held.set(name, slots.admit(() => dropped.push(name)));
    // b completes its handshake: a is still the oldest pending one.
    held.get('b')!.release();
    held.set('d', slots.admit(() => dropped.push('d')));
    expect(dropped).toEqual([]);
    held.set('e', slots.admit(() => dropped.push('e')));
    expect(dropped).toEqual(['a']);
    expect(held.get('a')!.released).toBe(true);
    held.set('f', slots.admit(() => dropped.push('f')));
    expect(dropped).toEqual(['a', 'c']);
    expect(slots.size).toBe(3);
    expect(slots.evicted).toBe(2);
    // An evicted slot released later (its socket's close) changes nothing.
    held.get('a')!.release();
    expect(slots.size).toBe(3);
  });

  it('a stream of stalled handshakes never keeps a newcomer out', () => {
    const slots = new HandshakeSlots(50);
    let evicted = 0;
    for (let i = 0; i < 1000; i++) slots.admit(() => evicted++);
    expect(slots.size).toBe(50);
    expect(evicted).toBe(950);
    const legit = slots.admit(() => {
      throw new Error('the newcomer must not be evicted at once');
    });
    expect(legit.released).toBe(false);
    legit.release();
    expect(slots.size).toBe(49);
  });

  it('admits even if dropping the evicted socket throws', () => {
    const slots = new HandshakeSlots(1);
    slots.admit(() => {
      throw new Error('socket already gone');
    });
    const next = slots.admit(() => {});
    expect(next.released).toBe(false);
    expect(slots.size).toBe(1);
  });

  it('with Infinity never evicts', () => {
    const slots = new HandshakeSlots(Infinity);
    for (let i = 0; i < 5000; i++) slots.admit(() => expect.unreachable());
    expect(slots.size).toBe(5000);
  });
});
