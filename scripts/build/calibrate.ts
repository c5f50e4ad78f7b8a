/**
 * Fits the score temperature of src/resmem/calibrate.ts on val: the s that minimises the mean negative
 * log-likelihood of the calibrated scores. The NLL of temperature scaling is convex in 1/s, so a golden-section
 * search over log s finds it; the label never changes (calibration is monotone per row).
 */
import { BASE_FLOOR, calibrate, SCORE_FLOOR } from '../../src/resmem/calibrate.ts'
import { negativeLogLikelihood } from '../eval/metrics.ts'
import type { ResidualMemory } from '../../src/memory/format.ts'
import type { Calibration } from '../../src/memory/manifest.ts'
import type { EmbeddedSplit } from './embed.ts'
import { resmemProbabilities, type TuneInput } from './tune.ts'

/** Search range of the score temperature (wide: the base's softmax(z/T) may be at T = 0.03 or T = 64). */
const LOW = 1e-4
const HIGH = 1e4
/** Floors tried for the memory's answers (the one with the lowest val NLL is kept). */
const MEMORY_FLOORS = [1e-8, 1e-6, 1e-4, 1e-3, 1e-2]

/** Calibrated copy of probability rows (n x classes, flat). */
export function calibrateRows(probs: ArrayLike<number>, classes: number, temperature: number, floor = SCORE_FLOOR): Float64Array {
  const out = new Float64Array(probs.length)
  const row = new Float64Array(classes)
  for (let i = 0; i < probs.length; i += classes) {
    calibrate(Array.prototype.slice.call(probs, i, i + classes) as number[], { temperature, floor }, row)
    out.set(row, i)
  }
  return out
}

/** The score temperature with the lowest val NLL, to 4 significant digits. */
export function fitScoreTemperature(probs: ArrayLike<number>, truth: ArrayLike<number>, classes: number, floor = SCORE_FLOOR): number {
  const loss = (logS: number) => negativeLogLikelihood(calibrateRows(probs, classes, Math.exp(logS), floor), truth, classes)
  let a = Math.log(LOW)
  let b = Math.log(HIGH)
  const g = (Math.sqrt(5) - 1) / 2
  let c = b - g * (b - a)
  let d = a + g * (b - a)
  let fc = loss(c)
  let fd = loss(d)
  for (let i = 0; i < 60 && b - a > 1e-4; i++) {
    if (fc <= fd) {
      b = d
      d = c
      fd = fc
      c = b - g * (b - a)
      fc = loss(c)
    } else {
      a = c
      c = d
      fc = fd
      d = a + g * (b - a)
      fd = loss(d)
    }
  }
  return Number(Math.exp((a + b) / 2).toPrecision(4))
}

/** The manifest's `calibration`: score temperature (and floor) of the memory's answers at `params`, and the base's temperature, on val. */
export async function fitCalibration(memory: ResidualMemory, val: EmbeddedSplit, params: { k: number; sigma: number; temperature: number }, createIndex?: TuneInput['createIndex']): Promise<Calibration> {
  const memoryProbs = await resmemProbabilities(memory, val, params, createIndex)
  const baseProbs = await resmemProbabilities(memory, val, { ...params, k: 0 })
  let best = { floor: SCORE_FLOOR, temperature: 1, nll: Infinity }
  for (const floor of MEMORY_FLOORS) {
    const temperature = fitScoreTemperature(memoryProbs, val.labels, val.classes, floor)
    const nll = negativeLogLikelihood(calibrateRows(memoryProbs, val.classes, temperature, floor), val.labels, val.classes)
    if (nll < best.nll - 1e-12) best = { floor, temperature, nll }
  }
  return {
    split: 'val',
    memory: best.temperature,
    base: fitScoreTemperature(baseProbs, val.labels, val.classes, BASE_FLOOR),
    floor: best.floor,
  }
}
