import { defineConfig } from 'vitest/config'

// Node-side tests. The worker tests run in workerd through their own config (vitest.workers.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/workers/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // One file at a time: the page, load and package tests each start workerd and Chromium or run npm, and two of
    // them side by side on a 2-core CI machine stalled a page past its 90 s wait (twice, in different tests).
    // The files' durations add up to about the same wall time either way.
    fileParallelism: false,
  },
})
