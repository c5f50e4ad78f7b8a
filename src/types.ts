/** Result shapes shared by the library, the worker's HTTP API and the browser entry. */

/** One label's score, as transformers.js and Workers AI return them. */
export interface LabelScore {
  label: string
  score: number
}

/** A memorized example that moved a decision. */
export interface Neighbor {
  /** "built": a training example of `resmem build`; "edit": an example learned since (POST /v1/memory, learn()). */
  source: 'built' | 'edit'
  /** Row of the training build (source "built": its row in memory.bin unless edits were folded in); forget it with the id `base:{row}`. */
  row?: number
  /** The edit's id (source "edit"), as learn() and POST /v1/memory returned it. */
  id?: string
  /** The label of the memorized example. */
  label: string
  /** Cosine similarity between the query's key and the stored key (from the quantized keys). */
  similarity: number
  /** Normalised weight of this neighbour's residual, exp(-dist/sigma) over the k neighbours. */
  weight: number
}

export interface BasePrediction {
  label: string
  score: number
  scores: LabelScore[]
}

export interface Classification {
  /** The ResMem label: argmax of softmax(z/T) + sum_i w_i r_i. */
  label: string
  score: number
  /** All labels, sorted by score, highest first. */
  scores: LabelScore[]
  /** What the base model alone says (softmax(z/T)). */
  base: BasePrediction
  /** Whether the text was cut to the model's maximum number of tokens. */
  truncated: boolean
  /** Present when explain was requested. */
  neighbors?: Neighbor[]
  /** Cosine distance from the text's key to its nearest live memory row, built or learned (absent with novelty off). */
  novelty?: number
  /** Whether `novelty` lies beyond the threshold fitted on val (absent for builds without `locality`). */
  unfamiliar?: boolean
  /** Labels that hold the true one with probability >= 1 - alpha on data like val (absent for builds without `conformal`). */
  set?: string[]
}

/**
 * What classify({abstain: true}) answers: a Classification, or, when the text is unfamiliar or its set does not
 * hold exactly one label, the same with `label` and `score` null and `abstained` saying why.
 */
export type Answer = Classification | (Omit<Classification, 'label' | 'score'> & { label: null; score: null; abstained: 'unfamiliar' | 'ambiguous' | 'empty' })

/** A labelled example to learn. */
export interface Example {
  text: string
  label: string
}
