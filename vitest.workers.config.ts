import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Worker tests, inside workerd (vitest-pool-workers) with wrangler.toml's bindings: the staged assets of
// `npm run build:worker` and the vars. MODEL picks another staged bundle (MODEL=langid npm test).
// The worker under test as vitest-pool-workers names it (its runner worker for this unnamed project).
const RUNNER = 'vitest-pool-workers-runner-'

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      // BUNDLES: a local R2 bucket (miniflare's) for the BUNDLE_SOURCE = "r2" tests; wrangler.toml leaves it unbound.
      miniflare: {
        bindings: { MODEL: process.env.MODEL || 'spam' },
        r2Buckets: ['BUNDLES'],
        // RPC_CALLER: a second worker that binds this one's RPC entrypoint, as a service binding in wrangler.toml would.
        serviceBindings: { RPC_CALLER: 'rpc-caller' },
        workers: [
          {
            name: 'rpc-caller',
            modules: true,
            scriptPath: './test/workers/rpc-caller.js',
            compatibilityDate: '2026-04-01',
            serviceBindings: { RESMEM: { name: RUNNER, entrypoint: 'ResMem' } },
          },
        ],
      },
    }),
  ],
  test: {
    include: ['test/workers/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
