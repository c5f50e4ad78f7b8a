/** Starts the real worker (wrangler.toml, workerd) on a free loopback port, for Node-side tests. */
import { unstable_startWorker } from 'wrangler'

export type StartedWorker = Awaited<ReturnType<typeof unstable_startWorker>>

process.env.WRANGLER_SEND_METRICS = 'false'
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false'

export async function startWorker(vars: Record<string, string> = {}): Promise<{ worker: StartedWorker; url: URL }> {
  const worker = await unstable_startWorker({
    config: 'wrangler.toml',
    bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text' as const, value }])),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, logLevel: 'warn' },
  })
  await worker.ready
  return { worker, url: await worker.url }
}
