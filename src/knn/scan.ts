/**
 * Plain TypeScript scans: the reference int8 index (runs anywhere, and is what the wasm kernels are
 * tested against) and an exact float32 scan for fp32 evaluation of unquantised keys.
 */
import { checkKeys, checkQuery } from './args.ts'
import { TopKHeap } from './topk.ts'
import type { FillableIndex, KnnIndex, TopK } from './types.ts'

/**
 * An int8 index in TypeScript. Keeps a reference to `keys` (no copy): do not mutate it afterwards.
 *
 * @example
 * const index = createReferenceIndex(keys, rows, dim)
 * const { rows: best, dots } = index.search(query, 10)
 */
export function createReferenceIndex(keys: Int8Array, rows: number, dim: number): KnnIndex {
  checkKeys(keys, rows, dim)
  return {
    rows,
    dim,
    kind: 'reference',
    search(query: Int8Array, k: number): TopK {
      checkQuery(query, dim, k)
      return scanInt8(keys, rows, dim, query, k)
    },
  }
}

/** The reference index over keys to be written in place (a FillableIndexFactory). */
export function allocateReferenceIndex(rows: number, dim: number): FillableIndex {
  const keys = new Int8Array(rows * dim)
  return { keys, index: createReferenceIndex(keys, rows, dim) }
}

/** The scan itself, a top-level function: its arguments are plain locals to the JIT, not closure slots. */
function scanInt8(keys: Int8Array, rows: number, dim: number, query: Int8Array, k: number): TopK {
  const top = new TopKHeap(Math.min(k, rows))
  let thr = top.threshold()
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    let dot = 0
    for (let j = 0; j < dim; j++) dot += keys[base + j] * query[j]
    if (dot > thr) thr = top.offer(dot, r)
  }
  const best = top.drain()
  // Dots are integers below 2^31 in magnitude (dim <= MAX_DIM), so Int32Array holds them exactly.
  return { rows: best.rows.slice(), dots: Int32Array.from(best.scores) }
}

/**
 * Exact float dot-product top-k of `query` against `rows` float32 keys: sums in float64, ranks by
 * that sum (dot descending, then row ascending), reports it rounded to float32. NaN ranks last.
 */
export function scanFloat32(
  keys: Float32Array,
  rows: number,
  dim: number,
  query: Float32Array,
  k: number,
): { rows: Uint32Array; sims: Float32Array } {
  checkKeys(keys, rows, dim)
  checkQuery(query, dim, k)
  const top = new TopKHeap(Math.min(k, rows))
  let thr = top.threshold()
  for (let r = 0, base = 0; r < rows; r++, base += dim) {
    let dot = 0
    for (let j = 0; j < dim; j++) dot += keys[base + j] * query[j]
    if (dot !== dot) dot = -Infinity
    // -Infinity never beats the empty heap's threshold, so fill by count, not by score.
    if (dot > thr || top.size < top.capacity) thr = top.offer(dot, r)
  }
  const best = top.drain()
  return { rows: best.rows.slice(), sims: Float32Array.from(best.scores) }
}
