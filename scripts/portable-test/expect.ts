/**
 * A portable `expect` with the Vitest matchers the codec's tests use. Every matcher is a
 * function `(actual, ...args) => { pass, message }`; `expect` wraps them with `.not`,
 * `.resolves` and `.rejects`. Asymmetric matchers (`expect.any`, ...) are also here.
 *
 * Why our own and not the npm `expect` package: no new dependency, no Node globals to
 * shim when bundling for Deno and Bun, and messages tuned to byte vectors (hex, path of
 * the first difference). The cost is that only the matchers listed below exist; a test
 * using another fails with "expect(...).toX is not a function".
 * @module
 */
import { diff, equals } from './equals.ts';
import { format } from './format.ts';

/** Thrown by failed assertions. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

type Result = { pass: boolean; message: (not: boolean) => string };
type Matcher = (actual: unknown, ...args: any[]) => Result;

/** Per-test counters for `expect.assertions(n)` / `expect.hasAssertions()`; the runner resets them. */
export const assertionState = { calls: 0, expected: -1, hasAssertions: false };

const n = (not: boolean) => (not ? 'not ' : '');
const where = (path: string | null) => (path ? ` (first difference at ${path})` : '');
/** Standard message: "expected <actual> [not] <text>". */
const msg = (actual: unknown, text: string, extra = '') => (not: boolean) => `expected ${format(actual)} ${n(not)}${text}${extra}`;
const compare = (name: string, op: (a: number | bigint, b: number | bigint) => boolean): Matcher => (a, b) => ({
  pass: (typeof a === 'number' || typeof a === 'bigint') && op(a, b),
  message: msg(a, `${name} ${format(b)}`),
});

/** Reads a property path `"a.b[0]"` or `['a', 'b', 0]`; `found` says whether every step existed. */
function getPath(obj: unknown, path: string | readonly PropertyKey[]) {
  const keys = typeof path === 'string' ? path.replace(/\[(\w+)\]/g, '.$1').split('.').filter((k) => k !== '') : path;
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === null || cur === undefined || !(k in Object(cur))) return { found: false, value: undefined };
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return { found: true, value: cur };
}

/** What `toThrow(expected)` accepts about the thrown value `e`. */
function throwMatches(e: unknown, expected: unknown): boolean {
  const message = e instanceof Error ? e.message : String(e);
  if (expected === undefined) return true;
  if (typeof expected === 'string') return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === 'function') return e instanceof expected;
  if (expected instanceof Error) return message === expected.message;
  return equals(e, expected); // Vitest: a plain object must equal the thrown value
}

/** toThrow: `actual` is a function to call, or (under `.rejects`) the rejection reason itself. */
function toThrow(this: Flags, actual: unknown, expected?: unknown): Result {
  let thrown = false;
  let error: unknown;
  if (this.promise === 'rejects') {
    thrown = true;
    error = actual;
  } else if (typeof actual !== 'function') {
    throw new TypeError(`toThrow: expected a function, got ${format(actual)}`);
  } else {
    try {
      actual();
    } catch (e) {
      thrown = true;
      error = e;
    }
  }
  const what = expected === undefined ? '' : ` matching ${typeof expected === 'function' ? expected.name : format(expected)}`;
  return {
    pass: thrown && throwMatches(error, expected),
    message: (not) =>
      thrown ? `expected function ${n(not)}to throw${what}, but it threw ${format(error)}` : `expected function to throw${what}, but it did not throw`,
  };
}

