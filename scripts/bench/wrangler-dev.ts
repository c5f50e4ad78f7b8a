/** Starts a Worker in local workerd through wrangler's unstable_startWorker, on a free loopback port, offline. */
import { unstable_startWorker } from 'wrangler'

export type DevWorker = Awaited<ReturnType<typeof unstable_startWorker>>

export interface DevWorkerOptions {
  /** Wrangler config file. */
  config: string
  /** Plain-text vars, e.g. { MODEL: 'spam-100k' }. */
  vars?: Record<string, string>
  /** Overrides the config's [assets] directory. */
  assets?: string
  /** Overrides the config's [build] command; `true` skips it (the caller has staged everything). */
  skipBuildCommand?: boolean
  /** Secret bindings, e.g. API_TOKEN (the memory API needs one). */
  secrets?: Record<string, string>
}

export async function startDevWorker(options: DevWorkerOptions): Promise<{ worker: DevWorker; url: URL }> {
  process.env.WRANGLER_SEND_METRICS = 'false'
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false'
  const worker = await unstable_startWorker({
    config: options.config,
    ...(options.assets ? { assets: options.assets } : {}),
    bindings: {
      ...Object.fromEntries(Object.entries(options.vars ?? {}).map(([name, value]) => [name, { type: 'plain_text' as const, value }])),
      ...Object.fromEntries(Object.entries(options.secrets ?? {}).map(([name, value]) => [name, { type: 'secret_text' as const, value }])),
    },
    ...(options.skipBuildCommand ? { build: { custom: { command: 'true' } } } : {}),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, logLevel: 'warn', persist: false },
  })
  await worker.ready
  return { worker, url: await worker.url }
}
