import { expect, test } from 'vitest';
import { parseCookies } from '../src/cookies.ts';

test.each([
  [undefined, {}],
  ['', {}],
  ['sid=abc', { sid: 'abc' }],
  ['sid=abc; theme="dark";  lang = en ', { sid: 'abc', theme: 'dark', lang: 'en' }],
  ['a=1; a=2', { a: '1' }],
  ['novalue; =x; b=2', { b: '2' }],
  ['token=a=b=c', { token: 'a=b=c' }],
  [['a=1', 'b=2; a=3'], { a: '1', b: '2' }],
])('parseCookies(%j)', (header, expected) => {
  expect({ ...parseCookies(header as string | string[] | undefined) }).toEqual(expected);
});
