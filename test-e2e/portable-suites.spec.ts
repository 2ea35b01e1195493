/**
 * The portable Vitest suites, run inside Chromium: `packages/websocket/test` (the facade's
 * spec-conformance suite) and `packages/codec/test`, bundled for the browser as
 * scripts/test-runtimes.mjs bundles them for Deno and Bun (`vitest` aliased to the portable
 * harness; see scripts/portable-test/browser/), served from 127.0.0.1 and run in a page.
 * Every test must pass, and at least as many must run as the suites had when this spec was
 * written (so a suite that silently lost its files fails here). A test file that needs Node
 * (`node:*` or a bare built-in) is left out and named in the output; none does today.
 */
import { expect, test, type Page } from '@playwright/test';
import { bundleForBrowser } from '../scripts/portable-test/browser/bundle.ts';
import { serveBundle } from '../scripts/portable-test/browser/serve.ts';
import type { RunResult } from '../scripts/portable-test/harness.ts';

/** Runs the suites of `packageDirs` in `page`; prints the harness's output and returns its result. */
async function runInChromium(page: Page, packageDirs: string[]): Promise<{ result: RunResult; tests: string[]; skipped: string[] }> {
  const bundle = await bundleForBrowser(packageDirs);
  const skipped = bundle.skipped.map((s) => `${s.file} (needs ${s.builtins.join(', ')})`);
  console.log(`chromium: bundled ${bundle.tests.length} test files of ${packageDirs.join(', ')} in ${bundle.ms}ms`);
  for (const s of skipped) console.log(`chromium: skipped ${s}`);
  const server = await serveBundle(bundle);
  const output: string[] = [];
  const errors: string[] = [];
  page.on('console', (m) => output.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(server.url);
    const result = (await page.evaluate(`import('/suite/main.js').then((m) => m.result)`)) as RunResult;
    // The harness's lines: one per file, the failures (without their stack frames), the counts.
    console.log(output.filter((l) => l !== '').join('\n').replace(/\n\s+at .*/g, ''));
    expect(errors, 'uncaught errors in the page').toEqual([]);
    return { result, tests: bundle.tests, skipped };
  } finally {
    await server.close();
  }
}

/** The title line of each failure the harness reported (`FAIL <file> > <suite> > <test>`). */
const failedTitles = (result: RunResult) => result.failures.map((f) => f.split('\n', 1)[0]!.replace(/^FAIL /, ''));

/**
 * Tests that cannot pass in a document, by title, with why. Each must fail for the reason
 * given (or pass once its test is made portable: then it is reported, not failed, so the
 * list can be trimmed); any other failure fails this spec.
 */
const NOT_PORTABLE_TO_A_PAGE: Record<string, string> = {
  // Empty: the tests that assumed no base URL now skip themselves where `location` exists
  // (a page's relative URLs parse against it, as they do for Chromium's own WebSocket).
};

/** Checks a run: no failure but the known ones, and at least `minTests` tests run. */
function expectPassed(result: RunResult, minTests: number): void {
  const failed = failedTitles(result);
  const unexpected = failed.filter((t) => !(t in NOT_PORTABLE_TO_A_PAGE));
  expect(unexpected, `failures in Chromium:\n${result.failures.filter((f) => unexpected.some((t) => f.includes(t))).join('\n\n')}`).toEqual([]);
  for (const title of failed) test.info().annotations.push({ type: 'not portable to a page', description: `${title}: ${NOT_PORTABLE_TO_A_PAGE[title]}` });
  expect(result.failed).toBe(failed.length);
  expect(result.passed + result.failed + result.skipped).toBeGreaterThanOrEqual(minTests);
  console.log(`chromium: ${result.passed} passed, ${result.failed} failed (${failed.length} known not portable to a page), ${result.skipped} skipped`);
  test.info().annotations.push({ type: 'counts', description: `${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped` });
}

test('packages/websocket/test passes in Chromium', async ({ page }) => {
  test.setTimeout(60_000);
  const { result, tests, skipped } = await runInChromium(page, ['packages/websocket']);
  expect(skipped, 'test files that need Node').toEqual([]);
  expect(tests.length).toBeGreaterThanOrEqual(12);
  expectPassed(result, 400);
  const known = Object.keys(NOT_PORTABLE_TO_A_PAGE);
  const nowPassing = known.filter((t) => !failedTitles(result).includes(t));
  if (nowPassing.length > 0) console.log(`chromium: these now pass, trim NOT_PORTABLE_TO_A_PAGE:\n${nowPassing.join('\n')}`);
});

test('packages/codec/test passes in Chromium', async ({ page }) => {
  test.setTimeout(60_000);
  const { result, tests, skipped } = await runInChromium(page, ['packages/codec']);
  expect(skipped, 'test files that need Node').toEqual([]);
  expect(tests.length).toBeGreaterThanOrEqual(22);
  expectPassed(result, 847);
  expect(result.failed).toBe(0);
});

test('packages/deflate-js/test passes in Chromium', async ({ page }) => {
  test.setTimeout(60_000);
  const { result, tests, skipped } = await runInChromium(page, ['packages/deflate-js']);
  expect(skipped, 'test files that need Node').toEqual([]);
  expect(tests.length).toBeGreaterThanOrEqual(3);
  expectPassed(result, 40);
  expect(result.failed).toBe(0);
});
