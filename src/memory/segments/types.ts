/**
 * The shapes of a segmented memory. A served memory is a list of segments (built parts, the edit overlay,
 * remote shards); each answers its own top-k for a query and the lists are merged exactly (merge.ts).
 */

/** Where a memorized row comes from: a `resmem build` (memory.bin, or a shard of it) or a live edit. */
export type HitSource = 'built' | 'edit'

/** One memorized row found by a search, with everything ResMem needs from it. */
export interface Hit {
  /**
   * The row's place in the memory's one stable order: built rows by row number, then edits by id
   * (`builtRows + id`). It breaks score ties, so a merge ranks rows as one scan of a memory rebuilt from
   * the same rows in that order would.
   */
  order: number
  /** What ranks: the exact int32 dot product of the int8 query and key (the float dot for float32 keys). */
  score: number
  /** Cosine similarity of query and key from the stored (quantized) values, in [-1, 1]. */
  similarity: number
  /** Class id of the memorized example. */
  label: number
  /** Its residual onehot(y) - softmax(z/T), dequantized. */
  residual: Float32Array
  source: HitSource
  /** Row in the built memory (source 'built'; global across shards). */
  row?: number
  /** Edit id (source 'edit'). */
  id?: number
}

/** A query key in both forms a segment may rank by. */
export interface Query {
  /** The L2-normalised embedding. */
  vector: Float32Array
  /** `vector` quantized to int8 with its own scale. */
  int8: Int8Array
  scale: number
}

/** Anything that answers top-k over some rows of a memory: local ones answer at once, remote ones later. */
export interface Segment {
  /** At most k hits, best first: score descending, then order ascending. */
  search(query: Query, k: number): Hit[] | Promise<Hit[]>
}

/** Rows taken out of a memory, by their order (a Set<number> is one). */
export interface RowFilter {
  has(order: number): boolean
  readonly size: number
}
