/**
 * Runs a tool of this directory as a child process of the current Node, bounded in time,
 * for tests: to completion ({@link runTool}), or as a server until it prints its
 * `listening on ws://…` line ({@link startTool}). Children are ended by their own pid only.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** How a tool process ended and what it printed. */
export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A tool process that printed its `listening on` line. */
export interface RunningTool {
  readonly child: ChildProcess;
  /** The URL from the `listening on` line. */
  readonly url: string;
  /** Resolves when the process exits (killed with SIGKILL if it outlives its time limit). */
  readonly exited: Promise<ToolResult>;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
}

/** Node runs `.ts` files by stripping types from 23.6 (22.18) on; older ones need the flag. */
const NODE_ARGS = Number(process.versions.node.split('.')[0]) >= 23 ? [] : ['--experimental-strip-types'];

/** The repository root, the tools' working directory. */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

function launch(tool: string, args: readonly string[], timeout: number): { child: ChildProcess; exited: Promise<ToolResult>; output: () => { stdout: string; stderr: string } } {
  const script = fileURLToPath(new URL(`./${tool}`, import.meta.url));
  const child = spawn(process.execPath, [...NODE_ARGS, script, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, timeout);
  const exited = new Promise<ToolResult>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/**
 * Runs `tool` (a file of this directory) with `args` to completion.
 * It is killed with SIGKILL after `timeout` ms (then `signal` says so).
 *
 * @example
 * ```ts
 * const { code, stdout } = await runTool('autobahn_client.ts', ['--url', url, '--agent', 'a'], 30_000);
 * ```
 */
export function runTool(tool: string, args: readonly string[], timeout: number): Promise<ToolResult> {
  return launch(tool, args, timeout).exited;
}

/**
 * Starts `tool` and resolves once it prints `listening on ws://…`; rejects if it exits
 * first or prints nothing of the kind within `startTimeout` ms (it is then killed). The
 * process is killed with SIGKILL after `timeout` ms in all.
 */
export function startTool(tool: string, args: readonly string[], options: { startTimeout: number; timeout: number }): Promise<RunningTool> {
  const { child, exited, output } = launch(tool, args, options.timeout);
  return new Promise<RunningTool>((resolve, reject) => {
    const onData = (): void => {
      const match = /^listening on (ws:\/\/\S+)/m.exec(output().stdout);
      if (match === null) return;
      finish();
      resolve({ child, url: match[1], exited, output });
    };
    const timer = setTimeout(() => {
      finish();
      child.kill('SIGKILL');
      reject(new Error(`${tool} printed no "listening on" line within ${options.startTimeout} ms: ${JSON.stringify(output())}`));
    }, options.startTimeout);
    const finish = (): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
    };
    child.stdout!.on('data', onData);
    exited.then(
      (result) => {
        finish();
        reject(new Error(`${tool} exited (${result.code ?? result.signal}) before listening: ${JSON.stringify(result)}`));
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}
