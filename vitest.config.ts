import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Temporal's worker uses native threads: keep each test file in its own process.
    pool: 'forks',
    globalSetup: [
      'test/setup/system-packages.ts',
      'test/setup/build.ts',
      'test/setup/temporal-server.ts',
      'test/setup/postgres.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
