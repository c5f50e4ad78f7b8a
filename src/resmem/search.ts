import type { KnnIndex } from '../knn/index.ts'
import { createReferenceIndex, scanFloat32 } from '../knn/index.ts'
import type { ResidualMemory } from '../memory/format.ts'
import { quantizeVector } from '../memory/quantize.ts'
import { l2Normalize } from './vector.ts'
import { argmax, combine, neighborWeights, softmax, type ResidualReader } from './combine.ts'

export interface ResMemParams {
  /** Neighbours to add; 0 gives the base model alone. */
  k: number
  /** Distance scale of the neighbour weights. */
  sigma: number
  /** Temperature T of softmax(z/T), for the base probabilities and the stored residuals alike. */
  temperature: number
}

export interface ResMemDecision {
  /** softmax(z/T). */
  base: Float32Array
  /** base + sum_i w_i r_i. */
  probs: Float32Array
  label: number
  baseLabel: number
  rows: Uint32Array
  similarities: Float32Array
  weights: Float64Array
}

/** Dequantizing reader of a memory's residual rows. */
export function residualReader(memory: ResidualMemory): ResidualReader {
  const c = memory.labels.length
  const res = memory.residuals
  if (res.dtype === 'float32') return (row, out) => {
    out.set(res.data.subarray(row * c, row * c + c))
    return out
  }
  return (row, out) => {
    const s = res.scales[row]
    for (let j = 0; j < c; j++) out[j] = res.data[row * c + j] * s
    return out
  }
}

/**
 * Search a residual memory and apply the ResMem rule. The k-NN index for int8 keys is passed in, so each
 * runtime chooses its kernel (SIMD wasm where it loads, the TypeScript reference otherwise).
 */
export class MemorySearch {
  readonly memory: ResidualMemory
  readonly index: KnnIndex | null
  private readonly readResidual: ResidualReader
  private readonly query: Int8Array

  constructor(memory: ResidualMemory, index?: KnnIndex) {
    this.memory = memory
    if (memory.keys.dtype === 'int8') {
      this.index = index ?? createReferenceIndex(memory.keys.data, memory.rows, memory.dim)
      if (this.index.rows !== memory.rows || this.index.dim !== memory.dim) {
        throw new RangeError(`k-NN index is ${this.index.rows}x${this.index.dim}, memory is ${memory.rows}x${memory.dim}`)
      }
    } else this.index = null
    this.readResidual = residualReader(memory)
    this.query = new Int8Array(memory.dim)
  }

  /** The k nearest stored keys to `embedding` (not yet normalised), with cosine similarities. */
  neighbors(embedding: Float32Array, k: number): { rows: Uint32Array; similarities: Float32Array } {
    if (embedding.length !== this.memory.dim) throw new RangeError(`embedding has ${embedding.length} dimensions, memory keys have ${this.memory.dim}`)
    const q = l2Normalize(Float32Array.from(embedding))
    if (k <= 0 || this.memory.rows === 0) return { rows: new Uint32Array(0), similarities: new Float32Array(0) }
    const keys = this.memory.keys
    if (keys.dtype === 'float32') {
      const { rows, sims } = scanFloat32(keys.data, this.memory.rows, this.memory.dim, q, k)
      return { rows, similarities: sims }
    }
    const { scale } = quantizeVector(q, this.query)
    const top = this.index!.search(this.query, k)
    const similarities = new Float32Array(top.rows.length)
    // Clamped: rounding in the int8 keys can put a cosine a hair outside [-1, 1].
    for (let i = 0; i < top.rows.length; i++) similarities[i] = Math.max(-1, Math.min(1, top.dots[i] * scale * keys.scale))
    return { rows: top.rows, similarities }
  }

  decide(logits: Float32Array, embedding: Float32Array, params: ResMemParams): ResMemDecision {
    const base = softmax(logits, params.temperature)
    const { rows, similarities } = this.neighbors(embedding, params.k)
    const weights = neighborWeights(similarities, params.sigma)
    const probs = combine(base, rows, weights, this.readResidual)
    return { base, probs, label: argmax(probs), baseLabel: argmax(base), rows, similarities, weights }
  }
}
