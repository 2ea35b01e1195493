// What `npm publish` would upload for each package (`npm pack --dry-run --json`, offline),
// and the package.json fields a registry page and a consumer's tools read.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const REPOSITORY = 'git+https://github.com/wsflow/wsflow.git';
const packages = readdirSync(join(root, 'packages')).filter((d) => !d.startsWith('.')).sort();

interface PackResult {
  name: string;
  files: Array<{ path: string }>;
}

/** `npm pack --dry-run --json` in `dir`: the tarball's files and what npm wrote to stderr. */
function pack(dir: string): { files: string[]; stderr: string } {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`npm pack failed in ${dir}: ${r.stderr}`);
  const result = JSON.parse(r.stdout) as PackResult[];
  return { files: result[0].files.map((f) => f.path).sort(), stderr: r.stderr };
}

/** Every file an `exports` map points at. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

describe.each(packages)('@wsflow/%s as published', (dir) => {
  const pkgDir = join(root, 'packages', dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

  it('the tarball holds README.md, LICENSE, package.json and dist/ .js and .d.ts files, nothing else', () => {
    const { files, stderr } = pack(pkgDir);
    expect(stderr).not.toMatch(/npm warn/i);
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    expect(files).toContain('package.json');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    const stray = files.filter((f) => !['README.md', 'LICENSE', 'package.json'].includes(f) && !/^dist\/.+\.(?:js|d\.ts)$/.test(f));
    expect(stray).toEqual([]);
    // Every export target (and main/types) ships.
    for (const target of [...exportTargets(pkg.exports), pkg.main, pkg.types]) {
      expect(files, `${target} is in the tarball`).toContain(target.replace(/^\.\//, ''));
    }
  }, 60_000);

  it('package.json has the metadata a registry and a consumer read', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(pkgDir, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} wsflow contributors\n/);
    expect(pkg.repository).toEqual({ type: 'git', url: REPOSITORY, directory: `packages/${dir}` });
    expect(pkg.homepage).toBe(`https://github.com/wsflow/wsflow/tree/main/packages/${dir}#readme`);
    expect(pkg.bugs).toEqual({ url: 'https://github.com/wsflow/wsflow/issues' });
    expect(pkg.keywords).toEqual(expect.arrayContaining(['websocket']));
    expect(Object.keys(pkg.engines ?? {}).length).toBeGreaterThan(0);
    // false, or (a test kit's entries that register matchers and hooks on import) a list of
    // files that the package exports.
    if (Array.isArray(pkg.sideEffects)) {
      const targets = exportTargets(pkg.exports);
      for (const file of pkg.sideEffects as string[]) expect(targets, `sideEffects names ${file}`).toContain(file);
    } else expect(pkg.sideEffects).toBe(false);
    expect(pkg.type).toBe('module');
    expect(pkg.files).toEqual(['dist']);
    // `types` first in every condition object, so TypeScript picks it before `import`.
    for (const [subpath, conditions] of Object.entries(pkg.exports as Record<string, unknown>)) {
      if (typeof conditions === 'object' && conditions !== null) {
        expect(Object.keys(conditions)[0], `exports["${subpath}"]`).toBe('types');
      }
    }
  });

  it('every workspace dependency is pinned to the version in the repo', () => {
    for (const [name, range] of Object.entries({ ...pkg.dependencies } as Record<string, string>)) {
      if (!name.startsWith('@wsflow/')) continue;
      const dep = JSON.parse(readFileSync(join(root, 'packages', name.slice('@wsflow/'.length), 'package.json'), 'utf8'));
      expect(range, name).toBe(dep.version);
    }
  });
});
