/**
 * k-NN kernel throughput in Node: wasm SIMD, wasm scalar and the TypeScript reference over int8 keys.
 *
 * Run: `npx tsx scripts/bench/kernel.ts` (builds the kernels first if needed). The measuring loop is
 * kernel-core.ts; this file only supplies Node's modules and clock.
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { createReferenceIndex, createWasmIndex } from '../../src/knn/index.ts'
import { ensureWasm, kernelPath } from '../../wasm/build.ts'
import { measureKernels, type IndexFactory, type KernelBenchOptions, type KernelRow } from './kernel-core.ts'

export type { KernelRow } from './kernel-core.ts'

export type KernelBenchNodeOptions = Omit<KernelBenchOptions, 'runtime' | 'clock' | 'tick'>

export async function benchKernelNode(opts: KernelBenchNodeOptions = {}): Promise<KernelRow[]> {
  await ensureWasm()
  const modules = {
    simd: new WebAssembly.Module(readFileSync(kernelPath('simd'))),
    scalar: new WebAssembly.Module(readFileSync(kernelPath('scalar'))),
  }
  const factory: IndexFactory = (impl, keys, rows, dim) =>
    impl === 'reference' ? createReferenceIndex(keys, rows, dim) : createWasmIndex(modules[impl], keys, rows, dim, impl)
  return measureKernels(factory, { ...opts, runtime: 'node', clock: () => performance.now() })
}

/** A plain-text table, with each impl's speed-up (by median) over the reference at the same size. */
export function formatKernelRows(rows: readonly KernelRow[]): string {
  const ref = new Map(rows.filter((r) => r.impl === 'reference').map((r) => [r.rows, r.msPerQuery]))
  const lines = ['runtime  impl         rows   dim  GB/s (median)  GB/s (best)   ms/query  x reference']
  for (const r of rows) {
    const base = ref.get(r.rows)
    lines.push(
      [
        r.runtime.padEnd(8),
        r.impl.padEnd(10),
        String(r.rows).padStart(7),
        String(r.dim).padStart(5),
        r.gbPerS.toFixed(2).padStart(14),
        ((r.rows * r.dim) / r.minMsPerQuery / 1e6).toFixed(2).padStart(12),
        r.msPerQuery.toFixed(4).padStart(10),
        (base ? (base / r.msPerQuery).toFixed(1) : '-').padStart(12),
      ].join(' '),
    )
  }
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatKernelRows(await benchKernelNode()))
}
