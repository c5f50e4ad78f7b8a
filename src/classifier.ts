import type { Bundle } from './bundle/load.ts'
import type { KnnIndex } from './knn/index.ts'
import { ModelRunner, type ModelOutputs, type OrtRuntime } from './model/runner.ts'
import { MemorySearch, type ResMemParams, type ResMemDecision } from './resmem/search.ts'
import { TextTokenizer } from './tokenize/index.ts'
import type { Classification, LabelScore } from './types.ts'

export interface ClassifierOptions {
  ort: OrtRuntime
  /** Session options for InferenceSession.create (execution providers, threads). */
  sessionOptions?: object
  /** Builds the k-NN index over the int8 keys; the TypeScript reference when omitted. */
  createIndex?: (keys: Int8Array, rows: number, dim: number) => KnnIndex
  /** Texts per model run. */
  batchSize?: number
}

export interface ClassifyOptions {
  /** Return the neighbours that moved each decision. */
  explain?: boolean
  /** Override the tuned k, sigma or T (k = 0 gives the base model alone). */
  params?: Partial<ResMemParams>
}

/** Sorted `{label, score}` list. ResMem sums can dip below 0: clip and renormalise (argmax is unchanged). */
export function labelScores(labels: readonly string[], probs: ArrayLike<number>): LabelScore[] {
  let sum = 0
  for (let i = 0; i < probs.length; i++) sum += Math.max(0, probs[i])
  return labels
    .map((label, i) => ({ label, score: sum > 0 ? Math.max(0, probs[i]) / sum : 1 / labels.length }))
    .sort((a, b) => b.score - a.score || (a.label < b.label ? -1 : 1))
}

/** text -> tokens -> model (logits, embedding) -> memory search -> ResMem combine -> result. */
export class ResMemClassifier {
  readonly labels: readonly string[]
  readonly params: ResMemParams
  private readonly batchSize: number

  private constructor(
    readonly bundle: Bundle,
    readonly tokenizer: TextTokenizer,
    readonly model: ModelRunner,
    readonly search: MemorySearch,
    batchSize: number,
  ) {
    this.labels = bundle.config.labels
    const { k, sigma, temperature } = bundle.manifest.resmem
    this.params = { k, sigma, temperature }
    this.batchSize = Math.max(1, Math.floor(batchSize))
  }

  static async create(bundle: Bundle, options: ClassifierOptions): Promise<ResMemClassifier> {
    const tokenizer = new TextTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig, bundle.manifest.model.maxLength)
    const model = await ModelRunner.create(options.ort, bundle.model, options.sessionOptions)
    const { memory } = bundle
    const index = memory.keys.dtype === 'int8' && options.createIndex ? options.createIndex(memory.keys.data, memory.rows, memory.dim) : undefined
    return new ResMemClassifier(bundle, tokenizer, model, new MemorySearch(memory, index), options.batchSize ?? 16)
  }

  /** Logits and embeddings for many texts, in batches. */
  async embed(texts: readonly string[]): Promise<{ outputs: ModelOutputs[]; truncated: boolean[] }> {
    const outputs: ModelOutputs[] = []
    const truncated: boolean[] = []
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = this.tokenizer.encodeBatch(texts.slice(i, i + this.batchSize))
      outputs.push(await this.model.run(batch))
      truncated.push(...batch.truncated)
    }
    return { outputs, truncated }
  }

  decide(logits: Float32Array, embedding: Float32Array, params: ResMemParams = this.params): ResMemDecision {
    return this.search.decide(logits, embedding, params)
  }

  async classify(texts: readonly string[], options: ClassifyOptions = {}): Promise<Classification[]> {
    const params = { ...this.params, ...options.params }
    const { outputs, truncated } = await this.embed(texts)
    const results: Classification[] = []
    for (const out of outputs) {
      for (let b = 0; b < out.batch; b++) {
        const logits = out.logits.subarray(b * out.classes, (b + 1) * out.classes)
        const embedding = out.embedding.subarray(b * out.dim, (b + 1) * out.dim)
        results.push(this.toResult(this.decide(logits, embedding, params), truncated[results.length], options.explain ?? false))
      }
    }
    return results
  }

  private toResult(d: ResMemDecision, truncated: boolean, explain: boolean): Classification {
    const scores = labelScores(this.labels, d.probs)
    const baseScores = labelScores(this.labels, d.base)
    const result: Classification = {
      label: scores[0].label,
      score: scores[0].score,
      scores,
      base: { label: baseScores[0].label, score: baseScores[0].score, scores: baseScores },
      truncated,
    }
    if (explain) {
      const rowLabels = this.bundle.memory.rowLabels
      result.neighbors = Array.from(d.rows, (row, i) => ({
        row,
        label: this.labels[rowLabels[row]],
        similarity: d.similarities[i],
        weight: d.weights[i],
      }))
    }
    return result
  }
}
