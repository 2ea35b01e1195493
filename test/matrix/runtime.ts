/**
 * Which runtime a matrix script runs in, with no runtime type declarations needed.
 * @module
 */

/** The runtime names of the matrix. */
export type RuntimeName = 'node' | 'deno' | 'bun';

const g = globalThis as unknown as { Deno?: { version: { deno: string } }; Bun?: { version: string }; process?: { version: string } };

/** The runtime this code runs in. */
export function runtimeName(): RuntimeName {
  if (g.Deno !== undefined) return 'deno';
  if (g.Bun !== undefined) return 'bun';
  return 'node';
}

/** E.g. `deno 2.9.5`. */
export function runtimeVersion(): string {
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  return `node ${g.process?.version ?? '?'}`;
}
