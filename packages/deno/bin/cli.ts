/**
 * The command-line plumbing the programs of this directory share: `--name value` and
 * `--name=value` options checked against the program's list, usage errors (exit 2),
 * `--help` (exit 0), `--runtime deno`, the servers' `--port`/`--host`, and a server's run
 * until SIGINT or SIGTERM (the logic itself is the platform-neutral
 * `tools/tool_lifecycle.ts`, given Deno's process calls here).
 * @module
 */
import { closeOnSignal, listeningLine, type ProcessHost } from '../../../tools/tool_lifecycle.ts';

/** A program of this directory, as its command line needs it. */
export interface Tool {
  /** The name its messages start with, e.g. `echo`. */
  readonly name: string;
  /** The usage text printed for `--help` and after a usage error. */
  readonly usage: string;
  /** The option names it takes (without `--`); each takes a value. */
  readonly options: readonly string[];
  /** What it is, for the message that refuses another `--runtime`. */
  readonly role: 'server' | 'driver';
}

/** A parsed command line. */
export interface CommandLine {
  /** The values given, by option name without `--` (the last one given wins). */
  readonly values: Readonly<Record<string, string>>;
  /** Prints `NAME: message` and the usage to standard error and exits 2. */
  fail(message: string): never;
}

/**
 * Parses `argv`: `--name value` and `--name=value` options; `--help`/`-h` prints the usage
 * and exits 0; an unknown name, a missing value or a `--runtime` other than `deno` exits 2.
 * (`--runtime deno` is accepted, so the repo's `npm run …` arguments pass through.)
 *
 * @example
 * ```ts
 * const cli = parseCommandLine({ name: 'echo', usage: USAGE, options: ['port', 'host', 'runtime'], role: 'server' }, Deno.args);
 * ```
 */
export function parseCommandLine(tool: Tool, argv: readonly string[]): CommandLine {
  function fail(message: string): never {
    console.error(`${tool.name}: ${message}\n\n${tool.usage}`);
    Deno.exit(2);
  }
  const known = new Set(tool.options);
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(tool.usage);
      Deno.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !known.has(match[1])) fail(`unknown argument ${JSON.stringify(arg)}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) fail(`--${match[1]} needs a value`);
    values[match[1]] = value;
  }
  if (values.runtime !== undefined && values.runtime !== 'deno') fail(`this ${tool.role} runs on Deno, not ${values.runtime}`);
  return { values, fail };
}

/**
 * The usage of a server of this directory, `script` being its file name.
 *
 * @example
 * ```ts
 * const USAGE = serverUsage('echo.ts');
 * ```
 */
export function serverUsage(script: string): string {
  return `usage: deno run -A packages/deno/bin/${script} --port PORT [--host 127.0.0.1]

  --port PORT      the TCP port; 0 lets the OS choose (printed on the "listening on" line)
  --host HOST      the address to listen on (default 127.0.0.1, loopback only)
`;
}

/** Where a server listens. */
export interface ListenAddress {
  port: number;
  host: string;
}

/** `--port` (required, 0-65535; 0 lets the OS choose) and `--host` (default 127.0.0.1); exits 2 for a bad one. */
export function listenAddress(cli: CommandLine): ListenAddress {
  const { port, host } = cli.values;
  if (port === undefined) cli.fail('--port is required');
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) cli.fail(`--port must be 0-65535, not ${JSON.stringify(port)}`);
  return { port: Number(port), host: host ?? '127.0.0.1' };
}

/**
 * A server's whole command line: `--port`, `--host` and `--runtime deno` (see
 * {@link parseCommandLine} and {@link listenAddress}); exits 0 for `--help`, 2 for a bad one.
 */
export function parseServerArgs(name: string, usage: string, argv: readonly string[]): ListenAddress {
  return listenAddress(parseCommandLine({ name, usage, options: ['port', 'host', 'runtime'], role: 'server' }, argv));
}

/** Deno's process calls, for `tools/tool_lifecycle.ts`. */
const DENO_PROCESS: ProcessHost = {
  writeError: (line) => console.error(line),
  exit: (code) => Deno.exit(code),
  onSignal: (signal, listener) => {
    Deno.addSignalListener(signal, listener);
    return () => Deno.removeSignalListener(signal, listener);
  },
  exitWhenClosed: true,
};

/**
 * Closes `server` on SIGINT or SIGTERM, exiting 0 once every connection is closed, and
 * prints `listening on ws://HOST:PORT` (`host` as asked for, the port as listened on).
 */
export function runUntilSignal(tool: string, server: { readonly port: number; close(): Promise<void> }, host: string): void {
  closeOnSignal(tool, server, DENO_PROCESS);
  console.log(listeningLine(host, server.port));
}
