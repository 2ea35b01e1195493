// Builds the package in the current directory: esbuild bundles src/index.ts to
// dist/index.js (ESM, platform-neutral) and tsc emits the .d.ts files beside it.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync('package.json', 'utf8')));
const external = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
const platform = pkg.wsflowPlatform ?? 'neutral';

rmSync('dist', { recursive: true, force: true });
// `wsflowEntries` in package.json names further entry points (subpath exports), e.g. "public".
const entries = ['index', ...(pkg.wsflowEntries ?? [])];
await build({
  entryPoints: Object.fromEntries(entries.map((name) => [name, `src/${name}.ts`])),
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform,
  target: 'es2022',
  external: [...external, 'node:*'],
  sourcemap: true,
  logLevel: 'warning',
});
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--emitDeclarationOnly', '--outDir', 'dist'], {
  stdio: 'inherit',
});
