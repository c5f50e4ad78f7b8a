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
  /** Per held-out example: 1 where this point is right (for paired tests and cross-fitting; not stored). */
  correct?: Uint8Array
  /** Per held-out example: the clipped ResMem probability of the true class. */
  trueProb?: Float32Array
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
        const right = new Uint8Array(heldOut.rows)
        const probs = new Float32Array(heldOut.rows)
        for (let i = 0; i < heldOut.rows; i++) {
          const nb = neighbors[i]
          const p = combine(base[i], residuals[i].slice(0, k), neighborWeights(nb.similarities.slice(0, k), sigma))
          const y = heldOut.labels[i]
          if (argmax(p) === y) (correct++, (right[i] = 1))
          probs[i] = Math.min(1, Math.max(0, p[y]))
          trueProb += probs[i]
        }
        points.push({ k, sigma, temperature, accuracy: correct / heldOut.rows, meanTrueProb: trueProb / heldOut.rows, correct: right, trueProb: probs })
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

/** Times the grid may be extended past an edge. */
const MAX_EXTENSIONS = 3
/** Largest k the manifest accepts. */
const MAX_K = 256

/** The grid pushed one step past each edge the best point sits on; undefined when it sits inside. */
export function extendGrid(grid: Grid, best: Pick<ScoredPoint, 'k' | 'sigma' | 'temperature'>): Grid | undefined {
  const next: Grid = { k: [...grid.k], sigma: [...grid.sigma], temperature: [...grid.temperature] }
  let moved = false
  const kMax = Math.max(...grid.k)
  if (best.k === kMax && kMax < MAX_K) (next.k.push(Math.min(MAX_K, kMax * 2)), (moved = true))
  for (const axis of ['sigma', 'temperature'] as const) {
    const values = grid[axis]
    const lo = Math.min(...values)
    const hi = Math.max(...values)
    if (values.length > 1 && best[axis] === hi) (next[axis].push(hi * 2), (moved = true))
    if (values.length > 1 && best[axis] === lo) (next[axis].unshift(lo / 2), (moved = true))
  }
  return moved ? next : undefined
}

/** evaluateGrid, extended past the edges a best point that beats the base reaches (at most MAX_EXTENSIONS times). */
export async function searchGrid(input: TuneInput): Promise<{ grid: Grid; points: ScoredPoint[]; best: ScoredPoint; extensions: number }> {
  let grid = input.grid
  let points = await evaluateGrid({ ...input, grid })
  let best = pickBest(points)
  let extensions = 0
  // A best point no better than the base sits on an edge only through the tie-break: nothing to extend for.
  const base = baseAccuracy(input.heldOut)
  for (; extensions < MAX_EXTENSIONS && best.accuracy > base; extensions++) {
    const wider = extendGrid(grid, best)
    if (!wider) break
    grid = wider
    points = await evaluateGrid({ ...input, grid })
    best = pickBest(points)
  }
  return { grid, points, best, extensions }
}

export interface Tuning {
  /** Held-out accuracy over the grid, with the float32 memory. */
  grid: ScoredPoint[]
  /** The chosen point (float32 accuracy). */
  best: ScoredPoint
  /** Held-out accuracy of the int8 memory at the chosen point. */
  int8Accuracy: number
  /** The int8 memory at the chosen point, per example. */
  int8: ScoredPoint
  /** Times the grid was extended past an edge. */
  extensions: number
}

/**
 * Chooses k, sigma and T on the float32 memory, then scores the int8 memory at that point. Choosing on the
 * unquantized memory keeps the choice a property of model and data: int8 and float32 then differ only by
 * quantization, which is what the int8-vs-fp32 comparison is meant to show.
 */
export async function tuneResMem(input: Omit<TuneInput, 'dtype'>): Promise<Tuning> {
  const { points: grid, best, extensions } = await searchGrid({ ...input, dtype: 'float32' })
  const [int8] = await evaluateGrid({ ...input, dtype: 'int8', grid: { k: [best.k], sigma: [best.sigma], temperature: [best.temperature] } })
  return { grid, best, int8Accuracy: int8.accuracy, int8: int8, extensions }
}

/**
 * ResMem probabilities (n x classes, flat) of every example of a split at one setting, searched through
 * the same MemorySearch the runtimes use. k = 0 gives softmax(z/T), the base model.
 */
export async function resmemProbabilities(memory: ResidualMemory, split: EmbeddedSplit, params: { k: number; sigma: number; temperature: number }, createIndex?: TuneInput['createIndex']): Promise<Float32Array> {
  const index = memory.keys.dtype === 'int8' && createIndex ? createIndex(memory.keys.data, memory.rows, memory.dim) : undefined
  const search = MemorySearch.of(memory, index)
  const c = split.classes
  const out = new Float32Array(split.rows * c)
  for (let i = 0; i < split.rows; i++) {
    const d = await search.decide(split.logits.subarray(i * c, (i + 1) * c), split.embeddings.subarray(i * split.dim, (i + 1) * split.dim), params)
    out.set(d.probs, i * c)
  }
  return out
}
