/**
 * A portable stand-in for the `vitest` module, so the codec's Vitest files run unchanged
 * under Deno and Bun. `scripts/test-runtimes.mjs` bundles each test file with esbuild,
 * aliasing `vitest` to this file, and calls `__run` with the bundled files.
 *
 * Supported: describe/suite, it/test (+ .skip, .only, .todo, .skipIf, .runIf, .each, .for,
 * .concurrent and .sequential, which both run sequentially), beforeAll/afterAll/
 * beforeEach/afterEach (a returned function is a teardown), onTestFinished, async tests,
 * per-test timeouts (`it(name, fn, ms | { timeout })` or `it(name, { timeout }, fn)`),
 * the test context (`{ task, expect, skip, signal, onTestFinished }`) and `expect`
 * (see ./expect.ts). Not supported: `vi` (mocks, fake timers), snapshots, async describe
 * callbacks, retries. Tests run one at a time in declaration order, so runs are
 * deterministic. `.only` applies per file, as in Vitest.
 * @module
 */
import { AssertionError, assertionState, expect } from './expect.ts';
import { format } from './format.ts';

export { expect };

type Mode = 'run' | 'skip' | 'only' | 'todo';
type Hook = (...args: any[]) => unknown;
type TestFn = (ctx: TestContext) => unknown;
type Options = { timeout?: number; skip?: boolean; only?: boolean; todo?: boolean };

/** What a test function receives as its only argument. */
export interface TestContext {
  task: { name: string; file: string };
  expect: typeof expect;
  /** Marks the running test skipped and stops it. */
  skip(note?: string): never;
  /** Aborted when the test times out. */
  signal: AbortSignal;
  onTestFinished(fn: () => unknown): void;
}

interface Test {
  kind: 'test';
  name: string;
  fn?: TestFn;
  mode: Mode;
  timeout?: number;
  parent: Suite;
}
interface Suite {
  kind: 'suite';
  name: string;
  mode: Mode;
  parent?: Suite;
  children: (Suite | Test)[];
  hooks: Record<'beforeAll' | 'afterAll' | 'beforeEach' | 'afterEach', Hook[]>;
}

const newSuite = (name: string, mode: Mode, parent?: Suite): Suite => ({
  kind: 'suite', name, mode, parent, children: [],
  hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] },
});

// ---------------------------------------------------------------------------------------
// Collection: test files call these at module evaluation time.

/** The suite new tests and hooks are added to; null while tests run. */
let collecting: Suite | null = null;

function currentSuite(what: string): Suite {
  if (!collecting) throw new Error(`${what}() must be called while a test file is being collected, not inside a running test`);
  return collecting;
}

/** Splits Vitest's overloads `(name, fn, ms|opts)` and `(name, opts, fn)`. */
function args(a?: unknown, b?: unknown): { fn?: Function; opts: Options } {
  if (typeof a === 'function') return { fn: a, opts: typeof b === 'number' ? { timeout: b } : ((b as Options) ?? {}) };
  return { fn: b as Function | undefined, opts: typeof a === 'number' ? { timeout: a } : ((a as Options) ?? {}) };
}

function modeOf(mode: Mode, opts: Options, hasFn: boolean): Mode {
  if (!hasFn || opts.todo) return 'todo';
  if (opts.skip) return 'skip';
  if (opts.only) return 'only';
  return mode;
}

function addTest(mode: Mode, name: string, a?: unknown, b?: unknown): void {
  const parent = currentSuite('test');
  const { fn, opts } = args(a, b);
  parent.children.push({ kind: 'test', name: String(name), fn: fn as TestFn, mode: modeOf(mode, opts, !!fn), timeout: opts.timeout, parent });
}

function addSuite(mode: Mode, name: string, a?: unknown, b?: unknown): void {
  const parent = currentSuite('describe');
  const { fn, opts } = args(a, b);
  const suite = newSuite(String(name), modeOf(mode, opts, !!fn), parent);
  parent.children.push(suite);
  collecting = suite;
  try {
    const result = fn?.();
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      throw new Error(`describe("${name}"): async describe callbacks are not supported by the portable harness`);
    }
  } finally {
    collecting = parent;
  }
}

