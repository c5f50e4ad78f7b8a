/** Shapes of the k-NN search over int8 keys, shared by every kernel (wasm SIMD, wasm scalar, TypeScript). */

/**
 * The best rows for one query, best first: dot descending, then row ascending.
 * Both arrays have length min(k, rows).
 */
export interface TopK {
  rows: Uint32Array
  dots: Int32Array
}

/** An exact int8 dot-product index over `rows` keys of `dim` int8 each. */
export interface KnnIndex {
  readonly rows: number
  readonly dim: number
  /** Which kernel answers: all three give identical results, only the speed differs. */
  readonly kind: 'simd' | 'scalar' | 'reference'
  /** Top-k rows by int32 dot product with `query` (length `dim`); k >= 1, larger than `rows` is fine. */
  search(query: Int8Array, k: number): TopK
}

/**
 * An index made before its keys exist: `keys` (rows*dim int8, the kernel's own memory for wasm) is filled in
 * place afterwards, before the first search, so keys read from a file are copied once and held once.
 */
export interface FillableIndex {
  keys: Int8Array
  index: KnnIndex
}

export type FillableIndexFactory = (rows: number, dim: number) => FillableIndex
