/**
 * Bench-only Worker: runs kernel-core's measuring loop inside workerd. The kernels are static `.wasm`
 * imports (wrangler ships them as compiled modules: workerd may not compile bytes at run time).
 *
 * `GET /?rows=1000,10000&batches=7&batchMs=100` answers the KernelRow[] as JSON. Started by kernel-workerd.ts
 * (local workerd only); never deployed.
 */
import { createReferenceIndex, createWasmIndex } from '../../src/knn/index.ts'
import knnScalar from '../../wasm/build/knn-scalar.wasm'
import knnSimd from '../../wasm/build/knn-simd.wasm'
import { measureKernels, type IndexFactory, type KernelImpl } from './kernel-core.ts'

const modules = { simd: knnSimd, scalar: knnScalar }

const factory: IndexFactory = (impl, keys, rows, dim) =>
  impl === 'reference' ? createReferenceIndex(keys, rows, dim) : createWasmIndex(modules[impl], keys, rows, dim, impl)

const numbers = (value: string | null): number[] | undefined => (value ? value.split(',').map(Number) : undefined)
const number = (value: string | null): number | undefined => (value ? Number(value) : undefined)

export default {
  async fetch(request: Request): Promise<Response> {
    const q = new URL(request.url).searchParams
    try {
      const rows = await measureKernels(factory, {
        runtime: 'workerd',
        rows: numbers(q.get('rows')),
        impls: q.get('impls')?.split(',') as KernelImpl[] | undefined,
        batches: number(q.get('batches')),
        batchMs: number(q.get('batchMs')),
        clock: () => performance.now(),
        // Deployed workerd moves its clock only across I/O; a timer is the cheapest I/O there is.
        tick: () => new Promise((resolve) => setTimeout(resolve, 0)),
      })
      return Response.json(rows)
    } catch (err) {
      return Response.json({ error: String((err as Error).stack ?? err) }, { status: 500 })
    }
  },
}
