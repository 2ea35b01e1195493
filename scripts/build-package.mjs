// Builds the package in the current directory into dist/, one module per source file, so
// that a bundler keeps only the modules an application reaches (tree shaking across files
// needs no analysis of a 150 KB bundle, and `sideEffects: false` lets it drop whole files):
//   - esbuild strips the types of every src/**/*.ts (ESM, ES2022) to dist/**/*.js; relative
//     imports stay imports, their `.ts` specifiers rewritten to `.js`; packages stay external.
//   - tsc emits the .d.ts files beside them with `stripInternal` (members and functions
//     tagged `@internal` are not public API), and their relative `.ts` specifiers are
//     rewritten to `.js` too, so consumers on any `moduleResolution` (and Deno) find them.
// No source maps: the output is unminified, one file per source file, so a stack frame in
// dist/ reads like the source; maps without the sources would only dangle in the tarball.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const platform = pkg.wsflowPlatform ?? 'neutral';

/** Every file under `dir` (relative paths with `/`), recursively. */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** A relative `.ts`/`.mts` specifier as the emitted `.js` one. */
const toJs = (specifier) => specifier.replace(/\.(m?)ts$/, '.$1js');

rmSync('dist', { recursive: true, force: true });
const sources = walk('src').filter((f) => /\.m?ts$/.test(f) && !/\.d\.m?ts$/.test(f));
await build({
  entryPoints: sources,
  outbase: 'src',
  outdir: 'dist',
  // "bundle" only so that the plugin below sees every import; it keeps them all external.
  bundle: true,
  format: 'esm',
  platform,
  target: 'es2022',
  logLevel: 'warning',
  plugins: [
    {
      name: 'one-module-per-file',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === 'entry-point') return undefined;
          if (args.path.startsWith('.')) return { path: toJs(args.path), external: true };
          return { path: args.path, external: true };
        });
      },
    },
  ],
});

const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--emitDeclarationOnly', '--stripInternal', '--outDir', 'dist'], {
  stdio: 'inherit',
});
// Relative specifiers in the declarations: `./x.ts` → `./x.js` (in `from '…'`, `import('…')`
// and `declare module '…'`); tsc's rewriteRelativeImportExtensions only rewrites the JS.
const SPECIFIER = /((?:\bfrom|\bimport\(|\bimport)\s*)(['"])(\.\.?\/[^'"]+?\.m?ts)\2/g;
for (const file of walk('dist').filter((f) => /\.d\.m?ts$/.test(f))) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(SPECIFIER, (_, lead, quote, spec) => `${lead}${quote}${toJs(spec)}${quote}`);
  if (rewritten !== text) writeFileSync(file, rewritten);
}
// Every emitted module must have its declaration (and the reverse), or a consumer's import
// of a subpath would type as `any` or fail.
const emitted = new Set(walk('dist').map((f) => relative('dist', f)));
for (const f of emitted) {
  if (f.endsWith('.js') && !emitted.has(f.replace(/\.js$/, '.d.ts'))) {
    throw new Error(`build: dist/${f} has no declaration file`);
  }
}

// A second build for the runtimes themselves: each entry bundled into one module
// (dist/runtime/, `splitting` so the entries of one package share one copy of its classes),
// other packages external. Node, Deno and Bun take it through the `node`/`deno`/`bun` export
// conditions; bundlers keep the per-file modules above. Measured: a 64 KiB echo costs the
// Node server about 40% more user CPU when the same code runs as one module per file.
const entries = ['index', ...(pkg.wsflowEntries ?? [])].map((name) => `src/${name}.ts`);
await build({
  entryPoints: entries,
  outdir: 'dist/runtime',
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  packages: 'external',
  format: 'esm',
  platform,
  target: 'es2022',
  logLevel: 'warning',
});
