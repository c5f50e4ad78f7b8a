import type { Bundle } from './bundle/load.ts'
import type { KnnIndex } from './knn/index.ts'
import { MemoryEditError, exampleLabelIds, formatRowId, parseRowId, type EditOp, type MemoryRowId } from './memory/edits.ts'
import { FoldMap } from './memory/fold.ts'
import { DEFAULT_MAX_MEMORY_LABELS, LabelSet, type ServedLabel } from './memory/labels.ts'
import { replayEdits } from './memory/replay.ts'
import { projectKey, type KeyProjection } from './memory/projection.ts'
import { encodeRow, type EncodedRow } from './memory/row.ts'
import { EditOverlay, SegmentedMemory, builtSegment, type Hit, type Segment } from './memory/segments/index.ts'
import { MicroBatcher } from './model/micro-batch.ts'
import { ModelRunner, type ModelOutputs, type OrtRuntime } from './model/runner.ts'
import { MemorySearch, type LocalSearch, type ResMemParams, type ResMemDecision } from './resmem/search.ts'
import { servedScores } from './resmem/calibrate.ts'
import { isUnfamiliar } from './resmem/novelty.ts'
import { DEFAULT_ALPHA, conformalQuantile, predictionSet } from './resmem/conformal.ts'
import { TextTokenizer } from './tokenize/index.ts'
import type { Answer, Classification, Example, LabelScore, Neighbor } from './types.ts'

export interface ClassifierOptions {
  ort: OrtRuntime
  /** Session options for InferenceSession.create (execution providers, threads). */
  sessionOptions?: object
  /** Builds the k-NN index over int8 keys (the built memory's, the overlay's); the TypeScript reference when omitted. */
  createIndex?: (keys: Int8Array, rows: number, dim: number) => KnnIndex
  /** Texts per model run. */
  batchSize?: number
  /**
   * The built memory as other segments than one local scan of bundle.memory (remote shards, parts): they must
   * hold exactly its rows, with its row numbers as their orders.
   */
  builtSegments?: readonly Segment[]
  /** Drop the model bytes once the session exists (`classifier.bundle.model` is then empty). */
  releaseModelBytes?: boolean
  /**
   * Run texts that wait while the model is busy together, batchSize at most per run, only texts of one token
   * length per run so every answer is the one the text gets alone (src/model/micro-batch.ts). Off by default.
   */
  microBatch?: boolean
  /**
   * Report `novelty` and `unfamiliar` (default true). Off, a build whose memory is off skips the search until
   * rows are learned.
   */
  novelty?: boolean
  /** The deployment's miscoverage of prediction sets (default: the manifest's `conformal.alpha`, 0.1). */
  alpha?: number
}

/**
 * What a caller may change at inference: k (0 gives the base model alone) and sigma. Never T: the stored
 * residuals were computed at the build's T, and another T would add them to probabilities they do not fit.
 */
export type InferenceParams = Partial<Pick<ResMemParams, 'k' | 'sigma'>>

export interface ClassifyOptions {
  /** Return the neighbours that moved each decision. */
  explain?: boolean
  /** Override the tuned k or sigma. */
  params?: InferenceParams
  /** Miscoverage of `set` for this request, in (0, 1) (default: the deployment's). */
  alpha?: number
  /**
   * Answer `label: null` (and `score: null`, with `abstained` saying why) when the text is unfamiliar or the
   * prediction set does not hold exactly one label: a caller reading only `label` cannot take it for a label.
   */
  abstain?: boolean
}

/** Sorted `{label, score}` list. ResMem sums can dip below 0: clip and renormalise (argmax is unchanged). */
export function labelScores(labels: readonly string[], probs: ArrayLike<number>): LabelScore[] {
  let sum = 0
  for (let i = 0; i < probs.length; i++) sum += Math.max(0, probs[i])
  return labels
    .map((label, i) => ({ label, score: sum > 0 ? Math.max(0, probs[i]) / sum : 1 / labels.length }))
    .sort((a, b) => b.score - a.score || (a.label < b.label ? -1 : 1))
}

/** What a classifier serves now (GET /v1/model `served`). */
export interface ServedState {
  /** 'off': val turned the built memory off (manifest memory.decision); learned rows still answer near them. */
  builtMemory: 'on' | 'off'
  k: number
  /** Cosine distance within which rows count; null: no radius (a build made before locality). */
  radius: number | null
  /** Learned rows served: live edits plus edits folded into the build, forgotten ones left out. */
  learnedRows: number
  /** Whether answers carry novelty and unfamiliar. */
  novelty: boolean
  /** Miscoverage of the sets; null: the build has no conformal scores. */
  alpha: number | null
  /** Every served label and where it comes from: the model's, then the memory's in the order added. */
  labels: ServedLabel[]
}

