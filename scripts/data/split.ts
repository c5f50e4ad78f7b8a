import { CliError } from '../cli/errors.ts'
import type { LabelledExample } from './example.ts'
import { mulberry32, shuffled } from './random.ts'

export const SPLIT_NAMES = ['train', 'val', 'test'] as const
export type SplitName = (typeof SPLIT_NAMES)[number]
export type Splits = Record<SplitName, LabelledExample[]>
/** Fractions for train, val, test; they sum to 1. */
export type SplitFractions = readonly [number, number, number]

export const DEFAULT_SPLIT: SplitFractions = [0.7, 0.1, 0.2]
export const DEFAULT_SEED = 42

/** Parses `--split 0.7,0.1,0.2`. Val may be 0; train and test may not (nothing to fit or to measure). */
export function parseSplit(value: string): SplitFractions {
  const parts = value.split(',').map((s) => s.trim())
  const nums = parts.map(Number)
  if (parts.length !== 3 || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new CliError(`--split: expected three non-negative numbers train,val,test (e.g. 0.7,0.1,0.2), got "${value}"`)
  }
  const sum = nums[0] + nums[1] + nums[2]
  if (Math.abs(sum - 1) > 1e-6) throw new CliError(`--split: fractions must sum to 1, got ${sum}`)
  if (nums[0] === 0 || nums[2] === 0) throw new CliError('--split: train and test fractions must be above 0')
  return [nums[0], nums[1], nums[2]]
}

/** Parses `--seed`: an integer in [0, 2^32). */
export function parseSeed(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff) {
    throw new CliError(`--seed: expected an integer from 0 to 4294967295, got "${value}"`)
  }
  return n
}

/**
 * How many of `n` examples go to each split: floors, then the leftovers by largest remainder (ties to the
 * earlier split). Every split with a fraction above 0 then gets at least one, taken from the largest.
 */
export function allocate(n: number, fractions: SplitFractions): [number, number, number] {
  const exact = fractions.map((f) => n * f)
  const counts = exact.map(Math.floor) as [number, number, number]
  const order = [0, 1, 2].sort((a, b) => exact[b] - counts[b] - (exact[a] - counts[a]) || a - b)
  let left = n - counts[0] - counts[1] - counts[2]
  for (const i of order) if (left-- > 0) counts[i]++
  for (let i = 0; i < 3; i++) {
    if (fractions[i] > 0 && counts[i] === 0) {
      const donor = [0, 1, 2].reduce((best, j) => (counts[j] > counts[best] ? j : best), 0)
      if (counts[donor] > 1) {
        counts[donor]--
        counts[i]++
      }
    }
  }
  return counts
}

/**
 * The fewest examples a label needs: one in every split with a fraction above 0. With fewer, some split has
 * no example of the label, so its accuracy on that split cannot be measured and the memory built from train
 * would hold labels the test set never asks about (or the reverse).
 */
export function minimumPerLabel(fractions: SplitFractions): number {
  return fractions.filter((f) => f > 0).length
}

/**
 * Stratified, seeded split: each label is shuffled and cut by `allocate`, so every split keeps the label
 * proportions of the whole. Labels are visited in sorted order and each split is shuffled at the end, so the
 * output depends only on the examples' order, the seed and the fractions.
 */
export function stratifiedSplit(examples: readonly LabelledExample[], fractions: SplitFractions, seed: number): Splits {
  const byLabel = new Map<string, LabelledExample[]>()
  for (const ex of examples) {
    const group = byLabel.get(ex.label)
    if (group) group.push(ex)
    else byLabel.set(ex.label, [ex])
  }
  const labels = [...byLabel.keys()].sort()
  const minimum = minimumPerLabel(fractions)
  const rare = labels.filter((l) => byLabel.get(l)!.length < minimum)
  if (rare.length > 0) {
    const shown = rare.slice(0, 10).map((l) => `"${l}" (${byLabel.get(l)!.length})`).join(', ')
    throw new CliError(
      `${rare.length} label(s) have fewer than ${minimum} examples, so they cannot appear in every split: ${shown}` +
        `${rare.length > 10 ? ', ...' : ''}. Add examples, drop those rows, or merge the labels.`,
    )
  }

  const rand = mulberry32(seed)
  const splits: Splits = { train: [], val: [], test: [] }
  for (const label of labels) {
    const group = shuffled(byLabel.get(label)!, rand)
    const [nTrain, nVal] = allocate(group.length, fractions)
    splits.train.push(...group.slice(0, nTrain))
    splits.val.push(...group.slice(nTrain, nTrain + nVal))
    splits.test.push(...group.slice(nTrain + nVal))
  }
  // Mixed label order inside each file, so a reader taking the first N rows still sees every label.
  for (const name of SPLIT_NAMES) splits[name] = shuffled(splits[name], rand)
  return splits
}
