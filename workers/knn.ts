/**
 * The memory search kernel: the AssemblyScript SIMD k-NN (wasm/build/knn-simd.wasm), a static import so
 * wrangler ships it compiled; workerd supports wasm SIMD.
 */
import { allocateWasmIndex, createWasmIndex, type FillableIndex, type KnnIndex } from '../src/knn/index.ts'
import knnSimd from '../wasm/build/knn-simd.wasm'

export const KNN_KERNEL = 'simd'

/** `createIndex` for ResMemClassifier.create. */
export function simdIndex(keys: Int8Array, rows: number, dim: number): KnnIndex {
  return createWasmIndex(knnSimd, keys, rows, dim, KNN_KERNEL)
}

/** `keyIndex` for loadBundle: the loader writes the keys straight into the kernel's memory (held once). */
export function simdKeyIndex(rows: number, dim: number): FillableIndex {
  return allocateWasmIndex(knnSimd, rows, dim, KNN_KERNEL)
}
