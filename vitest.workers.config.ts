import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Worker tests, inside workerd (vitest-pool-workers) with wrangler.toml's bindings: the staged assets of
// `npm run build:worker` and the vars. MODEL picks another staged bundle (MODEL=langid npm test).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      // BUNDLES: a local R2 bucket (miniflare's) for the BUNDLE_SOURCE = "r2" tests; wrangler.toml leaves it unbound.
      miniflare: { bindings: { MODEL: process.env.MODEL || 'spam' }, r2Buckets: ['BUNDLES'] },
    }),
  ],
  test: {
    include: ['test/workers/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