const matchers = {
  toBe: (a, b) => ({
    pass: Object.is(a, b),
    message: msg(a, `to be ${format(b)}`, typeof a === 'object' && equals(a, b, { strict: true }) ? ' (deep equal but not the same object: use toStrictEqual)' : ''),
  }),
  toEqual: (a, b) => ({ pass: equals(a, b), message: (not) => msg(a, `to deeply equal ${format(b)}`, not ? '' : where(diff(a, b)))(not) }),
  toStrictEqual: (a, b) => ({
    pass: equals(a, b, { strict: true }),
    message: (not) => msg(a, `to strictly equal ${format(b)}`, not ? '' : where(diff(a, b, { strict: true })))(not),
  }),
  toMatchObject: (a, b) => ({
    pass: typeof a === 'object' && a !== null && equals(a, b, { subset: true }),
    message: (not) => msg(a, `to match object ${format(b)}`, not ? '' : where(diff(a, b, { subset: true })))(not),
  }),
  toThrow,
  toThrowError: toThrow,
  toBeInstanceOf: (a, C) => ({ pass: a instanceof C, message: msg(a, `to be an instance of ${C?.name ?? format(C)}`) }),
  toBeNull: (a) => ({ pass: a === null, message: msg(a, 'to be null') }),
  toBeUndefined: (a) => ({ pass: a === undefined, message: msg(a, 'to be undefined') }),
  toBeDefined: (a) => ({ pass: a !== undefined, message: msg(a, 'to be defined') }),
  toBeTruthy: (a) => ({ pass: !!a, message: msg(a, 'to be truthy') }),
  toBeFalsy: (a) => ({ pass: !a, message: msg(a, 'to be falsy') }),
  toBeNaN: (a) => ({ pass: Number.isNaN(a), message: msg(a, 'to be NaN') }),
  toBeTypeOf: (a, t) => ({ pass: typeof a === t, message: msg(a, `to be of type ${t}`) }),
  toBeGreaterThan: compare('to be greater than', (a, b) => a > b),
  toBeGreaterThanOrEqual: compare('to be greater than or equal to', (a, b) => a >= b),
  toBeLessThan: compare('to be less than', (a, b) => a < b),
  toBeLessThanOrEqual: compare('to be less than or equal to', (a, b) => a <= b),
  toBeCloseTo: (a, b, digits = 2) => ({
    pass: typeof a === 'number' && (a === b || Math.abs(a - b) < 10 ** -digits / 2),
    message: msg(a, `to be close to ${b} (${digits} digits)`),
  }),
  toContain: (a, item) => ({
    pass: typeof a === 'string' ? a.includes(item) : a != null && typeof a === 'object' && Symbol.iterator in a && [...(a as Iterable<unknown>)].includes(item),
    message: msg(a, `to contain ${format(item)}`),
  }),
  toContainEqual: (a, item) => ({
    pass: a != null && typeof a === 'object' && Symbol.iterator in a && [...(a as Iterable<unknown>)].some((x) => equals(x, item)),
    message: msg(a, `to contain an item equal to ${format(item)}`),
  }),
  toHaveLength: (a, len) => {
    const actualLen = (a as { length?: unknown } | null)?.length;
    return { pass: actualLen === len, message: msg(a, `to have length ${len}`, ` (it has ${format(actualLen)})`) };
  },
  toHaveProperty: (a, path, ...value) => {
    const { found, value: got } = getPath(a, path);
    const checkValue = value.length > 0;
    return {
      pass: found && (!checkValue || equals(got, value[0])),
      message: msg(a, `to have property ${format(path)}${checkValue ? ` equal to ${format(value[0])}` : ''}`, found && checkValue ? ` (it is ${format(got)})` : ''),
    };
  },
  toMatch: (a, re) => ({
    pass: typeof a === 'string' && (typeof re === 'string' ? a.includes(re) : re.test(a)),
    message: msg(a, `to match ${format(re)}`),
  }),
  toSatisfy: (a, pred) => ({ pass: !!pred(a), message: msg(a, `to satisfy ${format(pred)}`) }),
} satisfies Record<string, Matcher>;

interface Flags {
  not: boolean;
  promise: '' | 'resolves' | 'rejects';
}

/** The object `expect(actual)` returns: every matcher plus `.not`, `.resolves`, `.rejects`. */
export type Assertion = { [K in keyof typeof matchers]: (...args: any[]) => any } & {
  not: Assertion;
  resolves: Assertion;
  rejects: Assertion;
};