/** Why a caller who asked to abstain gets no label: an unfamiliar text, or a set of other than one label. */
function abstention(r: Classification): 'unfamiliar' | 'ambiguous' | 'empty' | undefined {
  if (r.unfamiliar) return 'unfamiliar'
  if (r.set && r.set.length !== 1) return r.set.length ? 'ambiguous' : 'empty'
  return undefined
}

/** text -> tokens -> model (logits, embedding) -> memory search -> ResMem combine -> result. */
export class ResMemClassifier {
  /** The model's labels (memory labels: `labelSet`). */
  readonly labels: readonly string[]
  /** Served labels: the model's, then labels added to the memory (src/memory/labels.ts). */
  readonly labelSet: LabelSet
  readonly params: ResMemParams
  /** The memory searched: the built memory, minus forgotten rows, plus the overlay of learned rows. */
  readonly memory: SegmentedMemory
  /** Rows learned since the build (int8 memories; undefined for a float32 one, which cannot learn). */
  readonly edits: EditOverlay | undefined
  /** Row ids of memory.bin (edits a build folded in keep their ids; manifest.json `edits`). */
  readonly fold: FoldMap
  private readonly search: MemorySearch
  /** The last id learn() or applyEdits() used. */
  private lastIssued = 0
  /** Rows searched for a learned row near the text: the tuned k, even when the build turned the built memory off. */
  private readonly learnedK: number
  /** Cosine distance within which a row counts (manifest `locality.radius`; none in older builds). */
  readonly radius: number
  /** Whether answers carry `novelty` (ClassifierOptions.novelty). */
  readonly novelty: boolean
  /** The deployment's miscoverage of prediction sets. */
  readonly alpha: number
  private readonly batchSize: number
  /** Set when options.microBatch is on. */
  readonly microBatcher: MicroBatcher | undefined

