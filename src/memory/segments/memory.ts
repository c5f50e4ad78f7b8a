import { quantizeVector } from '../quantize.ts'
import { l2Normalize } from '../../resmem/vector.ts'
import { mergeHits, withoutForgotten } from './merge.ts'
import type { Hit, Query, RowFilter, Segment } from './types.ts'

/** The query key of an embedding: normalised, then quantized with its own scale. */
export function queryOf(embedding: Float32Array): Query {
  const vector = l2Normalize(Float32Array.from(embedding))
  const { data, scale } = quantizeVector(vector)
  return { vector, int8: data, scale }
}

/**
 * A memory as ResMem searches it: a list of segments (built parts, the edit overlay, remote shards), each
 * asked for its own top-k, merged exactly, with the forgotten built rows filtered out. Its answer is the
 * top-k of one scan over (built ∪ added) \ forgotten in the memory's stable row order.
 *
 * @example
 * const memory = new SegmentedMemory([builtSegment(bundle.memory, { index })], 384)
 * const hits = await memory.search(embedding, 8)
 */
export class SegmentedMemory {
  readonly segments: readonly Segment[]
  readonly dim: number
  /** Built rows taken out (`DELETE /v1/memory/base:{row}`), by row; edits are removed from the overlay itself. */
  readonly forgotten: Set<number>

  constructor(segments: readonly Segment[], dim: number, forgotten: Set<number> = new Set()) {
    this.dim = dim
    this.forgotten = forgotten
    this.segments = segments.map((s) => withoutForgotten(s, forgotten as RowFilter))
  }

  /** The k rows nearest to `embedding` (not yet normalised), best first, with their residuals. */
  async search(embedding: Float32Array, k: number): Promise<Hit[]> {
    if (embedding.length !== this.dim) throw new RangeError(`embedding has ${embedding.length} dimensions, memory keys have ${this.dim}`)
    if (k <= 0) return []
    const query = queryOf(embedding)
    const lists = await Promise.all(this.segments.map((s) => s.search(query, k)))
    return mergeHits(lists, k)
  }
}
