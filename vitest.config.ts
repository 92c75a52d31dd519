import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/infra/**', 'test/pwsh-real/**', 'node_modules/**'],
    // Generous on purpose: CI runs on a loaded 2-core box. A full run under a load average of 16
    // took tests up to 25 s that the old 30 s default had to hold (Azurite contract, Graph
    // batching); a timeout only ends a test that is stuck, it never has to be tight.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
