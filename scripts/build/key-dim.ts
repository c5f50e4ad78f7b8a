/**
 * `resmem build --key-dim N` (and the eval's smaller-key rows): PCA fitted on the training split's keys, then
 * every split's embeddings replaced by their projections, so tuning, the memory and its scores all see the keys
 * the library will compute (src/memory/projection.ts).
 */
import { fitPca, projectAll, type KeyProjection } from '../../src/memory/projection.ts'
import type { EmbeddedSplit } from './embed.ts'

export function fitKeyProjection(train: EmbeddedSplit, keyDim: number): KeyProjection {
  return fitPca(train.embeddings, train.rows, train.dim, keyDim)
}

/** The split with its keys projected (logits, labels unchanged). */
export function projectSplit(projection: KeyProjection, split: EmbeddedSplit): EmbeddedSplit {
  return { ...split, dim: projection.to, embeddings: projectAll(projection, split.embeddings, split.rows) }
}
