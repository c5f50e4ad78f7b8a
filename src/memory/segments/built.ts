import type { KnnIndex } from '../../knn/index.ts'
import { createReferenceIndex, scanFloat32 } from '../../knn/index.ts'
import type { ResidualMemory } from '../format.ts'
import { residualReader } from '../residuals.ts'
import { int8Similarity } from './similarity.ts'
import type { Hit, Segment } from './types.ts'

export interface BuiltSegmentOptions {
  /** The k-NN index over the memory's int8 keys (SIMD wasm where it loads); the TypeScript reference when omitted. */
  index?: KnnIndex
  /** Global row of this memory's row 0: a shard holding rows [first, first + rows) of a larger memory. */
  firstRow?: number
}

/** A segment over rows of a `resmem build`: memory.bin, or one shard of it. */
export interface BuiltSegment extends Segment {
  readonly rows: number
  readonly firstRow: number
  search(query: Parameters<Segment['search']>[0], k: number): Hit[]
}


/**
 * @example
 * const segment = builtSegment(bundle.memory, { index: createWasmIndex(simd, keys, rows, dim, 'simd') })
 * const hits = segment.search(query, 8)
 */
export function builtSegment(memory: ResidualMemory, options: BuiltSegmentOptions = {}): BuiltSegment {
  const { rows, dim, keys } = memory
  const firstRow = options.firstRow ?? 0
  const readResidual = residualReader(memory)
  const classes = memory.labels.length
  let index: KnnIndex | undefined
  if (keys.dtype === 'int8') {
    index = options.index ?? createReferenceIndex(keys.data, rows, dim)
    if (index.rows !== rows || index.dim !== dim) throw new RangeError(`k-NN index is ${index.rows}x${index.dim}, memory is ${rows}x${dim}`)
  }

  const hit = (row: number, score: number, similarity: number): Hit => ({
    order: firstRow + row,
    score,
    similarity,
    label: memory.rowLabels[row],
    residual: readResidual(row, new Float32Array(classes)),
    source: 'built',
    row: firstRow + row,
  })

  return {
    rows,
    firstRow,
    search(query, k) {
      if (k <= 0 || rows === 0) return []
      if (keys.dtype === 'float32') {
        const top = scanFloat32(keys.data, rows, dim, query.vector, k)
        return Array.from(top.rows, (row, i) => hit(row, top.sims[i], top.sims[i]))
      }
      const top = index!.search(query.int8, k)
      return Array.from(top.rows, (row, i) => hit(row, top.dots[i], int8Similarity(top.dots[i], query.scale, keys.scale)))
    },
  }
}
