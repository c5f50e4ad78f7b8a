/**
 * Prediction sets by split conformal prediction (Vovk et al.; Angelopoulos & Bates 2021), with the LAC score
 * s(x, y) = 1 - score_y(x) on the served (calibrated) scores. With the scores of n val texts at their true
 * label, q = their ceil((n + 1)(1 - alpha))-th smallest, the set {y : 1 - score_y(x) <= q} holds the true label
 * with probability at least 1 - alpha for a text exchangeable with val. LAC gives the smallest sets on average
 * among valid scores (Sadinle et al. 2019); its sets are not adaptive per text, which a two-label model barely needs.
 */
import type { LabelScore } from '../types.ts'

/** The default miscoverage: sets hold the true label at least 90% of the time. */
export const DEFAULT_ALPHA = 0.1

/** LAC nonconformity of a true label's served score. */
export function nonconformity(trueScore: number): number {
  return 1 - trueScore
}

/**
 * The conformal quantile of ascending val nonconformities at `alpha`; Infinity (every label) when n is too
 * small for that alpha.
 */
export function conformalQuantile(sorted: ArrayLike<number>, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`)
  const n = sorted.length
  const rank = Math.ceil((n + 1) * (1 - alpha))
  return rank > n ? Infinity : sorted[rank - 1]
}

/** The labels whose nonconformity is at most `quantile`, in the order of `scores` (highest first). */
export function predictionSet(scores: readonly LabelScore[], quantile: number): string[] {
  return scores.filter((s) => nonconformity(s.score) <= quantile).map((s) => s.label)
}

/** Val nonconformities as the manifest stores them: ascending, rounded up to 1e-6 (sets only grow). */
export function storedNonconformities(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => Math.ceil(v * 1e6) / 1e6).sort((a, b) => a - b)
}
