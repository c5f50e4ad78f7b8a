/**
 * The k-NN kernel throughput measurement, free of Node APIs so a Worker (workerd) can run the same
 * loop: the caller passes the index factory, a clock and, where the clock only moves across I/O
 * (workerd freezes time during synchronous code), a `tick` that yields to the event loop.
 */
import type { KnnIndex } from '../../src/knn/index.ts'
import { mulberry32 } from '../data/random.ts'

export type KernelImpl = 'simd' | 'scalar' | 'reference'

export type IndexFactory = (impl: KernelImpl, keys: Int8Array, rows: number, dim: number) => KnnIndex

export interface KernelRow {
  runtime: string
  impl: KernelImpl
  rows: number
  dim: number
  k: number
  /** Key bytes scanned per second: rows*dim / (seconds per query) / 1e9. */
  gbPerS: number
  /** Median over the measured batches. */
  msPerQuery: number
  /** Fastest batch: what the kernel does when nothing else competes for the core. */
  minMsPerQuery: number
  /** Queries timed in total. */
  queries: number
}

export interface KernelBenchOptions {
  /** Label for the rows: 'node', 'workerd', a browser name. */
  runtime: string
  impls?: readonly KernelImpl[]
  rows?: readonly number[]
  dim?: number
  k?: number
  /** Time per batch; the median of `batches` batches is reported. */
  batchMs?: number
  batches?: number
  /** Milliseconds, monotonic where possible (performance.now). */
  clock: () => number
  /** Awaited after each batch, before reading the clock. Default: none. */
  tick?: () => Promise<void>
  seed?: number
}

/** Defaults of the issue: rows 1k..200k, dim 128, k 10. */
export const kernelBenchDefaults = {
  impls: ['simd', 'scalar', 'reference'] as readonly KernelImpl[],
  rows: [1_000, 10_000, 100_000, 200_000] as readonly number[],
  dim: 128,
  k: 10,
  batchMs: 100,
  batches: 7,
  seed: 1,
}


function randomInt8(length: number, next: () => number): Int8Array {
  const out = new Int8Array(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 255) - 127
  return out
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Measures every impl at every size; one index per (impl, size), keys generated once. */
export async function measureKernels(factory: IndexFactory, options: KernelBenchOptions): Promise<KernelRow[]> {
  const d = kernelBenchDefaults
  const o = {
    runtime: options.runtime,
    impls: options.impls ?? d.impls,
    rows: options.rows ?? d.rows,
    dim: options.dim ?? d.dim,
    k: options.k ?? d.k,
    batchMs: options.batchMs ?? d.batchMs,
    batches: options.batches ?? d.batches,
    clock: options.clock,
    tick: options.tick ?? (async () => {}),
    seed: options.seed ?? d.seed,
  }
  const next = mulberry32(o.seed)
  const maxRows = Math.max(...o.rows)
  const allKeys = randomInt8(maxRows * o.dim, next)
  const queries = Array.from({ length: 16 }, () => randomInt8(o.dim, next))

  // What an empty batch costs (the tick itself, in workerd a timer round trip); subtracted below.
  const idle: number[] = []
  for (let i = 0; i < 5; i++) {
    const t0 = o.clock()
    await o.tick()
    idle.push(o.clock() - t0)
  }
  const tickCost = median(idle)

  let sink = 0
  const run = (index: KnnIndex, reps: number): void => {
    for (let i = 0; i < reps; i++) sink += index.search(queries[i & 15], o.k).rows[0]
  }
  /** Per-query milliseconds of one timed batch. */
  const timeBatch = async (index: KnnIndex, reps: number): Promise<number> => {
    await o.tick()
    const t0 = o.clock()
    run(index, reps)
    await o.tick()
    return Math.max(o.clock() - t0 - tickCost, 1e-3) / reps
  }

  const out: KernelRow[] = []
  for (const rows of o.rows) {
    const keys = allKeys.subarray(0, rows * o.dim)
    const runs = []
    for (const impl of o.impls) {
      const index = factory(impl, keys, rows, o.dim)
      // Warm-up (JIT tiers, page faults) that also sizes the batches to about batchMs. Twice: the first
      // calls of a fresh isolate can take 100x longer (lazy wasm compilation, tier-up), and sizing on them
      // gave batches far under the clock's resolution (workerd: 1 ms).
      let per = 0
      for (let pass = 0; pass < 2; pass++) {
        for (let reps = 1; ; reps *= 2) {
          per = await timeBatch(index, reps)
          if (per * reps >= o.batchMs / 4 || reps >= 1 << 20) break
        }
      }
      runs.push({ impl, index, reps: Math.max(1, Math.round(o.batchMs / per)), times: [] as number[] })
    }
    // Impls take turns batch by batch, so a burst of load elsewhere on the machine hits all alike.
    for (let b = 0; b < o.batches; b++) {
      for (const r of runs) r.times.push(await timeBatch(r.index, r.reps))
    }
    for (const r of runs) {
      const msPerQuery = median(r.times)
      out.push({
        runtime: o.runtime,
        impl: r.impl,
        rows,
        dim: o.dim,
        k: o.k,
        gbPerS: (rows * o.dim) / (msPerQuery / 1000) / 1e9,
        msPerQuery,
        minMsPerQuery: Math.min(...r.times),
        queries: r.reps * o.batches,
      })
    }
  }
  // Keep the results observable, so no engine can drop the searches as dead code.
  if (sink === -1) out.push({ ...out[0] })
  return out
}
