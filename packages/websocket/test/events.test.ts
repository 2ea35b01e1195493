/**
 * The event classes the facade fires where the runtime lacks its own, and the event
 * handler attributes over any EventTarget.
 */
import { describe, expect, it } from 'vitest';
import { CloseEventPolyfill, EventHandlers, MessageEventPolyfill } from '../src/index.ts';

describe('CloseEventPolyfill', () => {
  it('has the CloseEvent defaults and attributes', () => {
    const empty = new CloseEventPolyfill('close');
    expect([empty.type, empty.wasClean, empty.code, empty.reason]).toEqual(['close', false, 0, '']);
    const event = new CloseEventPolyfill('close', { wasClean: true, code: 4000, reason: 'r\uD800', bubbles: true });
    expect([event.wasClean, event.code, event.reason, event.bubbles]).toEqual([true, 4000, 'r\uFFFD', true]);
    expect(event).toBeInstanceOf(Event);
    expect(Object.prototype.toString.call(event)).toBe('[object CloseEvent]');
  });

  it('converts the code as an unsigned short (modulo 2^16)', () => {
    expect(new CloseEventPolyfill('close', { code: 65536 + 1000 }).code).toBe(1000);
    expect(new CloseEventPolyfill('close', { code: -1 }).code).toBe(65535);
  });
});

describe('MessageEventPolyfill', () => {
  it('has data, origin, lastEventId, source and ports', () => {
    const event = new MessageEventPolyfill('message', { data: 'd', origin: 'ws://o.test' });
    expect([event.type, event.data, event.origin, event.lastEventId, event.source, event.ports]).toEqual(['message', 'd', 'ws://o.test', '', null, []]);
    expect(new MessageEventPolyfill('message').data).toBe(null);
    expect(Object.prototype.toString.call(event)).toBe('[object MessageEvent]');
  });
});

describe('EventHandlers', () => {
  it('adds one listener where the handler is first set, and calls the current value', () => {
    const target = new EventTarget();
    const handlers = new EventHandlers(target);
    const order: string[] = [];
    target.addEventListener('x', () => order.push('before'));
    handlers.set('x', () => order.push('first'));
    target.addEventListener('x', () => order.push('after'));
    handlers.set('x', () => order.push('second'));
    target.dispatchEvent(new Event('x'));
    expect(order).toEqual(['before', 'second', 'after']);
  });

  it('cancels a cancelable event when the handler returns false', () => {
    const target = new EventTarget();
    const handlers = new EventHandlers(target);
    handlers.set('x', () => false);
    const event = new Event('x', { cancelable: true });
    target.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
  });

  it('reads null for non-objects and removes the listener', () => {
    const target = new EventTarget();
    const handlers = new EventHandlers(target);
    let calls = 0;
    handlers.set('x', () => calls++);
    handlers.set('x', 42);
    expect(handlers.get('x')).toBe(null);
    target.dispatchEvent(new Event('x'));
    expect(calls).toBe(0);
  });
});
