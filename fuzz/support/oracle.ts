/**
 * What every fuzz target checks, and how it says an input broke a rule. A target throws
 * {@link OracleFailure} (or lets an undocumented error escape): Jazzer.js reports either as
 * a finding and saves the input.
 * @module
 */

/** An input made a parser break one of the rules its target checks. */
export class OracleFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OracleFailure';
  }
}

/** Fails the input with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new OracleFailure(message);
}

/** A class of errors a parser documents that it throws. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `parse`; returns its value, or the error it threw when that error is one of the
 * documented `allowed` classes. Any other error escapes unchanged, and is a finding.
 */
export function documented<T>(parse: () => T, allowed: readonly ErrorClass[]): { value: T } | { error: Error } {
  try {
    return { value: parse() };
  } catch (error) {
    if (allowed.some((kind) => error instanceof kind)) return { error: error as Error };
    throw error;
  }
}

/** Lower-case hex of some bytes, for comparing and printing. */
export function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Structural equality of plain data (arrays, objects, strings, numbers, booleans, null). */
export function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
