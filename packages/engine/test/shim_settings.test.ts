// The settings every runtime shim's connections take, and how they become ConnectionOptions.
import { describe, expect, it } from 'vitest';
import { checkTimeout, connectionOptionsOf, DEFAULT_HANDSHAKE_TIMEOUT } from '../src/shim_settings.ts';
import { manualTimers } from '../../codec/test/manual_timers.ts';

describe('checkTimeout', () => {
  it('returns the fallback when unset, the value when it is a positive finite number', () => {
    expect(checkTimeout('handshakeTimeout', undefined, DEFAULT_HANDSHAKE_TIMEOUT)).toBe(10_000);
    expect(checkTimeout('handshakeTimeout', 1, 10_000)).toBe(1);
    expect(checkTimeout('handshakeTimeout', 0.5, 10_000)).toBe(0.5);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number, null as unknown as number])(
    'refuses %s with a RangeError naming the option',
    (value) => {
      expect(() => checkTimeout('closeTimeout', value, 10_000)).toThrow(RangeError);
      expect(() => checkTimeout('closeTimeout', value, 10_000)).toThrow(/closeTimeout must be a positive number of milliseconds/);
    },
  );
});

describe('connectionOptionsOf', () => {
  it('carries the limits and timers of the settings and what the shim knows', () => {
    const timers = manualTimers();
    const options = connectionOptionsOf(
      { maxPayload: 1, maxMessage: 2, maxFragments: 3, closeTimeout: 4, heartbeat: { interval: 5 }, readableHighWaterMark: 6, writableHighWaterMark: 7, handshakeTimeout: 8 },
      { role: 'server', protocol: 'chat', extensions: 'x', timers, mutableInput: true },
    );
    expect(options).toEqual({
      role: 'server',
      protocol: 'chat',
      extensions: 'x',
      timers,
      mutableInput: true,
      maxPayload: 1,
      maxMessage: 2,
      maxFragments: 3,
      closeTimeout: 4,
      heartbeat: { interval: 5 },
      readableHighWaterMark: 6,
      writableHighWaterMark: 7,
    });
  });

  it('defaults to no extensions and immutable input, leaving unset settings to the connection', () => {
    const options = connectionOptionsOf({}, { role: 'client', protocol: '', timers: manualTimers() });
    expect(options.extensions).toBe('');
    expect(options.mutableInput).toBe(false);
    expect(options.maxMessage).toBeUndefined();
    expect(options.heartbeat).toBeUndefined();
  });
});
