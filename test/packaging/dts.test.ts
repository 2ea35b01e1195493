// The published declarations (packages/*/dist/**/*.d.ts, from `npm run build`) as a
// consumer's compiler sees them: strict, `skipLibCheck: false`, ES2022 without the DOM.
// Each consumer file in test/packaging/consumers imports one package by name.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const consumers = join(import.meta.dirname, 'consumers');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const work = join(root, '.tmp/dts');

/**
 * The web-platform globals each package's declarations name, which every runtime wsflow
 * supports has (browsers, Node with @types/node, Deno, Bun) but ES2022 alone does not.
 * Each package README states this list under "Types".
 */
const WEB_GLOBALS: Record<string, string[]> = {
  codec: ['Blob', 'Headers', 'ReadableStream', 'TransformStream', 'URL', 'WritableStream'],
  'deflate-js': ['Blob', 'Headers', 'ReadableStream', 'TransformStream', 'URL', 'WritableStream'],
  'deflate-zlib': ['Blob', 'Headers', 'ReadableStream', 'TransformStream', 'URL', 'WritableStream'],
  engine: ['AbortSignal', 'Blob', 'Headers', 'ReadableStream', 'Request', 'Response', 'TransformStream', 'URL', 'WritableStream'],
  websocket: [
    'AbortSignal', 'Blob', 'CloseEvent', 'DOMException', 'Event', 'EventTarget', 'Headers', 'MessageEvent', 'ReadableStream',
    'ReadableStreamDefaultReader', 'Request', 'Response', 'TransformStream', 'URL', 'WritableStream', 'WritableStreamDefaultWriter',
  ],
  bun: [
    'AbortSignal', 'Blob', 'CloseEvent', 'DOMException', 'Event', 'EventTarget', 'Headers', 'MessageEvent', 'ReadableStream',
    'ReadableStreamDefaultReader', 'Request', 'Response', 'TransformStream', 'URL', 'WritableStream', 'WritableStreamDefaultWriter',
  ],
};
/** Packages that run in browsers: also checked with the DOM lib and no @types/node. */
const BROWSER = ['codec', 'deflate-js', 'engine', 'websocket'];
/**
 * Every package but @wsflow/deno (whose declarations name the `Deno` namespace: Deno's own
 * types, which tsc lacks). @wsflow/node's declarations import `node:http` & co.
 */
const NODE_TYPED = [...Object.keys(WEB_GLOBALS), 'node'];

/**
 * Type-checks the consumer files of `packages` in one program with `options`; returns tsc's
 * diagnostics, one per line ('' when none). TypeScript's own lib files are not checked.
 */
function check(name: string, packages: string[], options: Record<string, unknown>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const config = {
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      noEmit: true,
      skipLibCheck: false,
      skipDefaultLibCheck: true,
      types: [],
      ...options,
    },
    files: packages.map((pkg) => join(consumers, `${pkg}.ts`)),
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
  try {
    execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error).trim();
  }
}

/** Every `.d.ts` under `dir`. */
function declarations(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('public declarations', () => {
  it(`${NODE_TYPED.map((p) => `@wsflow/${p}`).join(', ')} type-check under strict, lib ES2022 and @types/node, without the DOM lib`, () => {
    expect(check('node', NODE_TYPED, { lib: ['ES2022'], types: ['node'] })).toBe('');
  }, 180_000);

  it(`${BROWSER.map((p) => `@wsflow/${p}`).join(', ')} type-check in a browser project (lib ES2022 + DOM, no @types/node, bundler resolution)`, () => {
    const options = { lib: ['ES2022', 'DOM', 'DOM.Iterable'], module: 'ESNext', moduleResolution: 'Bundler' };
    expect(check('dom', BROWSER, options)).toBe('');
  }, 180_000);

  it.each(Object.keys(WEB_GLOBALS))(
    '@wsflow/%s with lib ES2022 alone misses only the web globals its README lists',
    (pkg) => {
      const out = check(`bare-${pkg}`, [pkg], { lib: ['ES2022'] });
      const lines = out.split('\n').filter((l) => /error TS\d+/.test(l));
      const missing = new Set<string>();
      const other: string[] = [];
      for (const line of lines) {
        const m = /error TS2304: Cannot find name '(\w+)'/.exec(line);
        if (m) missing.add(m[1]);
        else other.push(line);
      }
      expect(other).toEqual([]);
      expect([...missing].sort()).toEqual(WEB_GLOBALS[pkg]);
      const readme = readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8');
      const types = /^## Types\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1] ?? '';
      for (const name of WEB_GLOBALS[pkg]) expect(types, `README "## Types" of ${pkg} names ${name}`).toContain(`\`${name}\``);
    },
    120_000,
  );

  it.each(['codec', 'engine', 'websocket', 'node', 'deno', 'bun', 'deflate-zlib', 'deflate-js'])(
    '@wsflow/%s declarations have no @internal member and import siblings by their .js name',
    (pkg) => {
      for (const file of declarations(join(root, 'packages', pkg, 'dist'))) {
        const text = readFileSync(file, 'utf8');
        expect(text, file).not.toContain('@internal');
        expect(text, file).not.toMatch(/(?:from|import\()\s*['"]\.\.?\/[^'"]*\.ts['"]/);
      }
    },
  );
});
