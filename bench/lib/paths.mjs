// Where the repository is, for the bench scripts that start servers and tools from it.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory (absolute). */
export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * The path of a tool the repo installs in node_modules/.bin (node, deno, bun, ...).
 *
 * @example
 *   spawn(bin('deno'), ['run', '-A', script]);
 */
export const bin = (name) => join(root, 'node_modules', '.bin', name);
