import { defineConfig } from 'vitest/config';

// The real-PowerShell suite (`npm run test:pwsh`): real pwsh 7 from NuGet (scripts/install-pwsh.sh)
// with the stub MicrosoftTeams module. Cold starts take seconds, so files run one at a time.
export default defineConfig({
  test: {
    include: ['test/pwsh-real/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
