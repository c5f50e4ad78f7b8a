/**
 * Novelty: how unlike the memory a text is, from the search that answers it (no second scan). It is the cosine
 * distance from the text's key to its nearest live memory row, built or learned (deep k-NN out-of-distribution
 * detection, Sun et al. 2022, at k = 1): a text is `unfamiliar` beyond the manifest's `locality.novelty`
 * threshold, fitted on val so that a stated share (95% by default) of in-distribution texts are familiar.
 */
import type { Hit } from '../memory/segments/types.ts'
import { cosineDistance } from './locality.ts'

/** Novelty of a memory holding no live row: the largest cosine distance. */
export const NO_ROW_NOVELTY = 2

/** Cosine distance to the nearest of `hits` (best first). */
export function novelty(hits: readonly Hit[]): number {
  return hits.length ? Math.max(0, cosineDistance(hits[0])) : NO_ROW_NOVELTY
}

/** Whether a novelty lies beyond the fitted threshold. */
export function isUnfamiliar(value: number, threshold: number): boolean {
  return value > threshold
}

/**
 * The threshold under which `familiar` (0.95) of the given in-distribution novelties lie: their
 * ceil(familiar * n)-th smallest value.
 */
export function fitNoveltyThreshold(values: ArrayLike<number>, familiar = 0.95): number {
  if (values.length === 0) throw new RangeError('no novelties to fit a threshold on')
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(familiar * sorted.length) - 1))]
}
