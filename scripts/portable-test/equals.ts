/**
 * Deep equality for `toEqual`, `toStrictEqual` and `toMatchObject`, following the rules
 * Vitest (and Jest) document: `Object.is` for primitives, same `Object.prototype.toString`
 * tag for objects, `undefined`-valued keys ignored unless strict, prototypes and array
 * holes compared only when strict, subset matching of plain objects for `toMatchObject`.
 * `diff` returns where the first difference is, which the messages print.
 * @module
 */
import { isAsymmetric } from './format.ts';

export interface EqualsOptions {
  /** toStrictEqual: prototypes, `undefined` keys and array holes count. */
  strict?: boolean;
  /** toMatchObject: plain objects in `expected` only need their own keys to match. */
  subset?: boolean;
}

/** Whether `actual` deep-equals `expected` under `opts`. */
export function equals(actual: unknown, expected: unknown, opts: EqualsOptions = {}): boolean {
  return diff(actual, expected, opts) === null;
}

/** `null` when equal, otherwise the path (`""` for the top level) of the first difference. */
export function diff(actual: unknown, expected: unknown, opts: EqualsOptions = {}): string | null {
  return walk(actual, expected, opts, '', [], []);
}

const tagOf = (v: unknown) => Object.prototype.toString.call(v);
const keyPath = (k: PropertyKey) =>
  typeof k === 'string' && /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${typeof k === 'string' ? JSON.stringify(k) : String(k)}]`;

function walk(a: unknown, b: unknown, opts: EqualsOptions, path: string, seenA: unknown[], seenB: unknown[]): string | null {
  if (isAsymmetric(b)) return b.asymmetricMatch(a) ? null : path;
  if (isAsymmetric(a)) return a.asymmetricMatch(b) ? null : path;
  if (Object.is(a, b)) return null;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return path;

  // Cycles: equal if both sides loop back to the same depth.
  const at = seenA.indexOf(a);
  if (at !== -1) return seenB[at] === b ? null : path;

  if (opts.subset && isPlainObjectLike(b) && !Array.isArray(a)) return subsetKeys(a, b, opts, path, seenA, seenB);
  if (tagOf(a) !== tagOf(b)) return path;
  if (opts.strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return path;

  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime()) ? null : path;
  if (a instanceof RegExp) return a.source === (b as RegExp).source && a.flags === (b as RegExp).flags ? null : path;
  if (a instanceof ArrayBuffer) return bytesDiff(new Uint8Array(a), new Uint8Array(b as ArrayBuffer), path);
  if (a instanceof DataView) {
    const bv = b as DataView;
    return bytesDiff(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array(bv.buffer, bv.byteOffset, bv.byteLength), path);
  }
  if (ArrayBuffer.isView(a)) return arrayDiff(a as unknown as ArrayLike<unknown>, b as ArrayLike<unknown>, opts, path, seenA, seenB);
  if (a instanceof Error) {
    const eb = b as Error;
    if (a.name !== eb.name) return `${path}.name`;
    if (a.message !== eb.message) return `${path}.message`;
  }

  seenA.push(a);
  seenB.push(b);
  try {
    if (a instanceof Map) return mapDiff(a, b as Map<unknown, unknown>, opts, path, seenA, seenB);
    if (a instanceof Set) return setDiff(a, b as Set<unknown>, opts, path, seenA, seenB);
    if (Array.isArray(a)) return arrayDiff(a, b as unknown[], opts, path, seenA, seenB);
    return objectDiff(a, b, opts, path, seenA, seenB);
  } finally {
    seenA.pop();
    seenB.pop();
  }
}

/** Plain objects (and class instances that are not arrays, collections or binary). */
function isPlainObjectLike(v: object): boolean {
  return !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer) && !(v instanceof Map) &&
    !(v instanceof Set) && !(v instanceof Date) && !(v instanceof RegExp);
}

function ownKeys(o: object, strict: boolean | undefined): PropertyKey[] {
  const keys: PropertyKey[] = Object.keys(o);
  for (const s of Object.getOwnPropertySymbols(o)) if (Object.prototype.propertyIsEnumerable.call(o, s)) keys.push(s);
  return strict ? keys : keys.filter((k) => (o as Record<PropertyKey, unknown>)[k] !== undefined);
}

function objectDiff(a: object, b: object, opts: EqualsOptions, path: string, seenA: unknown[], seenB: unknown[]): string | null {
  const ka = ownKeys(a, opts.strict);
  const kb = ownKeys(b, opts.strict);
  for (const k of kb) if (!ka.includes(k)) return path + keyPath(k);
  for (const k of ka) if (!kb.includes(k)) return path + keyPath(k);
  for (const k of kb) {
    const d = walk((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k], opts, path + keyPath(k), seenA, seenB);
    if (d !== null) return d;
  }
  return null;
}

/** toMatchObject: each own key of `b` must exist on `a` (own or inherited) and match. */
function subsetKeys(a: object, b: object, opts: EqualsOptions, path: string, seenA: unknown[], seenB: unknown[]): string | null {
  seenA.push(a);
  seenB.push(b);
  try {
    for (const k of ownKeys(b, true)) {
      if (!(k in a)) return path + keyPath(k);
      const d = walk((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k], opts, path + keyPath(k), seenA, seenB);
      if (d !== null) return d;
    }
    return null;
  } finally {
    seenA.pop();
    seenB.pop();
  }
}

function arrayDiff(a: ArrayLike<unknown>, b: ArrayLike<unknown>, opts: EqualsOptions, path: string, seenA: unknown[], seenB: unknown[]): string | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (opts.strict && (i in a) !== (i in b)) return `${path}[${i}]`;
    const d = walk(a[i], b[i], opts, `${path}[${i}]`, seenA, seenB);
    if (d !== null) return d;
  }
  return a.length === b.length ? null : `${path}.length`;
}

function bytesDiff(a: Uint8Array, b: Uint8Array, path: string): string | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `${path}[${i}]`;
  return a.length === b.length ? null : `${path}.byteLength`;
}

function mapDiff(a: Map<unknown, unknown>, b: Map<unknown, unknown>, opts: EqualsOptions, path: string, seenA: unknown[], seenB: unknown[]): string | null {
  if (a.size !== b.size) return `${path}.size`;
  for (const [k, v] of b) {
    // Primitive keys are looked up directly; object keys may match a deep-equal key.
    const key = a.has(k) ? k : [...a.keys()].find((ak) => walk(ak, k, opts, '', seenA, seenB) === null);
    if (key === undefined && !a.has(k)) return `${path}.get(${String(k)})`;
    const d = walk(a.get(key), v, opts, `${path}.get(${String(k)})`, seenA, seenB);
    if (d !== null) return d;
  }
  return null;
}

function setDiff(a: Set<unknown>, b: Set<unknown>, opts: EqualsOptions, path: string, seenA: unknown[], seenB: unknown[]): string | null {
  if (a.size !== b.size) return `${path}.size`;
  for (const v of b) {
    if (a.has(v)) continue;
    if (![...a].some((av) => walk(av, v, opts, '', seenA, seenB) === null)) return `${path}.has(${String(v)})`;
  }
  return null;
}