/** Fills `%s %d %i %f %j %o %O %# %%` from an array row, or `$key.path` from an object row. */
function title(template: string, row: unknown, index: number): string {
  const values = Array.isArray(row) ? [...row] : [row];
  let out = template.replace(/%[sdifjoO#%]/g, (spec) => {
    if (spec === '%%') return '%';
    if (spec === '%#') return String(index);
    if (values.length === 0) return spec;
    const v = values.shift();
    if (spec === '%s') return typeof v === 'string' ? v : format(v);
    if (spec === '%d' || spec === '%f') return String(Number(v));
    if (spec === '%i') return String(Math.trunc(Number(v)));
    return format(v);
  });
  if (row !== null && typeof row === 'object' && !Array.isArray(row)) {
    out = out.replace(/\$([\w.]+)/g, (all, path: string) => {
      let v: unknown = row;
      for (const k of path.split('.')) v = v == null ? undefined : (v as Record<string, unknown>)[k];
      return v === undefined && !(path.split('.')[0]! in row) ? all : format(v);
    });
  }
  return out;
}

type Add = (mode: Mode, name: string, a?: unknown, b?: unknown) => void;

/** Builds `test`/`describe` with their modifiers; each modifier is another such function. */
function api(add: Add, mode: Mode): any {
  const fn = (name: string, a?: unknown, b?: unknown) => add(mode, name, a, b);
  // .each spreads array rows into arguments; .for passes the row as-is (plus the context).
  const table = (spread: boolean) => (rows: readonly unknown[]) => (name: string, a?: unknown, b?: unknown) => {
    const { fn: body, opts } = args(a, b);
    rows.forEach((row, i) => {
      const run = body && ((ctx: unknown) => (spread && Array.isArray(row) ? body(...row) : spread ? body(row) : body(row, ctx)));
      add(mode, title(name, row, i), run ?? opts, run ? opts : undefined);
    });
  };
  // Modifiers are lazy getters (building them eagerly would recurse forever).
  const modifier = (m: Mode) => ({ get: () => api(add, m) });
  return Object.defineProperties(Object.assign(fn, {
    skipIf: (cond: unknown) => api(add, cond ? 'skip' : mode),
    runIf: (cond: unknown) => api(add, cond ? mode : 'skip'),
    each: table(true),
    for: table(false),
  }), {
    skip: modifier('skip'),
    only: modifier(mode === 'skip' ? 'skip' : 'only'),
    todo: modifier('todo'),
    concurrent: modifier(mode),
    sequential: modifier(mode),
  });
}

export const test = api(addTest, 'run');
export const it = test;
export const describe = api(addSuite, 'run');
export const suite = describe;
export const beforeAll = (fn: Hook) => void currentSuite('beforeAll').hooks.beforeAll.push(fn);
export const afterAll = (fn: Hook) => void currentSuite('afterAll').hooks.afterAll.push(fn);
export const beforeEach = (fn: Hook) => void currentSuite('beforeEach').hooks.beforeEach.push(fn);
export const afterEach = (fn: Hook) => void currentSuite('afterEach').hooks.afterEach.push(fn);

// ---------------------------------------------------------------------------------------
// Running.

class SkipSignal extends Error {}

interface Stats { passed: number; failed: number; skipped: number }
/** What `__run` resolves with where it cannot exit (a browser page); elsewhere it exits. */
export interface RunResult extends Stats { failures: string[]; code: number }
const failures: string[] = [];
/** Errors raised while a test runs (its own, or unhandled ones that surface meanwhile). */
let running: { errors: unknown[]; finished: (() => unknown)[] } | null = null;
let testTimeout = 5_000;
let hookTimeout = 10_000;

/** Vitest's `onTestFinished`: runs after the current test, pass or fail. */
export function onTestFinished(fn: () => unknown): void {
  if (!running) throw new Error('onTestFinished() must be called inside a running test');
  running.finished.push(fn);
}

/** Settles with `thunk()` or rejects after `ms` (0 or Infinity: no limit), aborting `abort`. */
function withTimeout(thunk: () => unknown, ms: number, what: string, abort?: AbortController): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = new Promise((resolve) => resolve(thunk()));
  if (!(ms > 0 && ms < Infinity)) return body;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => {
      abort?.abort();
      reject(new Error(`${what} timed out in ${ms}ms`));
    }, ms);
  });
  return Promise.race([body, limit]).finally(() => clearTimeout(timer));
}