function assertion(actual: unknown, flags: Flags, label: string | undefined): Assertion {
  const out: Record<string, unknown> = {};
  for (const [name, matcher] of Object.entries(matchers)) {
    const check = (value: unknown, args: unknown[]) => {
      assertionState.calls++;
      const { pass, message } = (matcher as Matcher).call(flags, value, ...args);
      if (pass === flags.not) {
        const text = (label ? `${label}: ` : '') + message(flags.not);
        throw new AssertionError(flags.promise ? `${text} (.${flags.promise})` : text);
      }
    };
    out[name] = (...args: unknown[]) => {
      if (!flags.promise) return check(actual, args);
      // .resolves/.rejects: settle first, then assert on the value or the reason.
      return Promise.resolve(actual).then(
        (value) => {
          if (flags.promise === 'rejects') throw new AssertionError(`expected promise to reject, but it resolved to ${format(value)}`);
          check(value, args);
        },
        (reason) => {
          if (flags.promise === 'resolves') throw new AssertionError(`expected promise to resolve, but it rejected with ${format(reason)}`);
          check(reason, args);
        },
      );
    };
  }
  Object.defineProperties(out, {
    not: { get: () => assertion(actual, { ...flags, not: !flags.not }, label) },
    resolves: { get: () => assertion(actual, { ...flags, promise: 'resolves' }, label) },
    rejects: { get: () => assertion(actual, { ...flags, promise: 'rejects' }, label) },
  });
  return out as Assertion;
}

/** Base of the asymmetric matchers: `equals` calls `asymmetricMatch` and prints `toString()`. */
class Asymmetric {
  constructor(
    private readonly label: string,
    readonly asymmetricMatch: (other: unknown) => boolean,
  ) {}
  toString(): string {
    return this.label;
  }
}

/** Matches any value of a constructor; primitives match their wrapper (`expect.any(String)`). */
function any(C: Function): Asymmetric {
  const primitive = new Map<Function, string>([[String, 'string'], [Number, 'number'], [Boolean, 'boolean'], [BigInt, 'bigint'], [Symbol, 'symbol'], [Function, 'function'], [Object, 'object']]);
  return new Asymmetric(`Any<${C.name}>`, (v) => (primitive.has(C) && typeof v === primitive.get(C) && v !== null) || v instanceof C);
}

/** Vitest-style `expect`. `expect(value, label)` prefixes the label to failure messages. */
export const expect = Object.assign((actual: unknown, label?: string) => assertion(actual, { not: false, promise: '' }, label), {
  any,
  anything: () => new Asymmetric('Anything', (v) => v !== null && v !== undefined),
  objectContaining: (o: object) => new Asymmetric(`ObjectContaining ${format(o)}`, (v) => typeof v === 'object' && v !== null && equals(v, o, { subset: true })),
  arrayContaining: (items: unknown[]) =>
    new Asymmetric(`ArrayContaining ${format(items)}`, (v) => Array.isArray(v) && items.every((i) => v.some((x) => equals(x, i)))),
  stringContaining: (s: string) => new Asymmetric(`StringContaining ${format(s)}`, (v) => typeof v === 'string' && v.includes(s)),
  stringMatching: (re: RegExp | string) =>
    new Asymmetric(`StringMatching ${format(re)}`, (v) => typeof v === 'string' && (typeof re === 'string' ? v.includes(re) : re.test(v))),
  closeTo: (x: number, digits = 2) => new Asymmetric(`CloseTo ${x}`, (v) => typeof v === 'number' && Math.abs(v - x) < 10 ** -digits / 2),
  /** The current test must make exactly `count` assertions. */
  assertions: (count: number) => void (assertionState.expected = count),
  /** The current test must make at least one assertion. */
  hasAssertions: () => void (assertionState.hasAssertions = true),
  /** Fails immediately (Vitest's `expect.unreachable`). */
  unreachable: (message = 'expected this line to be unreachable'): never => {
    throw new AssertionError(message);
  },
});
