/**
 * k-NN kernel throughput inside workerd: starts kernel-worker.ts and asks it to run kernel-core's loop, one
 * request per size so progress shows and no single request runs for long.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureWasm } from '../../wasm/build.ts'
import type { KernelBenchNodeOptions } from './kernel.ts'
import { kernelBenchDefaults, type KernelRow } from './kernel-core.ts'
import { startDevWorker } from './wrangler-dev.ts'

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'kernel-worker.ts')

/** A throwaway config folder: wrangler keeps its scratch (.wrangler/) beside the config, so not in the repo. */
async function kernelConfig(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'resmem-bench-kernel-'))
  const toml = `name = "resmem-bench-kernel"\nmain = ${JSON.stringify(ENTRY)}\ncompatibility_date = "2026-04-01"\n`
  await writeFile(join(dir, 'wrangler.toml'), toml)
  return dir
}

export async function benchKernelWorkerd(opts: KernelBenchNodeOptions = {}, onSize?: (rows: number) => void): Promise<KernelRow[]> {
  await ensureWasm()
  const dir = await kernelConfig()
  const { worker, url } = await startDevWorker({ config: join(dir, 'wrangler.toml') }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true })
    throw err
  })
  try {
    const out: KernelRow[] = []
    for (const rows of opts.rows ?? kernelBenchDefaults.rows) {
      onSize?.(rows)
      const q = new URLSearchParams({ rows: String(rows) })
      if (opts.batches) q.set('batches', String(opts.batches))
      if (opts.batchMs) q.set('batchMs', String(opts.batchMs))
      if (opts.impls) q.set('impls', opts.impls.join(','))
      const res = await fetch(new URL(`/?${q}`, url))
      const body = (await res.json()) as KernelRow[] | { error: string }
      if (!res.ok || !Array.isArray(body)) throw new Error(`kernel worker: HTTP ${res.status}: ${'error' in body ? body.error : ''}`)
      out.push(...body)
    }
    return out
  } finally {
    await worker.dispose()
    await rm(dir, { recursive: true, force: true })
  }
}
