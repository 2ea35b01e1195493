/**
 * Command-line plumbing shared by the tools: option parsing on `node:util` `parseArgs`,
 * usage errors (exit status 2), and checks of ports, hosts, URLs and numbers.
 * @module
 */
import { parseArgs } from 'node:util';

/** Exit status of a usage error (an unknown, missing or malformed option), as most CLIs use. */
export const EXIT_USAGE = 2;

/** A bad command line. {@link runMain} prints its message and the usage, then exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What an option takes: a value (`string`) or nothing (`boolean`). */
export type OptionKind = 'string' | 'boolean';

/** The values parsed for options declared as `Record<name, kind>`. */
export type ParsedOptions<S extends Record<string, OptionKind>> = {
  [K in keyof S]?: S[K] extends 'string' ? string : boolean;
};

/**
 * Parses `argv` against `spec` strictly: an unknown option, a positional argument or a
 * missing value is a {@link UsageError}. `--help` is always understood.
 *
 * @example
 * ```ts
 * const { port } = parseOptions(['--port', '9001'], { port: 'string' });
 * ```
 */
export function parseOptions<S extends Record<string, OptionKind>>(argv: readonly string[], spec: S): ParsedOptions<S> & { help?: boolean } {
  const options: Record<string, { type: OptionKind }> = { help: { type: 'boolean' } };
  for (const [name, type] of Object.entries(spec)) options[name] = { type };
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as ParsedOptions<S> & { help?: boolean };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The usage of a tool server started as `npm run SCRIPT`.
 *
 * @example
 * ```ts
 * const USAGE = serverUsage('echo');
 * ```
 */
export function serverUsage(script: string): string {
  return `usage: npm run ${script} -- --runtime node --port PORT [--host 127.0.0.1]

  --runtime NAME   the runtime to serve with (node, deno, bun)
  --port PORT      the TCP port; 0 lets the OS choose (printed on the "listening on" line)
  --host HOST      the address to listen on (default 127.0.0.1, loopback only)
`;
}

/** Returns a required option's value or throws a {@link UsageError} naming it. */
export function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** Parses a TCP port, 0 (the OS picks one) to 65535. */
export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--port must be 0-65535, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses a positive integer option such as a timeout in milliseconds. */
export function parsePositiveInteger(text: string, name: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses a `ws:`/`wss:` URL. */
export function parseWsUrl(text: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--${name} must be a URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`--${name} must be a ws:// or wss:// URL, got ${JSON.stringify(text)}`);
  if (url.hash !== '' || url.search !== '') throw new UsageError(`--${name} must have no query or fragment, got ${JSON.stringify(text)}`);
  return url;
}

/**
 * Parses a list of case numbers and ranges, e.g. `1,4,10-20`, into sorted unique numbers.
 * Ranges are bounded so that a typo cannot ask for millions of cases.
 */
export function parseCaseList(text: string, name: string, maxCases = 100_000): number[] {
  const cases = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?$/.exec(part);
    if (match === null) throw new UsageError(`--${name} takes numbers and ranges such as 1,4,10-20, got ${JSON.stringify(text)}`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (from < 1 || to < from) throw new UsageError(`--${name}: ${JSON.stringify(part.trim())} is not a range of case numbers from 1`);
    if (cases.size + (to - from + 1) > maxCases) throw new UsageError(`--${name} selects more than ${maxCases} cases`);
    for (let n = from; n <= to; n++) cases.add(n);
  }
  return [...cases].sort((a, b) => a - b);
}

// `authority` is written once, with the other platform-neutral pieces the runtimes' bins share.
export { authority } from './tool_lifecycle.ts';

/** The message of anything thrown, for one line of output. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.name} ${code}: ${error.message}` : `${error.name}: ${error.message}`;
  }
  return String(error);
}

/**
 * Runs a tool's `main` and sets the exit status: a {@link UsageError} prints the usage and
 * exits 2; any other error prints its message and exits 1; otherwise `main`'s result stands.
 */
export function runMain(tool: string, usage: string, main: () => Promise<number | undefined>): void {
  main().then(
    (status) => {
      if (status !== undefined) process.exitCode = status;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${tool}: ${error.message}\n\n${usage}`);
        process.exitCode = EXIT_USAGE;
      } else {
        process.stderr.write(`${tool}: ${describeError(error)}\n`);
        process.exitCode = 1;
      }
    },
  );
}