  private constructor(
    readonly bundle: Bundle,
    readonly tokenizer: TextTokenizer,
    readonly model: ModelRunner,
    options: ClassifierOptions,
  ) {
    this.labels = bundle.config.labels
    this.labelSet = new LabelSet(this.labels)
    this.labelSet.restore(bundle.manifest.memoryLabels ?? [])
    const { k, sigma, temperature } = bundle.manifest.resmem
    this.params = { k, sigma, temperature }
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 16))
    this.microBatcher = options.microBatch
      ? new MicroBatcher({ run: (batch) => model.run(batch), batchOf: (ids) => tokenizer.batchOf(ids), maxBatch: this.batchSize })
      : undefined
    const { memory } = bundle
    // Served from other segments (shards), the bundle may hold none of the rows: the manifest counts them.
    const builtRows = options.builtSegments ? bundle.manifest.memory.rows : memory.rows
    this.fold = new FoldMap(builtRows, bundle.manifest.edits)
    const { createIndex } = options
    const built = options.builtSegments ?? [
      builtSegment(memory, { index: bundle.index ?? (memory.keys.dtype === 'int8' && createIndex ? createIndex(memory.keys.data, memory.rows, memory.dim) : undefined) }),
    ]
    this.edits =
      memory.keys.dtype === 'int8'
        ? new EditOverlay({ dim: memory.dim, classes: this.labels.length, keyScale: memory.keys.scale, builtRows, createIndex })
        : undefined
    this.memory = new SegmentedMemory(this.edits ? [...built, this.edits] : built, memory.dim)
    this.search = new MemorySearch(this.memory)
    this.learnedK = Math.max(1, k, bundle.manifest.tuning.best.k)
    this.radius = bundle.manifest.locality?.radius ?? Infinity
    this.novelty = options.novelty ?? true
    this.alpha = options.alpha ?? bundle.manifest.conformal?.alpha ?? DEFAULT_ALPHA
  }

  static async create(bundle: Bundle, options: ClassifierOptions): Promise<ResMemClassifier> {
    const tokenizer = new TextTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig, bundle.manifest.model.maxLength)
    const model = await ModelRunner.create(options.ort, bundle.model, options.sessionOptions)
    // The session holds its own copy of the graph: the bytes are dead weight in a 128 MB isolate.
    const kept = options.releaseModelBytes ? { ...bundle, model: new Uint8Array(0) } : bundle
    return new ResMemClassifier(kept, tokenizer, model, options)
  }

  /** Logits and embeddings for many texts, in batches. */
  async embed(texts: readonly string[]): Promise<{ outputs: ModelOutputs[]; truncated: boolean[] }> {
    if (this.microBatcher) return this.embedMicroBatched(this.microBatcher, texts)
    const outputs: ModelOutputs[] = []
    const truncated: boolean[] = []
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = this.tokenizer.encodeBatch(texts.slice(i, i + this.batchSize))
      outputs.push(await this.model.run(batch))
      truncated.push(...batch.truncated)
    }
    return { outputs, truncated }
  }

  private async embedMicroBatched(batcher: MicroBatcher, texts: readonly string[]): Promise<{ outputs: ModelOutputs[]; truncated: boolean[] }> {
    const max = this.tokenizer.maxLength
    const encoded = texts.map((t) => this.tokenizer.ids(t))
    const outs = await Promise.all(encoded.map((ids) => batcher.embed(ids.length > max ? ids.slice(0, max) : ids)))
    return {
      outputs: outs.map((o) => ({ batch: 1, classes: o.logits.length, dim: o.embedding.length, logits: o.logits, embedding: o.embedding })),
      truncated: encoded.map((ids) => ids.length > max),
    }
  }

  decide(logits: Float32Array, embedding: Float32Array, params: InferenceParams = {}): Promise<ResMemDecision> {
    return this.search.decide(logits, embedding, this.served(params), this.localSearch(params), this.labelSet.width)
  }

  /**
   * What one search fetches and which rows count (src/resmem/locality.ts): the built memory's k (0 when the build
   * turned it off), learned rows within the radius whatever the build decided, one row for novelty; k = 0 asked
   * for gives the base model alone.
   */
  private localSearch(params: InferenceParams): LocalSearch {
    const builtK = params.k ?? this.params.k
    const noveltyK = this.novelty ? 1 : 0
    if (builtK === 0 && params.k === 0) return { searchK: noveltyK, builtK: 0, radius: this.radius, isLearned: () => false }
    const keptRows = this.fold.keptRows
    return {
      searchK: Math.max(builtK, this.hasLearned() ? this.learnedK : 0, noveltyK),
      builtK,
      radius: this.radius,
      // Folded edits are rows of memory.bin after the kept built rows: they answer as the edits they were.
      isLearned: (hit) => hit.source === 'edit' || hit.row! >= keptRows,
    }
  }

  /** What answers now: the built memory on or off, the radius, how many learned rows (live and folded) count. */
  servedState(): ServedState {
    return {
      builtMemory: this.params.k > 0 ? 'on' : 'off',
      k: this.params.k,
      radius: Number.isFinite(this.radius) ? this.radius : null,
      learnedRows: (this.edits?.size ?? 0) + this.foldedLearned(),
      novelty: this.novelty,
      alpha: this.bundle.manifest.conformal ? this.alpha : null,
      labels: this.labelSet.list(),
    }
  }

  /** Folded edits (memory.bin rows after the kept built rows) not forgotten since. */
  private foldedLearned(): number {
    let n = 0
    for (let row = this.fold.keptRows; row < this.fold.rows; row++) if (!this.memory.forgotten.has(row)) n++
    return n
  }

  /** Whether the memory holds rows learned since the training build (live edits or folded ones). */
  private hasLearned(): boolean {
    return (this.edits?.size ?? 0) > 0 || this.fold.rows > this.fold.keptRows
  }

  /** The tuned settings with a caller's k and sigma; T is always the memory's (an untyped caller's is dropped). */
  private served(params: InferenceParams = {}): ResMemParams {
    return { k: params.k ?? this.params.k, sigma: params.sigma ?? this.params.sigma, temperature: this.params.temperature }
  }

  classify(texts: readonly string[], options?: ClassifyOptions & { abstain?: false }): Promise<Classification[]>
  classify(texts: readonly string[], options?: ClassifyOptions): Promise<Answer[]>
  async classify(texts: readonly string[], options: ClassifyOptions = {}): Promise<Answer[]> {
    const { outputs, truncated } = await this.embed(texts)
    const results: Answer[] = []
    for (const out of outputs) {
      for (let b = 0; b < out.batch; b++) {
        const logits = out.logits.subarray(b * out.classes, (b + 1) * out.classes)
        const embedding = this.keyOf(out.embedding.subarray(b * out.dim, (b + 1) * out.dim))
        results.push(this.toResult(await this.decide(logits, embedding, options.params), truncated[results.length], options))
      }
    }
    return results
  }

  /**
   * Memory rows for labelled examples, encoded as `resmem build` encodes training examples: the served
   * model's embedding as the key (quantized with the memory's key scale) and its residual at the memory's T.
   * Throws MemoryEditError naming the first bad example; nothing is learned here.
   */
  async encode(examples: readonly Example[]): Promise<(EncodedRow & { truncated: boolean })[]> {
    const overlay = this.requireEdits()
    const labelIds = exampleLabelIds(examples, this.labelSet)
    const { outputs, truncated } = await this.embed(examples.map((e) => e.text))
    const rows: (EncodedRow & { truncated: boolean })[] = []
    for (const out of outputs) {
      for (let b = 0; b < out.batch; b++) {
        const logits = out.logits.subarray(b * out.classes, (b + 1) * out.classes)
        const embedding = this.keyOf(out.embedding.subarray(b * out.dim, (b + 1) * out.dim))
        const i = rows.length
        rows.push({ ...encodeRow(embedding, logits, labelIds[i], this.params.temperature, overlay.keyScale), truncated: truncated[i] })
      }
    }
    return rows
  }

  /**
   * Learns examples without retraining: they join the memory at once. Returns their ids ("17"), for forget().
   * In this process only; a worker keeps its edits in a Durable Object (POST /v1/memory).
   * @example
   * const [id] = await classifier.learn([{ text: 'Lunch at noon?', label: 'ham' }])
   * await classifier.forget([id])
   */
  async learn(examples: readonly Example[]): Promise<string[]> {
    const rows = await this.encode(examples)
    const overlay = this.requireEdits()
    const ids = overlay.rowIds()
    // Past every id ever issued here, not only the live ones: a forgotten id is never reused (a stale id would forget another example).
    let next = Math.max(ids.length ? ids[ids.length - 1] : 0, this.fold.version, this.fold.lastId, this.lastIssued) + 1
    const added = rows.map(({ truncated: _, ...r }) => ({ ...r, id: next++ }))
    overlay.add(added)
    this.lastIssued = next - 1
    return added.map((r) => formatRowId({ kind: 'edit', id: r.id }))
  }

  /**
   * Forgets learned examples ("17") and built rows ("base:12", a training example of the build). All or
   * nothing: an id that is not in the memory (or already forgotten) throws MemoryEditError('not_found').
   */
  async forget(ids: readonly string[]): Promise<void> {
    const overlay = this.requireEdits()
    const parsed = ids.map((value) => {
      const id = parseRowId(value)
      if (!id || !this.holds(id)) throw new MemoryEditError('not_found', `${JSON.stringify(value)} is not a row of this memory (an id from learn(), or base:{row} of a built row not yet forgotten)`)
      return id
    })
    for (const id of parsed) {
      const row = this.fold.rowOf(id)
      if (row !== undefined) this.memory.forgotten.add(row)
      else if (id.kind === 'edit') overlay.remove([id.id])
    }
  }

  /** Whether the memory serves this row now (a learned example not forgotten, a built row not hidden). */
  holds(id: MemoryRowId): boolean {
    const row = this.fold.rowOf(id)
    if (row !== undefined) return !this.memory.forgotten.has(row)
    return id.kind === 'edit' && (this.edits?.has(id.id) ?? false)
  }

  /**
   * Applies entries of an edit log (a worker's Durable Object), in version order after `after`; entries
   * the build already folded in are skipped. Returns the last version applied.
   */
  applyEdits(ops: readonly EditOp[], after = 0): number {
    const last = replayEdits({ overlay: this.requireEdits(), forgotten: this.memory.forgotten, fold: this.fold, labels: this.labelSet }, ops, after)
    this.lastIssued = Math.max(this.lastIssued, last)
    return last
  }

  /** Drops every learned row and unhides every built row: the memory as built (its labels as built too). */
  resetEdits(): void {
    this.edits?.clear()
    this.memory.forgotten.clear()
    this.labelSet.restore(this.bundle.manifest.memoryLabels ?? [])
  }

  /** Model labels, then memory labels in the order added. */
  servedLabels(): ServedLabel[] {
    return this.labelSet.list()
  }

  /**
   * Adds a label the model does not have: it lives in the memory, taught by learn() with it (base probability
   * 0, so only texts near its rows can get it). Throws LabelError (invalid name, exists, over `max`).
   * @example
   * classifier.addLabel('billing')
   * await classifier.learn([{ text: 'Where is my invoice?', label: 'billing' }])
   */
  addLabel(label: string, max = DEFAULT_MAX_MEMORY_LABELS): ServedLabel[] {
    this.requireEdits()
    this.labelSet.add(label, max)
    return this.servedLabels()
  }

  /** Removes a memory label and forgets every row of it (learned or folded); returns how many. */
  removeLabel(label: string): { label: string; forgotten: number } {
    const overlay = this.requireEdits()
    const id = this.labelSet.checkRemove(label)
    const ids = this.rowsOfLabel(id)
    for (const row of ids) {
      const place = this.fold.rowOf(row)
      if (place !== undefined) this.memory.forgotten.add(place)
      else if (row.kind === 'edit') overlay.remove([row.id])
    }
    this.labelSet.remove(label)
    return { label, forgotten: ids.length }
  }

  /** Live learned rows of a class id: in the overlay, and edits folded into memory.bin not forgotten. */
  private rowsOfLabel(id: number): MemoryRowId[] {
    const rows: MemoryRowId[] = (this.edits?.entries() ?? []).filter((r) => r.label === id).map((r) => ({ kind: 'edit', id: r.id }))
    const { memory } = this.bundle
    for (let row = this.fold.keptRows; row < this.fold.rows && row < memory.rows; row++) {
      if (memory.rowLabels[row] === id && !this.memory.forgotten.has(row)) rows.push(this.fold.idOf(row))
    }
    return rows
  }

  /** What the memory is keyed on: the embedding, or its projection (`resmem build --key-dim`). */
  private keyOf(embedding: Float32Array): Float32Array {
    const projection: KeyProjection | undefined = this.bundle.projection
    return projection ? projectKey(projection, embedding) : embedding
  }

  private requireEdits(): EditOverlay {
    if (!this.edits) throw new MemoryEditError('unsupported', 'this memory has float32 keys: only an int8 memory (what `resmem build` writes) can learn')
    return this.edits
  }

  private toResult(d: ResMemDecision, truncated: boolean, options: ClassifyOptions): Answer {
    // Calibrated on val (manifest `calibration`): neighbours' answers and the base's each have their temperature.
    const served = servedScores(d, this.bundle.manifest.calibration, this.labels.length)
    const scores = this.labelScores(served.scores)
    const baseScores = this.labelScores(served.base)
    const result: Classification = {
      label: scores[0].label,
      score: scores[0].score,
      scores,
      base: { label: baseScores[0].label, score: baseScores[0].score, scores: baseScores },
      truncated,
    }
    const { locality, conformal } = this.bundle.manifest
    if (this.novelty && d.novelty !== undefined) {
      result.novelty = d.novelty
      if (locality) result.unfamiliar = isUnfamiliar(d.novelty, locality.novelty.threshold)
    }
    if (conformal) result.set = predictionSet(scores, conformalQuantile(conformal.nonconformity, options.alpha ?? this.alpha))
    if (options.explain) result.neighbors = d.neighbors.map((hit, i) => this.neighbor(hit, d.weights[i]))
    const why = options.abstain ? abstention(result) : undefined
    return why ? { ...result, label: null, score: null, abstained: why } : result
  }

  /** Scores of the live served labels (a removed memory label's slot, always 0, is left out). */
  private labelScores(probs: ArrayLike<number>): LabelScore[] {
    const names: string[] = []
    const kept: number[] = []
    for (let c = 0; c < probs.length; c++) {
      const name = this.labelSet.nameOf(c)
      if (name === undefined) continue
      names.push(name)
      kept.push(probs[c])
    }
    return labelScores(names, kept)
  }

  private neighbor(hit: Hit, weight: number): Neighbor {
    // A built row is named as callers know it: a folded edit by its id, a base row by its row in the training build.
    const id: MemoryRowId = hit.source === 'edit' ? { kind: 'edit', id: hit.id! } : this.fold.idOf(hit.row!)
    const where = id.kind === 'edit' ? { source: 'edit' as const, id: formatRowId(id) } : { source: 'built' as const, row: id.row }
    return { ...where, label: this.labelSet.nameOf(hit.label) ?? String(hit.label), similarity: hit.similarity, weight }
  }
}
