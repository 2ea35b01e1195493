#!/usr/bin/env node
// `npm run docs`: the API site, built by TypeDoc from the TSDoc of every package's public
// entry point (typedoc.json), with the guides of docs/guides/ as pages, into docs-site/.
// Offline: TypeDoc reads only the repo.
//
// Fails (exit 1) on any TypeDoc error and on every warning about a broken link: a
// `{@link}` that resolves to nothing, a relative link in a guide or README to a file that
// does not exist, a guide glob that matches nothing. Links to symbols that exist but are not
// exported (TypeDoc: "resolved but is not included in the documentation") are counted and
// printed, not fatal: the TSDoc may name internals.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Which TypeDoc output lines are fatal. */
export function classify(line) {
  const text = line.replace(/\x1b\[[0-9;]*m/g, '');
  // A message may start with its source location: `./docs/guides/x.md:56:23 - [warning] …`.
  if (/Found \d+ errors and \d+ warnings/.test(text)) return 'other';
  if (/(^|\s)\[error\]/.test(text)) return 'error';
  if (!/(^|\s)\[warning\]/.test(text)) return 'other';
  if (/resolved but is not included in the documentation/.test(text)) return 'not-exported';
  if (/Failed to resolve link|could not be resolved|is not a file|does not exist|did not match any|Failed to find .* to inherit/.test(text)) return 'broken-link';
  return 'warning';
}

async function main() {
  const counts = { error: 0, 'broken-link': 0, 'not-exported': 0, warning: 0 };
  const code = await new Promise((done) => {
    const child = spawn(join(root, 'node_modules/.bin/typedoc'), ['--options', join(root, 'typedoc.json')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    const take = (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        const kind = classify(line);
        if (kind in counts) counts[kind]++;
        if (kind !== 'other') console.log(`${kind === 'broken-link' || kind === 'error' ? 'FATAL ' : ''}${line}`);
        else if (line.trim()) console.log(line);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (status) => done(status ?? 1));
  });
  const site = join(root, 'docs-site');
  const pages = existsSync(site) ? readdirSync(site, { recursive: true }).filter((f) => String(f).endsWith('.html')).length : 0;
  console.log(`docs: ${pages} pages in docs-site/; ${counts.error} errors, ${counts['broken-link']} broken links, ${counts['not-exported']} links to internal symbols, ${counts.warning} other warnings`);
  const ok = code === 0 && counts.error === 0 && counts['broken-link'] === 0 && pages > 0;
  console.log(`docs: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
  return ok ? 0 : 1;
}

/** `--classify`: reads TypeDoc output lines on stdin and prints each one's kind (for tests). */
async function classifyStdin() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  for (const line of text.split('\n').filter(Boolean)) console.log(classify(line));
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await (process.argv.includes('--classify') ? classifyStdin() : main()));
}
