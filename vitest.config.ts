import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end suites start real processes and real clients; keep the machine's two cores sane.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['tests/ha/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The HA tests measure failover under load: they run after everything else, one file at a time,
        // so their figures (and their timing bounds) are not made by the rest of the suite's load.
        extends: true,
        test: {
          name: 'ha',
          include: ['tests/ha/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
