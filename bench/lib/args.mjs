// The command line of a bench runner: `--name=value` and bare `--flag` (true), nothing
// else; `--help` prints the runner's header comment (its usage) and exits.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Parses `argv` (default: this process's arguments) into `{ name: value | true }`; throws
 * on an argument that is not `--name[=value]`. With `--help`, prints the comment block at
 * the top of the script at `scriptUrl` (after its `#!` line) and exits 0.
 *
 * @example
 *   const args = parseArgs(import.meta.url);
 *   const REPS = Number(args.reps ?? 3);
 */
export function parseArgs(scriptUrl, argv = process.argv.slice(2)) {
  const args = Object.fromEntries(
    argv.map((a) => {
      const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
      if (!m) throw new Error(`unknown argument ${a} (try --help)`);
      return [m[1], m[2] ?? true];
    }),
  );
  if (args.help) {
    console.log(headerComment(fileURLToPath(scriptUrl)));
    process.exit(0);
  }
  return args;
}

/** The `//` comment lines that open the file at `path`, after a `#!` line, without their markers. */
function headerComment(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[0]?.startsWith('#!')) lines.shift();
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, end < 0 ? lines.length : end).join('\n').replace(/^\/\/ ?/gm, '');
}
