/**
 * The memory search in the browser: the SIMD wasm k-NN kernel, fetched and compiled once, or the
 * TypeScript reference where wasm SIMD is missing or the kernel cannot be fetched. Both give the same top-k.
 */
import { createReferenceIndex, createWasmIndex, simdSupported, type KnnIndex } from '../knn/index.ts'

export const KNN_WASM = 'knn-simd.wasm'

export interface BrowserIndex {
  createIndex: (keys: Int8Array, rows: number, dim: number) => KnnIndex
  kernel: 'simd' | 'reference'
  /** Why the reference is used. */
  reason?: string
}

/**
 * @example
 * const { createIndex } = await browserIndex(new URL('./knn-simd.wasm', import.meta.url).href)
 */
export async function browserIndex(kernelUrl: string, doFetch: typeof fetch = fetch): Promise<BrowserIndex> {
  const reference: BrowserIndex['createIndex'] = (keys, rows, dim) => createReferenceIndex(keys, rows, dim)
  if (!simdSupported()) return { createIndex: reference, kernel: 'reference', reason: 'this engine has no wasm SIMD' }
  let module: WebAssembly.Module
  try {
    const res = await doFetch(kernelUrl)
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    module = await WebAssembly.compile(await res.arrayBuffer())
  } catch (err) {
    return { createIndex: reference, kernel: 'reference', reason: `${kernelUrl}: ${(err as Error).message}` }
  }
  return { createIndex: (keys, rows, dim) => createWasmIndex(module, keys, rows, dim, 'simd'), kernel: 'simd' }
}
