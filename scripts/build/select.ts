/**
 * Whether a memory is worth serving, decided on validation data only.
 *
 * 1. Tune k, sigma and T on val over a grid (tune.ts searchGrid: extended past any edge the best point
 *    sits on).
 * 2. Cross-fit the choice: val is cut into FOLDS folds; for each fold the setting is chosen on the other
 *    folds (the base model alone, k = 0, is a candidate and wins ties), then scored on the held-out fold.
 *    Every val example so gets a prediction from a setting that was not chosen on it.
 * 3. Exact one-sided McNemar test of those out-of-fold predictions against the base model on the same
 *    examples: the memory is on only when p < ALPHA. A test on the in-sample best point would be optimistic
 *    (the point was picked to look good on exactly those examples); its p is recorded next to the other.
 */
import { mcnemarExactOneSided } from '../eval/metrics.ts'
import type { EmbeddedSplit } from './embed.ts'
import { argmax } from '../../src/resmem/combine.ts'
import type { ScoredPoint } from './tune.ts'

/** Significance level of the McNemar test that turns the memory on. */
export const ALPHA = 0.05
/** Folds of the cross-fitted choice. */
export const FOLDS = 5
/** The expected-gain rule's tolerance: the 95% lower bound of the cross-fitted gain may be this far below 0. */
export const GAIN_TOLERANCE = 0.005

export interface MemoryDecision {
  on: boolean
  reason: string
  test: 'mcnemar-exact-one-sided'
  alpha: number
  folds: number
  /** Val examples the cross-fitted memory gets right and the base gets wrong, and the reverse. */
  gains: number
  losses: number
  pValue: number
  /** The same test on the in-sample best point (optimistic; for comparison). */
  inSample: { gains: number; losses: number; pValue: number }
  /** The rule not kept, on the same cross-fitted evidence (see expectedGainRule), for the eval report. */
  alternative: AlternativeRule
}

export interface AlternativeRule {
  rule: 'expected-gain'
  on: boolean
  /** Cross-fitted accuracy gain on val, (gains - losses) / n, and its 95% lower bound. */
  gain: number
  lower: number
  tolerance: number
  reason: string
}

/**
 * The expected-gain rule: on when the cross-fitted gain is positive and its 95% lower bound (normal
 * approximation of the paired difference) is at least -tolerance, i.e. the memory is expected to help and is
 * unlikely to cost more than `tolerance` of accuracy. It turns on more often than the McNemar test; recorded
 * beside it, not served (docs/trust.md says why).
 */
export function expectedGainRule(gains: number, losses: number, n: number, tolerance = GAIN_TOLERANCE): AlternativeRule {
  const gain = n ? (gains - losses) / n : 0
  const variance = n ? ((gains + losses) / n - gain * gain) / n : 0
  const lower = gain - 1.96 * Math.sqrt(Math.max(0, variance))
  const on = gain > 0 && lower >= -tolerance
  const pts = (x: number) => `${(100 * x).toFixed(2)} points`
  return { rule: 'expected-gain', on, gain, lower, tolerance, reason: `cross-fitted gain ${pts(gain)} (95% lower bound ${pts(lower)}) ${on ? '>' : 'not >'} 0 with the bound ${on ? '>=' : 'or <'} -${pts(tolerance)}` }
}

export function baseCorrectness(split: EmbeddedSplit): Uint8Array {
  const c = split.classes
  return Uint8Array.from({ length: split.rows }, (_, i) => (argmax(split.logits.subarray(i * c, (i + 1) * c)) === split.labels[i] ? 1 : 0))
}

function pairs(memory: Uint8Array, base: Uint8Array): { gains: number; losses: number } {
  let gains = 0
  let losses = 0
  for (let i = 0; i < base.length; i++) {
    if (memory[i] && !base[i]) gains++
    else if (!memory[i] && base[i]) losses++
  }
  return { gains, losses }
}

/**
 * Out-of-fold correctness: example i is scored with the setting chosen on the folds that do not hold it
 * (fold = i mod folds). The base model is a candidate and wins ties. Points need `correct` and `trueProb`.
 */
export function crossFitted(points: readonly ScoredPoint[], base: Uint8Array, folds = FOLDS): { correct: Uint8Array; chosen: (ScoredPoint | undefined)[] } {
  const n = base.length
  const out = new Uint8Array(n)
  const chosen: (ScoredPoint | undefined)[] = []
  for (let f = 0; f < folds; f++) {
    let bestPoint: ScoredPoint | undefined
    let bestRight = -1
    let bestProb = -1
    for (const p of points) {
      let right = 0
      let prob = 0
      for (let i = 0; i < n; i++) {
        if (i % folds === f) continue
        right += p.correct![i]
        prob += p.trueProb![i]
      }
      if (right > bestRight || (right === bestRight && prob > bestProb + 1e-9)) (bestPoint = p), (bestRight = right), (bestProb = prob)
    }
    let baseRight = 0
    for (let i = 0; i < n; i++) if (i % folds !== f) baseRight += base[i]
    const use = bestPoint && bestRight > baseRight ? bestPoint : undefined
    chosen.push(use)
    for (let i = f; i < n; i += folds) out[i] = use ? use.correct![i] : base[i]
  }
  return { correct: out, chosen }
}

/** On only when the cross-fitted memory beats the base on val beyond noise (see the file comment). */
export function decideMemory(points: readonly ScoredPoint[], best: ScoredPoint, base: Uint8Array, alpha = ALPHA, folds = FOLDS): MemoryDecision {
  const { correct } = crossFitted(points, base, folds)
  const oof = pairs(correct, base)
  const inSample = pairs(best.correct!, base)
  const pValue = mcnemarExactOneSided(oof.gains, oof.losses)
  const n = base.length
  const common = { test: 'mcnemar-exact-one-sided' as const, alpha, folds, ...oof, pValue, inSample: { ...inSample, pValue: mcnemarExactOneSided(inSample.gains, inSample.losses) }, alternative: expectedGainRule(oof.gains, oof.losses, n) }
  if (inSample.gains <= inSample.losses) return { ...common, on: false, reason: `no setting beats the base model on val (best: ${inSample.gains} gained, ${inSample.losses} lost of ${n})` }
  if (pValue >= alpha) {
    return { ...common, on: false, reason: `the cross-fitted gain on val is within noise: ${oof.gains} gained, ${oof.losses} lost of ${n}, McNemar exact one-sided p = ${pValue.toPrecision(3)} >= ${alpha}` }
  }
  return { ...common, on: true, reason: `the cross-fitted memory beats the base model on val: ${oof.gains} gained, ${oof.losses} lost of ${n}, McNemar exact one-sided p = ${pValue.toPrecision(3)} < ${alpha}` }
}
