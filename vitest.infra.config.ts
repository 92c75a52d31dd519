import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/infra/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
