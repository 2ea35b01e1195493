/**
 * The few Web IDL conversions the facade needs (Web IDL Standard, "JavaScript type
 * mapping"), so that arguments behave as they do in a browser: `send(null)` sends
 * `"null"`, `close(1000.4)` closes with 1000, a lone surrogate becomes U+FFFD.
 * @module
 */

/**
 * Web IDL `DOMString`: ECMAScript ToString, which throws a `TypeError` for a Symbol.
 *
 * @example
 * ```ts
 * toDOMString(null); // 'null'
 * ```
 */
export function toDOMString(value: unknown): string {
  if (typeof value === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
  return String(value);
}

/** Whether a UTF-16 code unit is a high (leading) surrogate. */
const isHigh = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
/** Whether a UTF-16 code unit is a low (trailing) surrogate. */
const isLow = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * Replaces each unpaired surrogate with U+FFFD (Infra "convert a string into a scalar
 * value string"). Uses `String.prototype.toWellFormed` where the runtime has it, else
 * {@link replaceLoneSurrogates}.
 *
 * @example
 * ```ts
 * toScalarValueString('a\uD800b'); // 'a\uFFFDb'
 * ```
 */
export function toScalarValueString(text: string): string {
  const native = (String.prototype as { toWellFormed?: (this: string) => string }).toWellFormed;
  return typeof native === 'function' ? native.call(text) : replaceLoneSurrogates(text);
}

/**
 * The portable path of {@link toScalarValueString}: each high surrogate not followed by a
 * low one, and each low surrogate not preceded by a high one, becomes U+FFFD.
 *
 * @example
 * ```ts
 * replaceLoneSurrogates('\uDC00\uD83D\uDE00\uD800'); // '\uFFFD😀\uFFFD'
 * ```
 */
export function replaceLoneSurrogates(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (isHigh(unit) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
      i++;
    } else if (isHigh(unit) || isLow(unit)) {
      out += `${text.slice(start, i)}\uFFFD`;
      start = i + 1;
    }
  }
  return start === 0 ? text : out + text.slice(start);
}

/**
 * Web IDL `USVString`: {@link toDOMString}, then lone surrogates replaced with U+FFFD.
 *
 * @example
 * ```ts
 * toUSVString('\uDC00'); // '\uFFFD'
 * ```
 */
export function toUSVString(value: unknown): string {
  return toScalarValueString(toDOMString(value));
}

/**
 * ECMAScript ToNumber: unary plus, which throws a `TypeError` for a BigInt or a Symbol,
 * as the specification's ToNumber does (`Number(1n)` would not).
 */
function toNumber(value: unknown): number {
  return +(value as number);
}

/** Rounds to the nearest integer, halfway cases to the even one, never -0 (Web IDL [Clamp]). */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  let r: number;
  if (diff < 0.5) r = floor;
  else if (diff > 0.5) r = floor + 1;
  else r = floor % 2 === 0 ? floor : floor + 1;
  return r === 0 ? 0 : r;
}

/**
 * Web IDL `[Clamp] unsigned short`: NaN becomes 0, the value is clamped to 0–65535 and
 * rounded to the nearest integer, halfway cases to the even one.
 *
 * @example
 * ```ts
 * toClampedUnsignedShort(999.5);    // 1000
 * toClampedUnsignedShort(Infinity); // 65535
 * toClampedUnsignedShort('3000');   // 3000
 * ```
 */
export function toClampedUnsignedShort(value: unknown): number {
  const x = toNumber(value);
  if (Number.isNaN(x)) return 0;
  return roundHalfToEven(Math.min(Math.max(x, 0), 0xffff));
}

/**
 * Web IDL `[EnforceRange] unsigned short`: a `TypeError` for NaN, an infinity or a value
 * outside 0–65535 after truncation toward zero.
 *
 * @example
 * ```ts
 * toEnforcedUnsignedShort(1000.9); // 1000
 * toEnforcedUnsignedShort(70000);  // throws TypeError
 * ```
 */
export function toEnforcedUnsignedShort(value: unknown): number {
  const x = toNumber(value);
  if (!Number.isFinite(x)) throw new TypeError(`${String(x)} is not a finite number`);
  const t = Math.trunc(x);
  if (t < 0 || t > 0xffff) throw new TypeError(`${t} is outside the range of an unsigned short (0-65535)`);
  return t === 0 ? 0 : t;
}

/** Whether a value is an object for Web IDL (a function counts). */
export function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}
