/** The built kernels, compiled once per test file; `ensureWasm` covers `npx vitest run test/knn` after an edit. */
import { readFileSync } from 'node:fs'
import { createReferenceIndex, createWasmIndex, type KnnIndex } from '../../src/knn/index.ts'
import { ensureWasm, kernelPath } from '../../wasm/build.ts'

export interface Kernels {
  simd: WebAssembly.Module
  scalar: WebAssembly.Module
}

export async function loadKernels(): Promise<Kernels> {
  await ensureWasm()
  return {
    simd: new WebAssembly.Module(readFileSync(kernelPath('simd'))),
    scalar: new WebAssembly.Module(readFileSync(kernelPath('scalar'))),
  }
}

/** k-NN index factories over the SIMD wasm kernel and the TypeScript reference, for tests that run both. */
export function indexFactories(kernels: () => Kernels): Record<'simd' | 'reference', IndexFactory> {
  return {
    simd: (keys, rows, dim) => createWasmIndex(kernels().simd, keys, rows, dim, 'simd'),
    reference: createReferenceIndex,
  }
}

export type IndexFactory = (keys: Int8Array, rows: number, dim: number) => KnnIndex