/** Pretty-prints an error: its head (with own properties such as `closeCode`) and our callers' frames. */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return `Thrown: ${format(e)}`;
  const head = e instanceof AssertionError ? `${e.name}: ${e.message}` : format(e);
  const frames = (e.stack ?? '')
    .split('\n')
    // Drop frames of the harness, of the generated entry and of runtime internals.
    .filter((l) => /^\s+at /.test(l) && !/portable-test[/\\]|main\.src\.ts|ext:|node:internal|\(native[:)]|\(<anonymous>\)$/.test(l))
    .slice(0, 8)
    .map((l) => `    ${l.trim()}`);
  const cause = e.cause === undefined ? '' : `\n  Caused by: ${describeError(e.cause)}`;
  return [head, ...frames].join('\n') + cause;
}

function fail(path: string[], errors: unknown[]): void {
  failures.push(`FAIL ${path.join(' > ')}\n${errors.map((e) => `  ${describeError(e).replaceAll('\n', '\n  ')}`).join('\n')}`);
}

const leaves = (s: Suite): Test[] => s.children.flatMap((c) => (c.kind === 'test' ? [c] : leaves(c)));
const hasOnly = (s: Suite): boolean => s.mode === 'only' || s.children.some((c) => (c.kind === 'test' ? c.mode === 'only' : hasOnly(c)));
const ancestors = (t: Test): Suite[] => {
  const out: Suite[] = [];
  for (let s: Suite | undefined = t.parent; s; s = s.parent) out.unshift(s);
  return out;
};

/** Whether a test should run: not skipped/todo itself or via a suite, and selected by `.only` if the file uses it. */
function runnable(t: Test, only: boolean): boolean {
  const chain = [...ancestors(t), t];
  if (chain.some((n) => n.mode === 'skip' || n.mode === 'todo')) return false;
  return !only || chain.some((n) => n.mode === 'only');
}

async function runTest(t: Test, path: string[], file: string, stats: Stats): Promise<void> {
  const chain = ancestors(t);
  const abort = new AbortController();
  const state = { errors: [] as unknown[], finished: [] as (() => unknown)[] };
  running = state;
  Object.assign(assertionState, { calls: 0, expected: -1, hasAssertions: false });
  const ctx: TestContext = {
    task: { name: t.name, file },
    expect,
    skip: (note?: string) => {
      throw new SkipSignal(note ?? 'skipped');
    },
    signal: abort.signal,
    onTestFinished: (fn) => void state.finished.push(fn),
  };
  let skipped = false;
  const teardowns: Hook[] = [];
  try {
    for (const s of chain) {
      for (const h of s.hooks.beforeEach) {
        const r = await withTimeout(() => h(ctx, s), hookTimeout, 'beforeEach hook');
        if (typeof r === 'function') teardowns.unshift(r as Hook);
      }
    }
    await withTimeout(() => t.fn!(ctx), t.timeout ?? testTimeout, 'test', abort);
    const { calls, expected, hasAssertions } = assertionState;
    if (expected >= 0 && calls !== expected) throw new AssertionError(`expected ${expected} assertions, but ${calls} were made`);
    if (hasAssertions && calls === 0) throw new AssertionError('expected at least one assertion, but none were made');
  } catch (e) {
    if (e instanceof SkipSignal) skipped = true;
    else state.errors.push(e);
  }
  // afterEach hooks run innermost first, then beforeEach teardowns, then onTestFinished.
  const after = [...chain].reverse().flatMap((s) => [...s.hooks.afterEach].reverse().map((h) => () => h(ctx, s)));
  for (const h of [...after, ...teardowns.map((h) => () => h()), ...state.finished]) {
    try {
      await withTimeout(h, hookTimeout, 'afterEach hook');
    } catch (e) {
      state.errors.push(e);
    }
  }
  running = null;
  if (state.errors.length > 0) {
    stats.failed++;
    fail(path, state.errors);
  } else if (skipped) stats.skipped++;
  else stats.passed++;
}

