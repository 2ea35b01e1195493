import { defineConfig } from 'vitest/config';

// One Vitest project per package, so `vitest run --project codec` runs one package's suite.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'codec',
          include: ['packages/codec/test/**/*.test.ts'],
        },
      },
      { test: { name: 'node', include: ['packages/node/test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
      // The engine's behaviour through a runtime's adapter: `#shim` is @wsflow/node here
      // (and @wsflow/deno / @wsflow/bun under scripts/test-runtimes.mjs).
      {
        resolve: { alias: { '#shim': new URL('./packages/node/src/index.ts', import.meta.url).pathname } },
        test: { name: 'engine', include: ['packages/engine/test/**/*.test.ts'], testTimeout: 30_000 },
      },
      { test: { name: 'deflate-zlib', include: ['packages/deflate-zlib/test/**/*.test.ts'] } },
      { test: { name: 'deflate-js', include: ['packages/deflate-js/test/**/*.test.ts', 'packages/deflate-js/test-node/**/*.test.ts'] } },
      { test: { name: 'websocket', include: ['packages/websocket/test/**/*.test.ts', 'packages/websocket/test-vitest/**/*.test.ts'] } },
      // The test kit, as a user imports it (by package name, from dist/).
      { test: { name: 'testing', include: ['packages/testing/test/**/*.test.ts'] } },
      // Needs Debian's redis-server (scripts/ensure-chromium.sh); each file starts its own.
      { test: { name: 'redis', include: ['packages/redis/test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
      // Repo-level checks: packages resolve by name in Node, Deno and Bun.
      { test: { name: 'repo', include: ['test/**/*.test.ts'] } },
    ],
  },
});
