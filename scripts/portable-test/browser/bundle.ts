/**
 * Bundles Vitest-style test files for a browser page, as scripts/test-runtimes.mjs does for
 * Deno and Bun: one esbuild build (ESM, code splitting, `vitest` aliased to the portable
 * harness), each test file its own entry, and a generated `main.js` that hands the list to
 * the harness's `__run`. Differences for the browser:
 *
 * - `platform: 'browser'` (the `browser` export conditions);
 * - `@wsflow/<name>` resolves to `packages/<name>/src/index.ts`, so the page tests the
 *   sources as they are now (the Deno/Bun runner uses the built `dist/`);
 * - a page cannot exit, so `main.js` exports `result`, the promise of the harness's
 *   `RunResult`, for the runner to await (`import('/suite/main.js').then((m) => m.result)`);
 * - no Node built-in may reach the page: a first build finds the test files that import
 *   one (`node:*` or a bare built-in such as `fs`), directly or through what they import;
 *   they are left out and listed in `skipped`, and the final bundle is checked to import
 *   none.
 *
 * The files are kept in memory (`files`: path relative to the bundle root -> contents), to
 * be served from 127.0.0.1 by ./serve.ts.
 * @module
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const harness = join(root, 'scripts/portable-test/harness.ts');
const TEST_FILE = /\.test\.[cm]?[jt]s$/;
const MAIN = 'wsflow-portable-browser-main';

/** Node's built-in modules, by every name they can be imported under. */
const NODE_BUILTINS = ['node:*', ...builtinModules.flatMap((m) => (m.startsWith('node:') ? [m] : [m, `${m}/*`]))];

export interface BrowserBundle {
  /** Test files bundled, relative to the repo root, in run order. */
  tests: string[];
  /** Test files left out because they need Node, with the built-ins they reach. */
  skipped: Array<{ file: string; builtins: string[] }>;
  /** Bundle files by path relative to the bundle root (`main.js`, `t000-….js`, `chunks/…`). */
  files: Map<string, Uint8Array>;
  /** Milliseconds the two builds took. */
  ms: number;
}

/** All test files under `dir`, recursively, skipping node_modules; sorted. */
function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFiles(p);
      return TEST_FILE.test(e.name) ? [p] : [];
    })
    .sort();
}

const label = (file: string) => relative(root, file).split(sep).join('/');

/** `@wsflow/<name>` -> its package's source entry, for every workspace package that has one. */
function workspaceSourceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const e of readdirSync(join(root, 'packages'), { withFileTypes: true })) {
    const entry = join(root, 'packages', e.name, 'src', 'index.ts');
    if (e.isDirectory() && existsSync(entry)) aliases[`@wsflow/${e.name}`] = entry;
  }
  return aliases;
}

const common: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  mainFields: ['browser', 'module', 'main'],
  conditions: ['browser', 'import', 'default'],
  write: false,
  logLevel: 'silent',
};

/** The Node built-ins each output imports, through its own imports (chunks) too. */
function builtinsByEntry(metafile: Metafile): Map<string, string[]> {
  const outputs = metafile.outputs;
  const reach = (out: string, seen: Set<string>): string[] => {
    if (seen.has(out)) return [];
    seen.add(out);
    return (outputs[out]?.imports ?? []).flatMap((i) => (i.external ? [i.path] : reach(i.path, seen)));
  };
  const result = new Map<string, string[]>();
  for (const [out, info] of Object.entries(outputs)) {
    if (info.entryPoint === undefined) continue;
    const builtins = [...new Set(reach(out, new Set()))].filter((p) => p.startsWith('node:') || builtinModules.includes(p.split('/')[0]!));
    result.set(resolve(info.entryPoint), builtins);
  }
  return result;
}

/**
 * Bundles every `<package>/test/**\/*.test.ts` of `packageDirs` (relative to the repo root)
 * for the page.
 * @throws esbuild's error when a build fails
 */
export async function bundleForBrowser(packageDirs: string[], options: { runtime?: string; testTimeout?: number } = {}): Promise<BrowserBundle> {
  const t0 = performance.now();
  const all = packageDirs.flatMap((d) => testFiles(join(root, d, 'test')));
  const alias = { vitest: harness, ...workspaceSourceAliases() };

  // 1. Which test files reach a Node built-in? (Built-ins external, so the build succeeds.)
  const probe = await build({
    ...common,
    entryPoints: all,
    outdir: '/probe',
    splitting: true,
    alias,
    external: NODE_BUILTINS,
    metafile: true,
  });
  const reached = builtinsByEntry(probe.metafile!);
  const skipped = all.flatMap((f) => {
    const builtins = reached.get(resolve(f)) ?? [];
    return builtins.length > 0 ? [{ file: label(f), builtins }] : [];
  });
  const tests = all.filter((f) => (reached.get(resolve(f)) ?? []).length === 0);

  // 2. The bundle: main plus one entry per test file (t000-name, …), as test-runtimes.mjs names them.
  const entries = Object.fromEntries(tests.map((f, i) => [`t${String(i).padStart(3, '0')}-${basename(f).replace(/\.[^.]+$/, '')}`, f]));
  const main =
    `// Generated by scripts/portable-test/browser/bundle.ts.\n` +
    `import { __run } from ${JSON.stringify(harness)};\n` +
    `const load = (name) => () => import(new URL(\`./\${name}.js\`, import.meta.url).href);\n` +
    `export const result = __run(${JSON.stringify(options.runtime ?? 'chromium')}, [\n` +
    Object.entries(entries).map(([name, f]) => `  [${JSON.stringify(label(f))}, load(${JSON.stringify(name)})],\n`).join('') +
    `]${options.testTimeout === undefined ? '' : `, { testTimeout: ${options.testTimeout} }`});\n`;
  const virtualMain: Plugin = {
    name: 'main',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${MAIN}$`) }, () => ({ path: MAIN, namespace: MAIN }));
      b.onLoad({ filter: /.*/, namespace: MAIN }, () => ({ contents: main, loader: 'js', resolveDir: root }));
    },
  };
  // Nothing of Node may be imported now: esbuild fails on a built-in it cannot resolve for the browser.
  const outdir = join(root, '.portable-browser-bundle'); // never written: only names the paths
  const result = await build({
    ...common,
    entryPoints: { main: MAIN, ...entries },
    outdir,
    splitting: true,
    alias,
    plugins: [virtualMain],
    sourcemap: 'linked',
    chunkNames: 'chunks/[name]-[hash]',
  });
  const files = new Map<string, Uint8Array>();
  for (const out of result.outputFiles!) files.set(relative(outdir, out.path).split(sep).join('/'), out.contents);
  // Belt and braces: no output imports a built-in.
  const decoder = new TextDecoder();
  for (const [path, contents] of files) {
    if (!path.endsWith('.js')) continue;
    const hit = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](node:[^"']+)["']/.exec(decoder.decode(contents));
    if (hit) throw new Error(`${path} imports ${hit[1]}: a Node built-in reached the browser bundle`);
  }
  return { tests: tests.map(label), skipped, files, ms: Math.round(performance.now() - t0) };
}
