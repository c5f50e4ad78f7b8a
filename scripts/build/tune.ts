import { buildMemory } from '../../src/memory/build.ts'
import type { Dtype, ResidualMemory } from '../../src/memory/format.ts'
import type { TuningPoint } from '../../src/memory/manifest.ts'
import { argmax, combine, neighborWeights, softmax } from '../../src/resmem/combine.ts'
import { MemorySearch } from '../../src/resmem/search.ts'
import { residualReader } from '../../src/memory/residuals.ts'
import type { KnnIndex } from '../../src/knn/index.ts'
import type { EmbeddedSplit } from './embed.ts'

export interface Grid {
  k: number[]
  sigma: number[]
  temperature: number[]
}

export const DEFAULT_GRID: Grid = {
  k: [1, 2, 4, 8, 16, 32, 64],
  sigma: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
  temperature: [0.25, 0.5, 1, 2, 4, 8],
}

export interface ScoredPoint extends TuningPoint {
  /** Mean ResMem probability of the true class: breaks accuracy ties toward the better-calibrated point. */
  meanTrueProb: number
}

export interface TuneInput {
  train: EmbeddedSplit
  heldOut: EmbeddedSplit
  labels: string[]
  dtype: Dtype
  grid: Grid
  modelFingerprint: string
  createIndex?: (keys: Int8Array, rows: number, dim: number) => KnnIndex
}

/** Neighbours of every held-out example, found once: keys do not depend on T or sigma. */
export async function heldOutNeighbors(search: MemorySearch, heldOut: EmbeddedSplit, k: number): Promise<{ rows: number[]; similarities: number[] }[]> {
  const out: { rows: number[]; similarities: number[] }[] = []
  for (let i = 0; i < heldOut.rows; i++) {
    const hits = await search.neighbors(heldOut.embeddings.subarray(i * heldOut.dim, (i + 1) * heldOut.dim), k)
    out.push({ rows: hits.map((h) => h.row!), similarities: hits.map((h) => h.similarity) })
  }
  return out
}

export function memoryFor(input: TuneInput, temperature: number): ResidualMemory {
  return buildMemory(input.train, { labels: input.labels, temperature, modelFingerprint: input.modelFingerprint, dtype: input.dtype })
}

/**
 * Held-out accuracy of ResMem over the whole grid. Residuals (and so the memory) change with T; the
 * neighbour lists do not, so they are searched once with the largest k and cut for each smaller k.
 */
export async function evaluateGrid(input: TuneInput): Promise<ScoredPoint[]> {
  const { heldOut, grid } = input
  const classes = input.labels.length
  const kMax = Math.max(...grid.k)
  const points: ScoredPoint[] = []
  let neighbors: { rows: number[]; similarities: number[] }[] | undefined
  for (const temperature of grid.temperature) {
    const memory = memoryFor(input, temperature)
    const index = memory.keys.dtype === 'int8' && input.createIndex ? input.createIndex(memory.keys.data, memory.rows, memory.dim) : undefined
    neighbors ??= await heldOutNeighbors(MemorySearch.of(memory, index), heldOut, kMax)
    const read = residualReader(memory)
    const base = Array.from({ length: heldOut.rows }, (_, i) => softmax(heldOut.logits.subarray(i * classes, (i + 1) * classes), temperature))
    // Residuals at this T of every example's kMax neighbours, read once for all k and sigma.
    const residuals = neighbors.map((nb) => nb.rows.map((row) => read(row, new Float32Array(classes))))
    for (const k of grid.k) {
      for (const sigma of grid.sigma) {
        let correct = 0
        let trueProb = 0
        for (let i = 0; i < heldOut.rows; i++) {
          const nb = neighbors[i]
          const p = combine(base[i], residuals[i].slice(0, k), neighborWeights(nb.similarities.slice(0, k), sigma))
          const y = heldOut.labels[i]
          if (argmax(p) === y) correct++
          trueProb += Math.min(1, Math.max(0, p[y]))
        }
        points.push({ k, sigma, temperature, accuracy: correct / heldOut.rows, meanTrueProb: trueProb / heldOut.rows })
      }
    }
  }
  return points
}

/** Highest accuracy; ties go to the higher mean true-class probability, then to the smaller k. */
export function pickBest(points: readonly ScoredPoint[]): ScoredPoint {
  if (points.length === 0) throw new RangeError('empty tuning grid')
  return points.reduce((best, p) =>
    p.accuracy > best.accuracy ||
    (p.accuracy === best.accuracy && (p.meanTrueProb > best.meanTrueProb + 1e-12 || (Math.abs(p.meanTrueProb - best.meanTrueProb) <= 1e-12 && p.k < best.k)))
      ? p
      : best,
  )
}

export function baseAccuracy(split: EmbeddedSplit): number {
  let correct = 0
  for (let i = 0; i < split.rows; i++) if (argmax(split.logits.subarray(i * split.classes, (i + 1) * split.classes)) === split.labels[i]) correct++
  return split.rows ? correct / split.rows : 0
}

export interface Tuning {
  /** Held-out accuracy over the grid, with the float32 memory. */
  grid: ScoredPoint[]
  /** The chosen point (float32 accuracy). */
  best: ScoredPoint
  /** Held-out accuracy of the int8 memory at the chosen point. */
  int8Accuracy: number
}

/**
 * Chooses k, sigma and T on the float32 memory, then scores the int8 memory at that point. Choosing on the
 * unquantized memory keeps the choice a property of model and data: int8 and float32 then differ only by
 * quantization, which is what the int8-vs-fp32 comparison is meant to show.
 */
export async function tuneResMem(input: Omit<TuneInput, 'dtype'>): Promise<Tuning> {
  const grid = await evaluateGrid({ ...input, dtype: 'float32' })
  const best = pickBest(grid)
  const [int8] = await evaluateGrid({ ...input, dtype: 'int8', grid: { k: [best.k], sigma: [best.sigma], temperature: [best.temperature] } })
  return { grid, best, int8Accuracy: int8.accuracy }
}
