/**
 * Starts the real worker (wrangler.toml, workerd) on a free loopback port, for Node-side tests.
 *
 * wrangler runs wrangler.toml's [build] command (`npm run build:worker`) as it starts, and with a custom build
 * it runs it once more in the background when its file watcher is ready, then reloads the worker: requests
 * in flight then get wrangler's 503 "Your worker restarted mid-request", and a second worker starting meanwhile
 * restages workers/build/assets and dist/web under the first one's build. An empty build command after the
 * first build turns that second run off; still, start workers one after the other, never in parallel.
 */
import { unstable_startWorker } from 'wrangler'

export type StartedWorker = Awaited<ReturnType<typeof unstable_startWorker>>

process.env.WRANGLER_SEND_METRICS = 'false'
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false'

export interface StartOptions {
  /** Secret bindings (`wrangler secret put`), e.g. API_TOKEN. */
  secrets?: Record<string, string>
  /** Another [assets] directory (bundles staged elsewhere, e.g. deliberately broken ones). */
  assets?: string
  /** Open the V8 inspector on a free loopback port (worker.inspectorUrl). */
  inspector?: boolean
  /** Folder for local storage (the edit log's Durable Object), kept across starts; default: none (in memory). */
  persist?: string
}

export async function startWorker(vars: Record<string, string> = {}, options: StartOptions = {}): Promise<{ worker: StartedWorker; url: URL }> {
  const bindings = {
    ...Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text' as const, value }])),
    ...Object.fromEntries(Object.entries(options.secrets ?? {}).map(([name, value]) => [name, { type: 'secret_text' as const, value }])),
  }
  const worker = await unstable_startWorker({
    config: 'wrangler.toml',
    bindings,
    ...(options.assets ? { assets: options.assets } : {}),
    // The first build already ran (wrangler always runs it); no watcher, no background rebuild and reload.
    build: { custom: { command: '' } },
    dev: {
      server: { hostname: '127.0.0.1', port: 0 },
      inspector: options.inspector ? { hostname: '127.0.0.1', port: 0 } : false,
      watch: false,
      // Tests never share the repo's .wrangler/state: storage lives in memory unless a test keeps it.
      persist: options.persist ?? false,
      logLevel: 'warn',
    },
  })
  await worker.ready
  return { worker, url: await worker.url }
}
