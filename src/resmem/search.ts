import type { KnnIndex } from '../knn/index.ts'
import type { ResidualMemory } from '../memory/format.ts'
import { padProbabilities } from '../memory/labels.ts'
import { SegmentedMemory, builtSegment, type Hit } from '../memory/segments/index.ts'
import { argmax, combine, neighborWeights, softmax } from './combine.ts'
import { localNeighbors, type LocalityRule, type LocalNeighbors } from './locality.ts'
import { novelty } from './novelty.ts'

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
  /** The k nearest memorized rows, best first. */
  neighbors: Hit[]
  /** Their normalised weights. */
  weights: Float64Array
  /** With a locality rule: which rows answered (src/resmem/locality.ts). */
  from?: LocalNeighbors['from']
  /** With a locality rule: cosine distance to the nearest live row of the search (src/resmem/novelty.ts). */
  novelty?: number
}

/** A served search: `searchK` rows are fetched, then `rule` picks those that count. */
export interface LocalSearch extends LocalityRule {
  searchK: number
}

/**
 * Search a (segmented) memory and apply the ResMem rule. Each runtime builds the segments with its own
 * k-NN kernel (SIMD wasm where it loads, the TypeScript reference otherwise).
 */
export class MemorySearch {
  constructor(readonly memory: SegmentedMemory) {}

  /** One built memory, nothing else: what `resmem build` tunes and `resmem eval` scores. */
  static of(memory: ResidualMemory, index?: KnnIndex): MemorySearch {
    return new MemorySearch(new SegmentedMemory([builtSegment(memory, { index })], memory.dim))
  }

  /** The k nearest memorized rows to `embedding` (not yet normalised). */
  neighbors(embedding: Float32Array, k: number): Promise<Hit[]> {
    return this.memory.search(embedding, k)
  }

  /** Without `local`, the k nearest rows all count (what tuning scores); with it, one search serves locality and novelty. */
  /** `width`: the served classes (src/memory/labels.ts); memory labels get base probability 0. */
  async decide(logits: Float32Array, embedding: Float32Array, params: ResMemParams, local?: LocalSearch, width = logits.length): Promise<ResMemDecision> {
    const base = padProbabilities(softmax(logits, params.temperature), width)
    if (!local) return this.combined(base, await this.neighbors(embedding, params.k), params.sigma)
    const hits = local.searchK > 0 ? await this.neighbors(embedding, local.searchK) : []
    const { neighbors, from } = localNeighbors(hits, local)
    return { ...this.combined(base, neighbors, params.sigma), from, ...(local.searchK > 0 ? { novelty: novelty(hits) } : {}) }
  }

  private combined(base: Float32Array, neighbors: Hit[], sigma: number): ResMemDecision {
    const weights = neighborWeights(neighbors.map((h) => h.similarity), sigma)
    const probs = combine(base, neighbors.map((h) => h.residual), weights)
    return { base, probs, label: argmax(probs), baseLabel: argmax(base), neighbors, weights }
  }
}
