import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // No retries: they hide the flakes reliability work must catch.
    retry: 0,
    restoreMocks: true,
    unstubEnvs: true,
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'slow', include: ['test/cli/**/*.test.ts'], globalSetup: ['test/support/build.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
