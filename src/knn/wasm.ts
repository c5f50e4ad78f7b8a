/**
 * The int8 k-NN index backed by the AssemblyScript kernel (wasm/assembly/knn.ts, built to
 * wasm/build/knn-simd.wasm and knn-scalar.wasm).
 *
 * Takes a compiled `WebAssembly.Module` and instantiates it synchronously: in workerd the .wasm is a
 * static import that already is a Module, and compiling bytes at run time is forbidden there. In Node
 * or a browser, compile first: `new WebAssembly.Module(bytes)` or `await WebAssembly.compile(bytes)`.
 * The kernel needs no imports: `new WebAssembly.Instance(module, {})`.
 *
 * Linear memory, laid out here and grown here (the kernel never allocates):
 *   [0, heapBase)      the module's own (empty with the stub runtime)
 *   keys               rows*dim int8, copied in once
 *   query              dim int8, written per search
 *   outRows, outDots   min(k, rows) u32 and i32: the kernel's top-k heap, then the sorted result
 */
import { checkKeys, checkQuery } from './args.ts'
import type { FillableIndex, KnnIndex, TopK } from './types.ts'

interface KernelExports {
  memory: WebAssembly.Memory
  simd(): number
  heapBase(): number
  search(keys: number, n: number, d: number, query: number, k: number, outRows: number, outDots: number): number
}

const PAGE = 65536
// Arithmetic, not bit ops: addresses may pass 2^31 in a memory of up to 4 GiB.
const align16 = (n: number) => Math.ceil(n / 16) * 16

/**
 * @example
 * import simdModule from '../wasm/build/knn-simd.wasm' // workerd: a compiled WebAssembly.Module
 * const index = createWasmIndex(simdModule, keys, rows, dim, 'simd')
 * const { rows: best, dots } = index.search(query, 10)
 */
export function createWasmIndex(
  module: WebAssembly.Module,
  keys: Int8Array,
  rows: number,
  dim: number,
  kind: 'simd' | 'scalar',
): KnnIndex {
  checkKeys(keys, rows, dim)
  const made = allocateWasmIndex(module, rows, dim, kind)
  made.keys.set(keys)
  return made.index
}

/**
 * The index with room for its keys and none written yet: fill `keys` (a view of the kernel's memory) before
 * the first search. A loader copies keys there straight from the fetched file, so they are held once.
 * @example
 * const { keys, index } = allocateWasmIndex(simdModule, rows, dim, 'simd')
 * keys.set(fileKeys)
 */
export function allocateWasmIndex(module: WebAssembly.Module, rows: number, dim: number, kind: 'simd' | 'scalar'): FillableIndex {
  checkKeys({ length: rows * dim }, rows, dim)
  if (kind !== 'simd' && kind !== 'scalar') throw new TypeError(`kind must be 'simd' or 'scalar', got ${String(kind)}`)
  const kernel = instantiate(module)
  // Guards against swapped files: the index would still be exact, but its `kind` (and speed) a lie.
  const built = kernel.simd() === 1 ? 'simd' : 'scalar'
  if (built !== kind) throw new Error(`the module is the ${built} k-NN kernel, not the ${kind} one`)

  const keysPtr = align16(kernel.heapBase())
  const queryPtr = align16(keysPtr + rows * dim)
  const outRowsPtr = align16(queryPtr + dim)
  const memory = kernel.memory

  /** Grows memory to hold `end` bytes. */
  function reserve(end: number): void {
    const have = memory.buffer.byteLength
    if (end <= have) return
    try {
      memory.grow(Math.ceil((end - have) / PAGE))
    } catch (err) {
      throw new RangeError(`k-NN kernel cannot grow its memory to ${end} bytes (${rows}x${dim} keys): ${(err as Error).message}`)
    }
  }

  reserve(outRowsPtr + 8 * Math.min(rows, 256))
  const keys = new Int8Array(memory.buffer, keysPtr, rows * dim)

  // Whole-memory views, remade only after a grow (which detaches the old ArrayBuffer). Offsets
  // below are 4-byte aligned, so the 32-bit views can address the outputs directly.
  let i8 = new Int8Array(memory.buffer)
  let u32 = new Uint32Array(memory.buffer)
  let i32 = new Int32Array(memory.buffer)

  const index: KnnIndex = {
    rows,
    dim,
    kind,
    search(query: Int8Array, k: number): TopK {
      checkQuery(query, dim, k)
      const cap = Math.min(k, rows)
      const outDotsPtr = outRowsPtr + 4 * cap
      reserve(outDotsPtr + 4 * cap)
      if (i8.buffer !== memory.buffer) {
        i8 = new Int8Array(memory.buffer)
        u32 = new Uint32Array(memory.buffer)
        i32 = new Int32Array(memory.buffer)
      }
      i8.set(query, queryPtr)
      const count = kernel.search(keysPtr, rows, dim, queryPtr, cap, outRowsPtr, outDotsPtr)
      return {
        rows: u32.slice(outRowsPtr / 4, outRowsPtr / 4 + count),
        dots: i32.slice(outDotsPtr / 4, outDotsPtr / 4 + count),
      }
    },
  }
  return { keys, index }
}

function instantiate(module: WebAssembly.Module): KernelExports {
  const imports = WebAssembly.Module.imports(module)
  if (imports.length > 0) {
    const names = imports.map((i) => `${i.module}.${i.name}`).join(', ')
    throw new Error(`the k-NN kernel must need no imports, this module imports ${names}`)
  }
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as Partial<KernelExports>
  for (const name of ['simd', 'heapBase', 'search'] as const) {
    if (typeof exports[name] !== 'function') throw new Error(`not the k-NN kernel: the module has no ${name}() export`)
  }
  if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error('not the k-NN kernel: the module exports no memory')
  return exports as KernelExports
}
