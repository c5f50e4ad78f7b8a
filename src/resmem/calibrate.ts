/**
 * Calibrated scores: the ResMem sum p = softmax(z/T) + sum_i w_i r_i is a fine ranking but a poor
 * probability (at a small T, "hi" comes out 1 - 1e-13). The reported score is a temperature-scaled version:
 *
 *   score_c = max(p_c, floor)^(1/s) / sum_j max(p_j, floor)^(1/s)
 *
 * with s fitted on the validation split by `resmem build` (manifest `calibration`). It is monotone in p_c,
 * so the label (the argmax) is unchanged; for the base model alone it is softmax(z / (T s)), plain
 * temperature scaling. The floor keeps a class the memory pushed below zero at a small, finite score.
 */

/** Default floor of ResMem sums, which can reach 0 or dip below it (`resmem build` fits one on val). */
export const SCORE_FLOOR = 1e-4
/**
 * Floor of the base model's softmax(z/T): only float32 underflow reaches it, so the scaled base scores are
 * softmax(z / (T s)) even at a small T where softmax(z/T) saturates.
 */
export const BASE_FLOOR = 1e-38

export interface ScoreCalibration {
  /** The score temperature s (1 leaves the clipped, renormalised probabilities as they are). */
  temperature: number
  /** Floor applied before scaling (default SCORE_FLOOR). */
  floor?: number
}

/** The manifest's score temperatures (src/memory/manifest.ts `calibration`). */
export interface ServedCalibration {
  memory: number
  base: number
  floor: number
}

/**
 * The served scores of one decision: the memory's temperature when rows answered, the base's otherwise;
 * uncalibrated (bundles built before calibration) as they are.
 */
export function servedScores(d: { probs: Float32Array; base: Float32Array; neighbors: readonly unknown[] }, cal: ServedCalibration | undefined, modelClasses = d.probs.length): { scores: ArrayLike<number>; base: ArrayLike<number> } {
  const baseOf = (p: Float32Array) => (cal ? calibrate(p, { temperature: cal.base, floor: BASE_FLOOR }, undefined, modelClasses) : p)
  const scores = d.neighbors.length ? (cal ? calibrate(d.probs, { temperature: cal.memory, floor: cal.floor }, undefined, modelClasses) : d.probs) : baseOf(d.probs)
  return { scores, base: baseOf(d.base) }
}

/**
 * Calibrated probabilities for one row of ResMem (or base) probabilities; sums to 1. Entries from `padded` on
 * (memory labels, src/memory/labels.ts) that no counted row carries (p <= 0) score exactly 0 and take no part:
 * a text no memory-label row reaches gets the scores it had before any label was added, bit for bit.
 */
export function calibrate(probs: ArrayLike<number>, calibration: ScoreCalibration, out = new Float64Array(probs.length), padded = probs.length): Float64Array {
  const floor = calibration.floor ?? SCORE_FLOOR
  const inv = 1 / calibration.temperature
  const counts = (c: number) => c < padded || probs[c] > 0
  let max = -Infinity
  for (let c = 0; c < probs.length; c++) {
    if (!counts(c)) continue
    out[c] = Math.log(Math.max(probs[c], floor)) * inv
    max = Math.max(max, out[c])
  }
  let sum = 0
  for (let c = 0; c < probs.length; c++) {
    out[c] = counts(c) ? Math.exp(out[c] - max) : 0
    sum += out[c]
  }
  for (let c = 0; c < probs.length; c++) out[c] /= sum
  return out
}
