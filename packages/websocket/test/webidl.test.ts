/**
 * The Web IDL conversions and the helpers behind the facade's checks, unit by unit.
 */
import { describe, expect, it } from 'vitest';
import { replaceLoneSurrogates, toClampedUnsignedShort, toDOMString, toEnforcedUnsignedShort, toScalarValueString, toUSVString } from '../src/webidl.ts';
import { getURLRecord, isApplicationCloseCode, toProtocolList, validateCloseCodeAndReason } from '../src/index.ts';
import { expectDOMException } from './helpers.ts';

describe('USVString', () => {
  it.each([
    ['', ''],
    ['plain', 'plain'],
    ['\uD800', '\uFFFD'],
    ['\uDC00', '\uFFFD'],
    ['a\uD800', 'a\uFFFD'],
    ['\uD800a', '\uFFFDa'],
    ['\uDC00\uD800', '\uFFFD\uFFFD'],
    ['\uD83D\uDE00', '😀'],
    // Built at run time: Deno's parser rejects a lone "\uD800" escape right before an astral character.
    [`${String.fromCharCode(0xd800)}😀${String.fromCharCode(0xdc00)}`, '\uFFFD😀\uFFFD'],
  ])('replaces the lone surrogates of %j (portable path and native alike)', (input, expected) => {
    expect(replaceLoneSurrogates(input)).toBe(expected);
    expect(toScalarValueString(input)).toBe(expected);
  });

  it('converts with ToString, refusing a Symbol', () => {
    expect(toUSVString(null)).toBe('null');
    expect(toUSVString(12.5)).toBe('12.5');
    expect(toDOMString({ toString: () => 'x' })).toBe('x');
    expect(() => toDOMString(Symbol('s'))).toThrow(TypeError);
  });
});

describe('[Clamp] unsigned short', () => {
  it.each([
    [0, 0],
    [-0, 0],
    [-1, 0],
    [65535, 65535],
    [65536, 65535],
    [1e20, 65535],
    [NaN, 0],
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [-0.4, 0],
    [999.5, 1000],
    [4999.5, 5000],
    ['12', 12],
    [null, 0],
    [true, 1],
  ])('converts %j to %i', (value, expected) => {
    expect(Object.is(toClampedUnsignedShort(value), expected)).toBe(true);
  });

  it('throws a TypeError for a BigInt or a Symbol (ToNumber)', () => {
    expect(() => toClampedUnsignedShort(1n)).toThrow(TypeError);
    expect(() => toClampedUnsignedShort(Symbol('s'))).toThrow(TypeError);
  });
});

describe('[EnforceRange] unsigned short', () => {
  it.each([
    [0, 0],
    [65535, 65535],
    [3000.99, 3000],
    [-0.5, 0],
    ['4000', 4000],
  ])('converts %j to %i', (value, expected) => {
    expect(Object.is(toEnforcedUnsignedShort(value), expected)).toBe(true);
  });

  it.each([NaN, Infinity, -Infinity, -1, 65536, 'x'])('throws a TypeError for %j', (value) => {
    expect(() => toEnforcedUnsignedShort(value)).toThrow(TypeError);
  });
});

describe('close code and reason', () => {
  it('allows 1000 and 3000-4999 only', () => {
    const allowed = [999, 1000, 1001, 2999, 3000, 4999, 5000].filter(isApplicationCloseCode);
    expect(allowed).toEqual([1000, 3000, 4999]);
  });

  it('validates the code first, then the UTF-8 length of the reason', () => {
    expect(() => validateCloseCodeAndReason(null, null)).not.toThrow();
    expect(() => validateCloseCodeAndReason(4000, '€'.repeat(41))).not.toThrow();
    expectDOMException(() => validateCloseCodeAndReason(1001, null), 'InvalidAccessError');
    expectDOMException(() => validateCloseCodeAndReason(null, '€'.repeat(41) + 'x'), 'SyntaxError');
    expectDOMException(() => validateCloseCodeAndReason(2000, 'x'.repeat(200)), 'InvalidAccessError');
  });
});

describe('get a URL record', () => {
  it.each([
    ['ws://a.test', undefined, 'ws://a.test/'],
    ['http://a.test/x', undefined, 'ws://a.test/x'],
    ['https://a.test:443/x', undefined, 'wss://a.test/x'],
    ['/p?q', 'https://b.test/dir/', 'wss://b.test/p?q'],
    ['p', 'http://b.test/dir/file', 'ws://b.test/dir/p'],
  ] as const)('resolves %j against %j to %s', (url, base, expected) => {
    expect(getURLRecord(url, base)?.href).toBe(expected);
  });

  it.each(['', '/relative', 'ftp://a.test/', 'ws://a.test/#', 'ws://a.test/#x', 'http://a.test#'])('fails for %j without a base', (url) => {
    expect(getURLRecord(url)).toBe(null);
  });
});

describe('the protocols argument', () => {
  it.each([
    [undefined, []],
    ['a', ['a']],
    [null, ['null']],
    [['a', 'b'], ['a', 'b']],
    [new Set(['x']), ['x']],
    [[1, true], ['1', 'true']],
    [{}, ['[object Object]']],
  ] as const)('converts %j to %j', (value, expected) => {
    expect(toProtocolList(value)).toEqual(expected);
  });
});