async function runSuite(s: Suite, path: string[], file: string, only: boolean, stats: Stats): Promise<void> {
  const tests = leaves(s);
  if (!tests.some((t) => runnable(t, only))) {
    stats.skipped += tests.length;
    return;
  }
  const teardowns: Hook[] = [];
  let setupError: unknown;
  try {
    for (const h of s.hooks.beforeAll) {
      const r = await withTimeout(() => h(s), hookTimeout, 'beforeAll hook');
      if (typeof r === 'function') teardowns.unshift(r as Hook);
    }
  } catch (e) {
    setupError = e ?? new Error('beforeAll hook failed');
  }
  for (const c of s.children) {
    if (c.kind === 'suite') {
      if (setupError === undefined) await runSuite(c, [...path, c.name], file, only, stats);
      else stats.skipped += leaves(c).length;
    } else if (!runnable(c, only)) stats.skipped++;
    else if (setupError !== undefined) {
      // A failed beforeAll fails every test it was meant to prepare.
      stats.failed++;
      fail([...path, c.name], [setupError]);
    } else await runTest(c, [...path, c.name], file, stats);
  }
  for (const h of [...[...s.hooks.afterAll].reverse(), ...teardowns]) {
    try {
      await withTimeout(() => h(s), hookTimeout, 'afterAll hook');
    } catch (e) {
      stats.failed++;
      fail([...path, '(afterAll)'], [e]);
    }
  }
}

/** Routes unhandled rejections and uncaught errors to the running test, or to the run. */
function catchUnhandled(onError: (e: unknown) => void): void {
  const g = globalThis as any;
  if (g.process?.on) {
    g.process.on('unhandledRejection', onError);
    g.process.on('uncaughtException', onError);
  } else if (g.addEventListener) {
    g.addEventListener('unhandledrejection', (ev: any) => (ev.preventDefault(), onError(ev.reason)));
    g.addEventListener('error', (ev: any) => (ev.preventDefault(), onError(ev.error)));
  }
}

/**
 * Runs the given test files in order, prints one line per file, the failures, and a last
 * line `<runtime>: N passed, N failed[, N skipped]`, then exits with 1 on any failure or
 * if no test ran. Called by the entry module test-runtimes.mjs generates. In a browser
 * page, which has no process to exit, it resolves with the result instead (./browser/).
 */
export async function __run(
  runtime: string,
  files: [path: string, load: () => Promise<unknown>][],
  opts: { testTimeout?: number; hookTimeout?: number } = {},
): Promise<RunResult> {
  testTimeout = opts.testTimeout ?? testTimeout;
  hookTimeout = opts.hookTimeout ?? hookTimeout;
  const total: Stats = { passed: 0, failed: 0, skipped: 0 };
  catchUnhandled((e) => {
    if (running) running.errors.push(e);
    else {
      total.failed++;
      fail(['(unhandled error outside a test)'], [e]);
    }
  });
  for (const [file, load] of files) {
    const started = performance.now();
    const root = newSuite('', 'run');
    const stats: Stats = { passed: 0, failed: 0, skipped: 0 };
    collecting = root;
    try {
      await load();
    } catch (e) {
      stats.failed++;
      fail([file, '(loading the file)'], [e]);
    }
    collecting = null;
    await runSuite(root, [file], file, hasOnly(root), stats);
    const ms = Math.round(performance.now() - started);
    const count = stats.passed + stats.failed + stats.skipped;
    const extra = (stats.failed ? ` | ${stats.failed} failed` : '') + (stats.skipped ? ` | ${stats.skipped} skipped` : '');
    console.log(` ${stats.failed ? '✗' : '✓'} ${file} (${count} test${count === 1 ? '' : 's'}${extra}) ${ms}ms`);
    total.passed += stats.passed;
    total.failed += stats.failed;
    total.skipped += stats.skipped;
  }
  if (failures.length > 0) console.log(`\n${failures.join('\n\n')}\n`);
  if (total.passed + total.failed === 0) console.log(`${runtime}: no tests ran`);
  console.log(`${runtime}: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  const code = total.failed > 0 || total.passed + total.failed === 0 ? 1 : 0;
  const g = globalThis as any;
  if (g.process?.exit) g.process.exit(code);
  else if (g.Deno?.exit) g.Deno.exit(code);
  // A browser page has no process to exit: its runner (./browser/) reads this result.
  return { ...total, failures: [...failures], code };
}
