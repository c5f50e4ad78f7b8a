import { defineConfig } from 'vitest/config'

// Node-side tests. The worker tests run in workerd through their own config (vitest.workers.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/workers/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
})
