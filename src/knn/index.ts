/**
 * Exact int8 k-NN over a ResMem memory's keys. Keys are L2-normalised and quantised with one global
 * scale, so ranking by int32 dot product is ranking by (quantised) cosine; every kernel returns the
 * identical top-k. Choose the kernel once at the runtime's entry:
 *
 * @example
 * const index = simdSupported()
 *   ? createWasmIndex(simdModule, keys, rows, dim, 'simd')
 *   : createReferenceIndex(keys, rows, dim)
 */
export type { FillableIndex, FillableIndexFactory, KnnIndex, TopK } from './types.ts'
export { MAX_DIM } from './args.ts'
export { allocateReferenceIndex, createReferenceIndex, scanFloat32 } from './scan.ts'
export { allocateWasmIndex, createWasmIndex } from './wasm.ts'
export { simdSupported } from './simd.ts'
