import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in a real Chromium: Debian's /usr/bin/chromium (install it with
 * scripts/ensure-chromium.sh; never `npx playwright install`). Specs live in test-e2e/
 * and serve what they need from node:http servers on 127.0.0.1, port 0.
 */
export default defineConfig({
  testDir: 'test-e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  // One worker: the machine has 2 cores and each spec starts its own servers.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  globalTimeout: 10 * 60_000,
  use: {
    trace: 'off',
    screenshot: 'off',
    video: 'off',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-quic',
          ],
        },
      },
    },
  ],
});
