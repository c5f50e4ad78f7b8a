import { beforeAll, describe, expect, it } from 'vitest'
import { createReferenceIndex, createWasmIndex, MAX_DIM, scanFloat32, simdSupported } from '../../src/knn/index.ts'
import { loadKernels, type Kernels } from './kernels.ts'

let kernels: Kernels
beforeAll(async () => {
  kernels = await loadKernels()
})

type Make = (keys: Int8Array, rows: number, dim: number) => ReturnType<typeof createReferenceIndex>
const makers: [string, Make][] = [
  ['reference', (k, r, d) => createReferenceIndex(k, r, d)],
  ['scalar', (k, r, d) => createWasmIndex(kernels.scalar, k, r, d, 'scalar')],
  ['simd', (k, r, d) => createWasmIndex(kernels.simd, k, r, d, 'simd')],
]

describe.each(makers)('%s index: argument errors', (_, make) => {
  it('keys.length must be rows*dim', () => {
    expect(() => make(new Int8Array(10), 3, 4)).toThrow(/keys has 10 values, expected rows\*dim = 3\*4 = 12/)
  })

  it('rows and dim must be sane integers', () => {
    expect(() => make(new Int8Array(0), -1, 4)).toThrow(/rows must be a non-negative integer/)
    expect(() => make(new Int8Array(4), 1.5, 4)).toThrow(/rows must be a non-negative integer/)
    expect(() => make(new Int8Array(0), 0, 0)).toThrow(/dim must be an integer in 1\.\.65536/)
    expect(() => make(new Int8Array(0), 0, MAX_DIM + 1)).toThrow(/dim must be an integer/)
  })

  it('query length must be dim, k an integer >= 1', () => {
    const index = make(new Int8Array(12), 3, 4)
    expect(() => index.search(new Int8Array(5), 1)).toThrow(/query has 5 values, the index has dim 4/)
    expect(() => index.search(new Int8Array(4), 0)).toThrow(/k must be an integer >= 1, got 0/)
    expect(() => index.search(new Int8Array(4), 2.5)).toThrow(/k must be an integer >= 1/)
    expect(() => index.search(new Int8Array(4), Number.NaN)).toThrow(/k must be an integer >= 1/)
  })

  it('reports rows, dim and kind', () => {
    const index = make(new Int8Array(12), 3, 4)
    expect([index.rows, index.dim, index.kind]).toEqual([3, 4, _])
  })
})

describe('wasm index: module checks', () => {
  it('refuses a kind that does not match the module', () => {
    expect(() => createWasmIndex(kernels.scalar, new Int8Array(4), 1, 4, 'simd')).toThrow(/scalar k-NN kernel, not the simd one/)
    expect(() => createWasmIndex(kernels.simd, new Int8Array(4), 1, 4, 'scalar')).toThrow(/simd k-NN kernel, not the scalar one/)
    expect(() => createWasmIndex(kernels.simd, new Int8Array(4), 1, 4, 'fast' as never)).toThrow(/kind must be 'simd' or 'scalar'/)
  })

  it('refuses a module that is not the kernel', () => {
    // (module (func (export "f"))) and (module (import "env" "abort" (func)))
    const notKernel = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 4, 1, 2, 0, 11]))
    expect(() => createWasmIndex(notKernel, new Int8Array(4), 1, 4, 'simd')).toThrow(/no simd\(\) export/)
    const importing = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 13, 1, 3, 101, 110, 118, 5, 97, 98, 111, 114, 116, 0, 0]))
    expect(() => createWasmIndex(importing, new Int8Array(4), 1, 4, 'simd')).toThrow(/must need no imports, this module imports env\.abort/)
  })

  it('the built kernels need no imports and instantiate with {}', () => {
    for (const module of [kernels.simd, kernels.scalar]) {
      expect(WebAssembly.Module.imports(module)).toEqual([])
      expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(['heapBase', 'memory', 'search', 'simd'])
      expect(() => new WebAssembly.Instance(module, {})).not.toThrow()
    }
  })
})

describe('simdSupported', () => {
  it('is true on Node 20 (V8 ships fixed-width SIMD)', () => {
    expect(simdSupported()).toBe(true)
  })
})

describe('scanFloat32: argument errors', () => {
  it('checks lengths and k like the int8 indexes', () => {
    expect(() => scanFloat32(new Float32Array(5), 2, 3, new Float32Array(3), 1)).toThrow(/keys has 5 values/)
    expect(() => scanFloat32(new Float32Array(6), 2, 3, new Float32Array(2), 1)).toThrow(/query has 2 values/)
    expect(() => scanFloat32(new Float32Array(6), 2, 3, new Float32Array(3), 0)).toThrow(/k must be an integer >= 1/)
  })
})
