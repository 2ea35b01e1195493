// Field lines as the WHATWG Headers that hooks and fetch-style handlers see.
import { describe, expect, it } from 'vitest';
import { fieldValues, headersOf } from '../src/field_lines.ts';

describe('headersOf', () => {
  it('keeps every field, repeated ones combined in order', () => {
    const headers = headersOf([
      ['Host', 'a'],
      ['X-Tag', 'one'],
      ['x-tag', 'two'],
    ]);
    expect(headers.get('host')).toBe('a');
    expect(headers.get('x-tag')).toBe('one, two');
  });

  it('leaves out a field WHATWG Headers refuses, keeping the others', () => {
    const headers = headersOf([
      ['Bad Name', 'x'],
      ['Good', 'y'],
    ]);
    expect([...headers]).toEqual([['good', 'y']]);
  });

  it("takes any iterable of pairs, e.g. a generator over a runtime's flat list", () => {
    function* pairs(raw: string[]): Generator<[string, string]> {
      for (let i = 0; i + 1 < raw.length; i += 2) yield [raw[i], raw[i + 1]];
    }
    expect(headersOf(pairs(['A', '1', 'B', '2'])).get('b')).toBe('2');
  });
});

describe('fieldValues', () => {
  it('gives each value of one field apart, case-insensitively, in order', () => {
    const fields: Array<[string, string]> = [
      ['Cookie', 'a=1; b=2'],
      ['Host', 'x'],
      ['cookie', 'c=3'],
    ];
    expect(fieldValues(fields, 'COOKIE')).toEqual(['a=1; b=2', 'c=3']);
    expect(fieldValues(fields, 'origin')).toEqual([]);
  });
});
