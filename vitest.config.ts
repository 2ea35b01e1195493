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
    ],
  },
});
