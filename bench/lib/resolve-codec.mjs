// Finds the codec build to measure. Default: bundle packages/codec/src with esbuild into
// a temp file, so a run always measures the current source and picks up new exports
// (such as the stream classes) without a rebuild of dist. Falls back to dist when the
// source does not build at this moment (someone mid-edit).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { root } from './paths.mjs';

/** @param which 'src' (default), 'dist', or a path to an ESM bundle */
export async function resolveCodec(which) {
  const dist = join(root, 'packages/codec/dist/index.js');
  if (which === 'dist') return { path: dist, from: 'packages/codec/dist/index.js' };
  if (which && which !== 'src' && which !== true) return { path: resolve(which), from: which };
  const tmp = mkdtempSync(join(tmpdir(), 'wsflow-bench-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const out = join(tmp, 'codec.mjs');
  try {
    const { build } = await import('esbuild');
    await build({
      entryPoints: [join(root, 'packages/codec/src/index.ts')],
      outfile: out,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      logLevel: 'silent',
    });
    return { path: out, from: 'packages/codec/src (bundled now with esbuild)' };
  } catch (e) {
    if (!existsSync(dist)) throw e;
    console.warn(`warning: could not bundle packages/codec/src (${String(e.message).split('\n')[0]}); using dist`);
    return { path: dist, from: 'packages/codec/dist/index.js (src did not build)' };
  }
}
