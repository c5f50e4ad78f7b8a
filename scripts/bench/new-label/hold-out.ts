/**
 * The new-label bench's data: languages held out of the base model, and the sentences taught of them.
 * Pure functions of the splits and a seed (test/scripts/bench/new-label.test.ts).
 */
import { mulberry32, shuffled, type LabelledExample } from '../../data/index.ts'

/**
 * Galician (beside Portuguese, Spanish, Asturian), Nynorsk (beside Bokmål, Danish) and Afrikaans (beside Dutch):
 * Latin-script languages whose closest relatives stay in the base model, so the base has a confident wrong
 * answer for each, not a script of its own to tell them by.
 */
export const DEFAULT_HOLD_OUT = ['gl', 'nn', 'af'] as const

/** Sentences per held-out language taught at each step of the curve. */
export const TEACH_COUNTS = [1, 2, 5, 10, 20, 50] as const

export const DEFAULT_SEED = 17

export interface HeldOut<T extends LabelledExample = LabelledExample> {
  /** Examples of the other labels: what the base model is trained and built on. */
  kept: T[]
  /** Examples of the held-out labels, in split order. */
  held: T[]
}

/** Splits examples by label; a held-out label absent from `labels` is an error (a typo would hold out nothing). */
export function holdOut<T extends LabelledExample>(examples: readonly T[], heldOut: readonly string[], labels: readonly string[]): HeldOut<T> {
  const unknown = heldOut.filter((l) => !labels.includes(l))
  if (unknown.length) throw new Error(`--hold-out: ${unknown.join(', ')} not among the labels (${labels.join(', ')})`)
  if (new Set(heldOut).size !== heldOut.length || heldOut.length === 0) throw new Error(`--hold-out: want distinct labels, got ${heldOut.join(',') || 'none'}`)
  if (labels.length - heldOut.length < 2) throw new Error('--hold-out: the base model needs at least two labels left')
  const set = new Set(heldOut)
  return { kept: examples.filter((e) => !set.has(e.label)), held: examples.filter((e) => set.has(e.label)) }
}

/** Parses `--hold-out gl,nn,af`. */
export function parseHoldOut(value: string | undefined): string[] {
  if (value === undefined) return [...DEFAULT_HOLD_OUT]
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

/**
 * The first `n` of each held-out label's examples in one seeded order: the taught set for n is a subset of the
 * set for every larger n (a curve, not independent draws). A label with fewer than n gives all it has.
 */
export function teachSet<T extends LabelledExample>(held: readonly T[], heldOut: readonly string[], n: number, seed = DEFAULT_SEED): T[] {
  return heldOut.flatMap((label, i) => shuffled(held.filter((e) => e.label === label), mulberry32(seed * 1000 + i)).slice(0, n))
}
