import { defineConfig } from 'vitest/config';

// One suite, two modes: everything against Postgres and Redis; the queue and
// persistence tests again in embedded mode (PGlite, queues in Postgres), with
// the embedded-only tests. `npm run test:embedded` runs the second alone.
const EMBEDDED_PASS = ['test/queue/**/*.test.ts', 'test/db/**/*.test.ts', 'test/embedded/**/*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    // Files run in parallel, each with its own database and Redis prefix.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    projects: [
      { extends: true, test: { name: 'services', include: ['test/**/*.test.ts'], exclude: ['test/embedded/**'] } },
      { extends: true, test: { name: 'embedded', include: EMBEDDED_PASS, env: { CHANNELSYNC_TEST_MODE: 'embedded' } } },
    ],
  },
});
