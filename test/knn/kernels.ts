/** The built kernels, compiled once per test file; `ensureWasm` covers `npx vitest run test/knn` after an edit. */
import { readFileSync } from 'node:fs'
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
