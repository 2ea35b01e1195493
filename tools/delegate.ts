/**
 * `--runtime deno|bun`: the tools run on Node, so for another runtime they hand their
 * whole command line to that runtime's own copy of the tool (`packages/<runtime>/bin/`),
 * run by the runtime's binary from node_modules, forwarding signals and the exit code.
 * @module
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The command that runs a script under each delegated runtime, offline. */
const LAUNCHERS: Readonly<Record<string, (script: string) => [string, string[]]>> = {
  deno: (script) => [join(root, 'node_modules/.bin/deno'), ['run', '-A', '--no-lock', '--no-remote', script]],
  bun: (script) => [join(root, 'node_modules/.bin/bun'), ['run', '--no-install', script]],
};

/** Whether `runtime` is served by delegation rather than by a shim loaded into this Node process. */
export function isDelegated(runtime: string | undefined): boolean {
  return runtime !== undefined && Object.hasOwn(LAUNCHERS, runtime);
}

/**
 * Runs `packages/<runtime>/bin/<tool>.ts` with `args` under `runtime` and resolves with its
 * exit code. SIGINT and SIGTERM are passed on to it.
 */
export function delegate(runtime: string, tool: string, args: readonly string[]): Promise<number> {
  const [command, prefix] = LAUNCHERS[runtime](join(root, 'packages', runtime, 'bin', `${tool}.ts`));
  // The runtime's own tool needs no --runtime: drop the pair.
  const at = args.indexOf('--runtime');
  const rest = at === -1 ? [...args] : [...args.slice(0, at), ...args.slice(at + 2)];
  const child = spawn(command, [...prefix, ...rest], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`cannot run ${runtime}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + 15)));
  });
}
