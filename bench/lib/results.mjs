// Where a bench script saves every number of a run, and how: pretty JSON, one file a run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { root } from './paths.mjs';

/**
 * The file a run's results go to: `json` (the `--json=FILE` argument) when given, else
 * bench/results/`name`-<ISO time>.json (bench/results/ is not committed).
 *
 * @example
 *   const file = resultsFile('fanout', args.json); // bench/results/fanout-2026-12-08T02-40-00-000Z.json
 */
export function resultsFile(name, json) {
  if (typeof json === 'string') return resolve(json);
  return join(root, 'bench', 'results', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
}

/** Writes `data` to `file` as indented JSON (creating its directory). */
export function writeResults(file, data) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
