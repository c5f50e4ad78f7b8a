/**
 * Classification metrics over class ids, and over probability rows (row i of `probs` holds the
 * `classes` probabilities of example i). One implementation of each, used by eval, build and train.
 */

export function accuracy(predicted: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (predicted.length !== truth.length) throw new RangeError('predictions and labels differ in length')
  let correct = 0
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++
  return truth.length ? correct / truth.length : 0
}

/**
 * Unweighted mean of per-class F1 over the classes present in the truth or the predictions (a class that is
 * neither, e.g. a label absent from a small test file, has no F1 and does not count as 0).
 */
export function macroF1(predicted: ArrayLike<number>, truth: ArrayLike<number>, classes: number): number {
  if (predicted.length !== truth.length) throw new RangeError('predictions and labels differ in length')
  const tp = new Float64Array(classes)
  const fp = new Float64Array(classes)
  const fn = new Float64Array(classes)
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i] === truth[i]) tp[truth[i]]++
    else {
      fp[predicted[i]]++
      fn[truth[i]]++
    }
  }
  let sum = 0
  let n = 0
  for (let c = 0; c < classes; c++) {
    if (tp[c] + fp[c] + fn[c] === 0) continue
    sum += (2 * tp[c]) / (2 * tp[c] + fp[c] + fn[c])
    n++
  }
  return n ? sum / n : 0
}

function rows(probs: ArrayLike<number>, truth: ArrayLike<number>, classes: number): number {
  if (probs.length !== truth.length * classes) throw new RangeError(`expected ${truth.length} x ${classes} probabilities, got ${probs.length}`)
  return truth.length
}

function argmaxRow(probs: ArrayLike<number>, offset: number, classes: number): number {
  let best = 0
  for (let c = 1; c < classes; c++) if (probs[offset + c] > probs[offset + best]) best = c
  return best
}

/**
 * Expected calibration error of the top-class confidence: examples binned by confidence into `bins`
 * equal-width bins over [0, 1] (a confidence of exactly 1 goes in the last), then the example-weighted
 * mean of |accuracy - mean confidence| per bin.
 */
export function expectedCalibrationError(probs: ArrayLike<number>, truth: ArrayLike<number>, classes: number, bins = 15): number {
  const n = rows(probs, truth, classes)
  if (n === 0) return 0
  const count = new Float64Array(bins)
  const conf = new Float64Array(bins)
  const hit = new Float64Array(bins)
  for (let i = 0; i < n; i++) {
    const top = argmaxRow(probs, i * classes, classes)
    const p = probs[i * classes + top]
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))
    count[b]++
    conf[b] += p
    if (top === truth[i]) hit[b]++
  }
  let ece = 0
  for (let b = 0; b < bins; b++) if (count[b]) ece += Math.abs(hit[b] - conf[b]) / n
  return ece
}

/** Per-bin figures of the reliability diagram (the bins of expectedCalibrationError). */
export function reliabilityBins(probs: ArrayLike<number>, truth: ArrayLike<number>, classes: number, bins = 15): { low: number; high: number; count: number; confidence: number; accuracy: number }[] {
  const n = rows(probs, truth, classes)
  const out = Array.from({ length: bins }, (_, b) => ({ low: b / bins, high: (b + 1) / bins, count: 0, confidence: 0, accuracy: 0 }))
  for (let i = 0; i < n; i++) {
    const top = argmaxRow(probs, i * classes, classes)
    const p = probs[i * classes + top]
    const bin = out[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))]
    bin.count++
    bin.confidence += p
    if (top === truth[i]) bin.accuracy++
  }
  for (const bin of out) if (bin.count) (bin.confidence /= bin.count), (bin.accuracy /= bin.count)
  return out
}

/** Smallest probability the log loss reads: a score of 0 for the true class costs -log(1e-12), not infinity. */
const NLL_FLOOR = 1e-12

/** Mean negative log-likelihood of the true class (natural log). */
export function negativeLogLikelihood(probs: ArrayLike<number>, truth: ArrayLike<number>, classes: number): number {
  const n = rows(probs, truth, classes)
  let sum = 0
  for (let i = 0; i < n; i++) sum -= Math.log(Math.max(NLL_FLOOR, probs[i * classes + truth[i]]))
  return n ? sum / n : 0
}

/** Multi-class Brier score: mean over examples of sum_c (p_c - onehot_c)^2 (0 is perfect, 2 the worst). */
export function brierScore(probs: ArrayLike<number>, truth: ArrayLike<number>, classes: number): number {
  const n = rows(probs, truth, classes)
  let sum = 0
  for (let i = 0; i < n; i++) for (let c = 0; c < classes; c++) sum += (probs[i * classes + c] - (c === truth[i] ? 1 : 0)) ** 2
  return n ? sum / n : 0
}

/** mulberry32: a small seeded generator, so that intervals are the same run after run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Interval {
  estimate: number
  low: number
  high: number
}

/**
 * Percentile bootstrap interval (default 95%, 2000 resamples, fixed seed) of the mean of `values` over
 * examples; with `paired`, of mean(values - paired) over the same resampled examples (a difference of two
 * methods on one test set).
 */
export function bootstrapInterval(values: ArrayLike<number>, options: { paired?: ArrayLike<number>; resamples?: number; level?: number; seed?: number } = {}): Interval {
  const n = values.length
  const { paired, resamples = 2000, level = 0.95, seed = 1 } = options
  if (paired && paired.length !== n) throw new RangeError('paired values differ in length')
  const d = Float64Array.from({ length: n }, (_, i) => values[i] - (paired ? paired[i] : 0))
  const estimate = n ? d.reduce((s, x) => s + x, 0) / n : 0
  if (n === 0) return { estimate, low: 0, high: 0 }
  const random = seeded(seed)
  const means = new Float64Array(resamples)
  for (let r = 0; r < resamples; r++) {
    let s = 0
    for (let i = 0; i < n; i++) s += d[Math.floor(random() * n)]
    means[r] = s / n
  }
  means.sort()
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]
  return { estimate, low: at((1 - level) / 2), high: at(1 - (1 - level) / 2) }
}

/**
 * Exact one-sided McNemar test: of the n = gains + losses examples where two methods disagree on being
 * right, the chance of `gains` or more wins for the new method if each discordant example were a fair coin.
 * P(X >= gains), X ~ Binomial(n, 1/2). Small is evidence the new method is better.
 */
export function mcnemarExactOneSided(gains: number, losses: number): number {
  const n = gains + losses
  if (gains <= 0) return 1
  // log C(n, i) summed in log space: n reaches thousands.
  let logC = 0 // log C(n, 0)
  const terms: number[] = []
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i)
    if (i >= gains) terms.push(logC - n * Math.LN2)
  }
  const max = Math.max(...terms)
  return Math.min(1, Math.exp(max) * terms.reduce((s, t) => s + Math.exp(t - max), 0))
}

/** 1 where predicted matches truth, else 0. */
export function correctness(predicted: ArrayLike<number>, truth: ArrayLike<number>): Uint8Array {
  return Uint8Array.from({ length: truth.length }, (_, i) => (predicted[i] === truth[i] ? 1 : 0))
}
