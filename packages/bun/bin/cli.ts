/**
 * The command-line plumbing the programs of this directory share: `--name value` and
 * `--name=value` options checked against a table, usage errors (exit 2), `--help` (exit 0),
 * the servers' `--port`/`--host`/`--runtime` options, and a server's run until SIGINT or
 * SIGTERM (the logic itself is the platform-neutral `tools/tool_lifecycle.ts`).
 * @module
 */
import { processHost } from '../../../tools/process_host.ts';
import { closeOnSignal, listeningLine } from '../../../tools/tool_lifecycle.ts';

/** A bad command line: the program prints its message and the usage, then exits 2. */
export class UsageError extends Error {}

/** Checks an option's value when it is met (throwing a {@link UsageError}), or `null` for none. */
export type OptionCheck = ((value: string) => void) | null;

/**
 * Reads `argv` against `options` (`--name` → check): every option takes a value. An unknown
 * option or a missing value is a {@link UsageError}.
 * @returns the values by option name (the last one given wins), or `null` for `--help`/`-h`
 *
 * @example
 * ```ts
 * const values = readOptions(['--agent', 'a'], { '--agent': null }); // Map { '--agent' => 'a' }
 * ```
 */
export function readOptions(argv: readonly string[], options: Readonly<Record<string, OptionCheck>>): Map<string, string> | null {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') return null;
    const [name, inline] = argv[i].split('=', 2);
    if (!Object.hasOwn(options, name)) throw new UsageError(`unknown option ${JSON.stringify(argv[i])}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    options[name]?.(value);
    values.set(name, value);
  }
  return values;
}

/** `--port` (0-65535; 0 lets the OS choose) and `--host`, the options of every server here. */
export const LISTEN_OPTIONS: Readonly<Record<string, OptionCheck>> = {
  '--port': (text) => {
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--port must be 0-65535, not ${JSON.stringify(text)}`);
  },
  '--host': null,
};

/** `--runtime bun`, accepted (and only that) so that the repo's `npm run …` arguments pass through. */
export const RUNTIME_OPTION: Readonly<Record<string, OptionCheck>> = {
  '--runtime': (runtime) => {
    if (runtime !== 'bun') throw new UsageError(`this server runs on Bun, not ${runtime}`);
  },
};

/**
 * The usage of a server of this directory, `script` being its file name.
 *
 * @example
 * ```ts
 * const USAGE = serverUsage('echo.ts');
 * ```
 */
export function serverUsage(script: string): string {
  return `usage: bun run packages/bun/bin/${script} --port PORT [--host 127.0.0.1]

  --port PORT   the TCP port; 0 lets the OS choose (printed on the "listening on" line)
  --host HOST   the address to listen on (default 127.0.0.1, loopback only)
`;
}

/** Where a server listens. */
export interface ListenArgs {
  port: number;
  host: string;
}

/**
 * A server's command line: `--port` (required) and `--host` (default 127.0.0.1), plus
 * whatever else `options` accepts.
 * @returns the address, or `null` for `--help`
 */
export function parseListenArgs(argv: readonly string[], options: Readonly<Record<string, OptionCheck>> = LISTEN_OPTIONS): ListenArgs | null {
  const values = readOptions(argv, options);
  if (values === null) return null;
  const port = values.get('--port');
  if (port === undefined) throw new UsageError('--port is required');
  return { port: Number(port), host: values.get('--host') ?? '127.0.0.1' };
}

/**
 * Runs `parse`: an error it throws is printed as `TOOL: message` with the usage, exit 2;
 * `null` (asked for `--help`) prints the usage, exit 0.
 * @returns what `parse` returned, when it is neither
 */
export function commandLine<T>(tool: string, usage: string, parse: () => T | null): T {
  let parsed: T | null;
  try {
    parsed = parse();
  } catch (error) {
    process.stderr.write(`${tool}: ${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (parsed === null) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return parsed;
}

/** A listening server of this shim, as {@link runUntilSignal} needs it. */
export interface RunningServer {
  readonly hostname: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Prints `listening on ws://HOST:PORT` and closes `server` on SIGINT or SIGTERM, exiting 0
 * once every connection is closed (see `tools/tool_lifecycle.ts`).
 */
export function runUntilSignal(tool: string, server: RunningServer): void {
  closeOnSignal(tool, server, processHost(true));
  process.stdout.write(`${listeningLine(server.hostname, server.port)}\n`);
}
