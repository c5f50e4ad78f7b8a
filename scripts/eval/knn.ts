import { scanFloat32 } from '../../src/knn/index.ts'
import { normalizedKeys } from '../../src/memory/build.ts'
import { argmax, neighborWeights, softmax } from '../../src/resmem/combine.ts'
import { l2Normalize } from '../../src/resmem/vector.ts'
import type { EmbeddedSplit } from '../build/embed.ts'
import { accuracy } from './metrics.ts'

/**
 * The memory-only baselines: a k-NN classifier on the same keys (vote of the neighbours' labels weighted
 * like ResMem's), and kNN-LM style interpolation p = lambda p_knn + (1 - lambda) p_model
 * (Khandelwal et al. 2020). Both use float32 keys: they are baselines, not what ships.
 */
export interface NeighborLists {
  rows: Uint32Array[]
  sims: Float32Array[]
}

export function findNeighbors(train: EmbeddedSplit, split: EmbeddedSplit, k: number): NeighborLists {
  const keys = normalizedKeys(train)
  const rows: Uint32Array[] = []
  const sims: Float32Array[] = []
  for (let i = 0; i < split.rows; i++) {
    const q = l2Normalize(Float32Array.from(split.embeddings.subarray(i * split.dim, (i + 1) * split.dim)))
    const top = scanFloat32(keys, train.rows, train.dim, q, k)
    rows.push(top.rows)
    sims.push(top.sims)
  }
  return { rows, sims }
}

export interface KnnParams {
  k: number
  sigma: number
}

function knnProbs(train: EmbeddedSplit, nb: NeighborLists, i: number, p: KnnParams): Float32Array {
  const out = new Float32Array(train.classes)
  const w = neighborWeights(nb.sims[i].subarray(0, p.k), p.sigma)
  for (let j = 0; j < w.length; j++) out[train.labels[nb.rows[i][j]]] += w[j]
  return out
}

export function knnPredict(train: EmbeddedSplit, nb: NeighborLists, n: number, p: KnnParams): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => argmax(knnProbs(train, nb, i, p)))
}

function interpProbs(train: EmbeddedSplit, split: EmbeddedSplit, nb: NeighborLists, i: number, p: KnnParams, lambda: number): Float32Array {
  const c = train.classes
  const knn = knnProbs(train, nb, i, p)
  const model = softmax(split.logits.subarray(i * c, (i + 1) * c))
  for (let j = 0; j < c; j++) knn[j] = lambda * knn[j] + (1 - lambda) * model[j]
  return knn
}

export function interpPredict(train: EmbeddedSplit, split: EmbeddedSplit, nb: NeighborLists, p: KnnParams, lambda: number): Uint32Array {
  return Uint32Array.from({ length: split.rows }, (_, i) => argmax(interpProbs(train, split, nb, i, p, lambda)))
}

/** The k-NN vote's class probabilities, n x classes, flat. */
export function knnProbabilities(train: EmbeddedSplit, nb: NeighborLists, n: number, p: KnnParams): Float32Array {
  const out = new Float32Array(n * train.classes)
  for (let i = 0; i < n; i++) out.set(knnProbs(train, nb, i, p), i * train.classes)
  return out
}

/** kNN-LM interpolation's class probabilities, n x classes, flat. */
export function interpProbabilities(train: EmbeddedSplit, split: EmbeddedSplit, nb: NeighborLists, p: KnnParams, lambda: number): Float32Array {
  const out = new Float32Array(split.rows * train.classes)
  for (let i = 0; i < split.rows; i++) out.set(interpProbs(train, split, nb, i, p, lambda), i * train.classes)
  return out
}

/** Best (k, sigma) for the k-NN vote on the held-out split (ties: first in grid order, i.e. smaller k). */
export function tuneKnn(train: EmbeddedSplit, val: EmbeddedSplit, nb: NeighborLists, ks: number[], sigmas: number[]): KnnParams & { accuracy: number } {
  let best = { k: ks[0], sigma: sigmas[0], accuracy: -1 }
  for (const k of ks) for (const sigma of sigmas) {
    const acc = accuracy(knnPredict(train, nb, val.rows, { k, sigma }), val.labels)
    if (acc > best.accuracy) best = { k, sigma, accuracy: acc }
  }
  return best
}

export function tuneLambda(train: EmbeddedSplit, val: EmbeddedSplit, nb: NeighborLists, p: KnnParams): { lambda: number; accuracy: number } {
  let best = { lambda: 0, accuracy: -1 }
  for (let step = 0; step <= 10; step++) {
    const lambda = step / 10
    const acc = accuracy(interpPredict(train, val, nb, p, lambda), val.labels)
    if (acc > best.accuracy) best = { lambda, accuracy: acc }
  }
  return best
}
