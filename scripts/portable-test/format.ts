/**
 * A small, deterministic value printer for assertion messages. It does not depend on
 * any runtime's `inspect`, so Deno and Bun print the same thing. Byte arrays print as
 * hex, since the codec's tests are written with hex vectors.
 * @module
 */

const MAX_ITEMS = 32;
const MAX_STRING = 300;
const MAX_DEPTH = 4;

/** Marker interface for asymmetric matchers (`expect.any(...)` etc.); they print themselves. */
export interface Printable {
  toString(): string;
}

/** Prints `value` on one line, shortening long strings, arrays and deep objects. */
export function format(value: unknown, depth = 0, seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || '(anonymous)'}]`;
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.has(obj)) return '[Circular]';
  if (isAsymmetric(obj)) return obj.toString();
  if (obj instanceof Date) return `Date(${Number.isNaN(obj.getTime()) ? 'Invalid' : obj.toISOString()})`;
  if (obj instanceof RegExp) return String(obj);
  if (obj instanceof ArrayBuffer) return `ArrayBuffer(${obj.byteLength}) ${hex(new Uint8Array(obj))}`;
  if (obj instanceof Uint8Array) return `${ctorName(obj)}(${obj.length}) ${hex(obj)}`;
  if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
    return `${ctorName(obj)}(${(obj as unknown as ArrayLike<unknown>).length}) ${list(Array.from(obj as unknown as ArrayLike<unknown>), depth, seen)}`;
  }
  if (depth >= MAX_DEPTH) return Array.isArray(obj) ? '[Array]' : `[${ctorName(obj) || 'Object'}]`;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return list(obj, depth, seen);
    if (obj instanceof Map) {
      const items = [...obj].map(([k, v]) => `${format(k, depth + 1, seen)} => ${format(v, depth + 1, seen)}`);
      return `Map(${obj.size}) {${join(items)}}`;
    }
    if (obj instanceof Set) {
      return `Set(${obj.size}) {${join([...obj].map((v) => format(v, depth + 1, seen)))}}`;
    }
    const props = Object.keys(obj).map((k) => `${propKey(k)}: ${format((obj as Record<string, unknown>)[k], depth + 1, seen)}`);
    if (obj instanceof Error) {
      const head = `${obj.name}: ${obj.message}`;
      return props.length === 0 ? `[${head}]` : `[${head}] {${join(props)}}`;
    }
    const name = ctorName(obj);
    const body = `{${props.length === 0 ? '' : ` ${join(props)} `}}`;
    return name === 'Object' || name === '' ? body : `${name} ${body}`;
  } finally {
    seen.delete(obj);
  }
}

function list(items: unknown[], depth: number, seen: Set<object>): string {
  return `[${join(items.map((v) => format(v, depth + 1, seen)))}]`;
}

/** Joins with ", " keeping at most MAX_ITEMS entries. */
function join(items: string[]): string {
  if (items.length <= MAX_ITEMS) return items.join(', ');
  return `${items.slice(0, MAX_ITEMS).join(', ')}, …(+${items.length - MAX_ITEMS})`;
}

/** `<81 05 48 65>`: bytes as two-digit hex, shortened after 64 bytes. */
function hex(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `<${shown}${bytes.length > 64 ? ` …(+${bytes.length - 64})` : ''}>`;
}

function propKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
}

function ctorName(obj: object): string {
  const proto = Object.getPrototypeOf(obj);
  return proto === null ? '' : (proto.constructor?.name ?? '');
}

/** Whether `value` is one of our asymmetric matchers (duck-typed to avoid an import cycle). */
export function isAsymmetric(value: unknown): value is { asymmetricMatch(other: unknown): boolean } & Printable {
  return typeof value === 'object' && value !== null && typeof (value as { asymmetricMatch?: unknown }).asymmetricMatch === 'function';
}
