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
      // Real rootless Podman and Docker, provisioned by scripts/engines/provision.sh.
      { extends: true, test: { name: 'engine', include: ['test/engine/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
      // The built CLI end to end: `up`, `status`, `kubeconfig`, `down` on real engines with the stand-in node image.
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/support/build.ts'], testTimeout: 180_000, hookTimeout: 240_000 },
      },
    ],
  },
});
