// A namespace import, as zod 4 recommends: bundlers then drop what is unused (its 260 kB of locales).
import * as z from 'zod'

/**
 * manifest.json: what a ResMem build produced and how to use it. The worker serves it at GET /v1/model;
 * the loader checks it against the files it names.
 */
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 as 64 lowercase hex digits')

export const MANIFEST_FORMAT = 'resmem-manifest'
export const MANIFEST_VERSION = 1
/**
 * A bundle whose memory holds labels of its own (a fold of an edit log with memory labels): memory.bin spans
 * the model's labels and those, so a reader of version 1 must refuse it (it does: the version, and memory.bin's
 * labels against config.json's). `requires` names why, for readers after this one.
 */
export const MEMORY_LABELS_VERSION = 2
/** What a bundle may require of its reader; a reader refuses any it does not know, naming it. */
export const KNOWN_REQUIREMENTS = ['memory-labels'] as const

export const TuningPoint = z.object({
  k: z.number().int().nonnegative(),
  sigma: z.number().positive(),
  temperature: z.number().positive(),
  accuracy: z.number().min(0).max(1),
})
export type TuningPoint = z.infer<typeof TuningPoint>

/** Inclusive [first, last] runs of integers, ascending and disjoint: a compact list of rows or ids. */
const Ranges = z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]))

/**
 * A live edit log folded into this memory by `resmem build --edits` (src/memory/fold.ts has the layout):
 * memory.bin holds the built rows not forgotten, in order, then the learned rows by id. The worker skips
 * the log's entries up to `version`; ids stay what they were (`base:{row}` names a row of `base`, the memory
 * of the training file alone; a folded edit keeps its id).
 */
export const FoldedEdits = z.object({
  /** Last log version folded in. */
  version: z.number().int().nonnegative(),
  /** The edit log's epoch (a log created anew has another): the versions above are versions of that log. */
  log: z.string().min(1),
  /** The memory of the training file alone, whose rows `base:{row}` ids name. */
  base: z.object({ rows: z.number().int().nonnegative(), sha256: sha256Hex }),
  /** Built rows left out (forgotten), as [first, last] ranges. */
  forgotten: Ranges,
  /** Edit ids appended after the kept built rows, in this order, as [first, last] ranges. */
  ids: Ranges,
})
export type FoldedEdits = z.infer<typeof FoldedEdits>

/**
 * One file of a memory written in parts (src/memory/parts.ts): a complete memory.bin of its own holding the next
 * `rows` rows, in order. Each stays under the 25 MiB Workers Static Assets file limit.
 */
export const MemoryPart = z.object({
  // A file beside manifest.json: no folders, so no path can leave the bundle.
  file: z.string().regex(/^\w[\w.-]*$/, 'a file name beside manifest.json (letters, digits, . _ -)'),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().positive(),
  sha256: sha256Hex,
})
export type MemoryPart = z.infer<typeof MemoryPart>
/** The base model's weights: float32 as exported, or int8 (`resmem build --quantize-model`). */
export const ModelPrecision = z.enum(['fp32', 'int8'])
export type ModelPrecision = z.infer<typeof ModelPrecision>

/** Which model precision the build served and why (scripts/build/precision.ts). */
export const PrecisionRecord = z.object({
  model: ModelPrecision,
  /** What was asked: 'auto' picks int8 when its validation accuracy is at most maxDrop below float32's. */
  choice: z.enum(['auto', 'fp32', 'int8']),
  valAccuracy: z.object({ fp32: z.number().min(0).max(1), int8: z.number().min(0).max(1) }).optional(),
  maxDrop: z.number().nonnegative().optional(),
})

/**
 * Whether the built memory is served, and why (`resmem build` decides on val: scripts/build/select.ts).
 * When off, `resmem.k` is 0, so every runtime answers with the base model, moved only by rows learned since
 * the build (searched with the tuned k and sigma, which stay in `tuning`).
 */
export const MemoryDecision = z.object({
  on: z.boolean(),
  reason: z.string(),
  /** How: an exact one-sided McNemar test of the cross-fitted memory against the base on val. */
  test: z.string(),
  alpha: z.number().positive().max(1),
  folds: z.number().int().nonnegative(),
  gains: z.number().int().nonnegative(),
  losses: z.number().int().nonnegative(),
  pValue: z.number().min(0).max(1),
  inSample: z.object({ gains: z.number().int().nonnegative(), losses: z.number().int().nonnegative(), pValue: z.number().min(0).max(1) }).optional(),
  /** The rule not served, on the same cross-fitted evidence (scripts/build/select.ts expectedGainRule). */
  alternative: z.object({ rule: z.string(), on: z.boolean(), gain: z.number(), lower: z.number(), tolerance: z.number(), reason: z.string() }).optional(),
})
export type MemoryDecision = z.infer<typeof MemoryDecision>

/**
 * Score temperatures fitted on val (src/resmem/calibrate.ts): `memory` (with its `floor`) for answers that
 * used neighbours, `base` for the base model alone (k = 0). They change the reported scores, never the label.
 */
export const Calibration = z.object({
  split: z.string(),
  memory: z.number().positive(),
  base: z.number().positive(),
  floor: z.number().positive(),
})
export type Calibration = z.infer<typeof Calibration>

/** One serving setting `resmem build --cpu-budget-ms` measured (scripts/build/cpu-budget.ts). */
export const ServingCandidate = z.object({
  precision: ModelPrecision,
  maxLength: z.number().int().min(2),
  /** Tokens of the timed text that reached the model. */
  tokens: z.number().int().nonnegative(),
  cpuMsP50: z.number().nonnegative(),
  /** Recorded to show the spread under load (the p50 is what must fit); absent in builds before it was kept. */
  cpuMsP90: z.number().nonnegative().optional(),
  cpuMsP99: z.number().nonnegative(),
  valAccuracy: z.number().min(0).max(1),
})
export type ServingCandidate = z.infer<typeof ServingCandidate>

/** The CPU budget a build was fitted to: every candidate's measured cost and val accuracy, and the one served. */
export const CpuBudget = z.object({
  budgetMs: z.number().positive(),
  method: z.string(),
  /** Neighbours searched while timing (the served k, else the tuned k). */
  k: z.number().int().nonnegative(),
  split: z.string(),
  examples: z.number().int().nonnegative(),
  candidates: z.array(ServingCandidate).min(1),
  chosen: ServingCandidate.pick({ precision: true, maxLength: true }),
  /** False when no candidate fitted: the cheapest is served. */
  met: z.boolean(),
})
export type CpuBudget = z.infer<typeof CpuBudget>

/**
 * Locality and novelty, fitted on val against the training rows (src/resmem/locality.ts, novelty.ts,
 * scripts/build/locality.ts). Absent in builds made before it: no radius (every row of the k nearest counts)
 * and no `unfamiliar` in answers.
 */
export const Locality = z.object({
  split: z.string(),
  /** Unit of both numbers: cosine distance 1 - similarity of the quantized keys. */
  distance: z.literal('cosine'),
  /** A row counts for a text only within this distance. */
  radius: z.number().nonnegative(),
  /** How the radius was chosen. */
  rule: z.string(),
  /** `unfamiliar` beyond `threshold`, under which the share `familiar` of val texts' novelties lie. */
  novelty: z.object({ threshold: z.number().nonnegative(), familiar: z.number().gt(0).max(1) }),
})
export type Locality = z.infer<typeof Locality>

/**
 * Split conformal prediction sets (src/resmem/conformal.ts): the LAC nonconformities 1 - score_y of val texts
 * at their true label, with the served scores, ascending. Absent in builds made before it: no `set` in answers.
 */
export const Conformal = z.object({
  split: z.string(),
  score: z.literal('lac'),
  /** The deployment's default miscoverage (a request may ask another). */
  alpha: z.number().gt(0).lt(1),
  nonconformity: z.array(z.number()).min(1),
})
export type Conformal = z.infer<typeof Conformal>

export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.union([z.literal(MANIFEST_VERSION), z.literal(MEMORY_LABELS_VERSION)]),
  /** Features a reader must know to serve this bundle right (["memory-labels"] with `memoryLabels`). */
  requires: z
    .array(z.string())
    .refine((r: string[]) => r.every((f) => (KNOWN_REQUIREMENTS as readonly string[]).includes(f)), `this bundle needs a reader that knows more than ${KNOWN_REQUIREMENTS.join(', ')}: upgrade resmem-edge`)
    .optional(),
  name: z.string().min(1),
  /** The model's labels (config.json's). */
  labels: z.array(z.string().min(1)).min(2),
  /**
   * Labels that live in the memory (src/memory/labels.ts), folded in by `resmem build --edits`: class ids
   * labels.length + i, memory.bin's residuals span both lists.
   */
  memoryLabels: z.array(z.string().min(1)).min(1).optional(),
  resmem: z.object({
    k: z.number().int().nonnegative().max(256),
    sigma: z.number().positive(),
    temperature: z.number().positive(),
    key: z.string().min(1),
  }),
  model: z.object({
    file: z.string().min(1),
    sha256: sha256Hex,
    bytes: z.number().int().positive(),
    maxLength: z.number().int().min(2),
    inputs: z.array(z.string()),
    embedding: z.object({ output: z.string(), source: z.string(), dim: z.number().int().positive() }),
  }),
  memory: z.object({
    /** The memory as one file; with `parts`, the name of that whole, which the parts replace on disk. */
    file: z.string().min(1),
    /** SHA-256 of the memory as one file: its identity (edit logs, caches), whichever files hold it. */
    sha256: sha256Hex,
    bytes: z.number().int().positive(),
    formatVersion: z.number().int().positive(),
    rows: z.number().int().nonnegative(),
    dim: z.number().int().positive(),
    quantization: z.object({
      keys: z.string(),
      residuals: z.string(),
      keyScale: z.number().positive(),
      /** Worst-case move of one combined probability due to int8 residuals (quantize.ts). */
      residualErrorBound: z.number().nonnegative(),
    }),
    /** The files holding the memory, in row order; absent: `file` alone (bundles built before parts). */
    parts: z.array(MemoryPart).min(1).optional(),
    /**
     * Keys of `dim` < the embedding's dimensions: the PCA projection `resmem build --key-dim` fitted on the
     * training keys (src/memory/projection.ts), applied to every embedding before it is a key.
     */
    projection: z
      .object({
        file: MemoryPart.shape.file,
        sha256: sha256Hex,
        from: z.number().int().positive(),
        to: z.number().int().positive(),
        method: z.string(),
      })
      .optional(),
    /** Served or not, and why; absent in builds made before the decision existed (served). */
    decision: MemoryDecision.optional(),
  }),
  calibration: Calibration.optional(),
  locality: Locality.optional(),
  conformal: Conformal.optional(),
  tuning: z.object({
    split: z.string(),
    examples: z.number().int().nonnegative(),
    grid: z.array(TuningPoint),
    best: TuningPoint,
    baseAccuracy: z.number().min(0).max(1),
    /** `--key auto`: each candidate key's best tuned val accuracy. */
    keys: z.array(z.object({ key: z.string(), accuracy: z.number().min(0).max(1) })).optional(),
  }),
  metrics: z.record(z.string(), z.number()),
  data: z.object({ train: z.object({ file: z.string(), sha256: sha256Hex, rows: z.number().int() }) }),
  edits: FoldedEdits.optional(),
  precision: PrecisionRecord.optional(),
  /** `resmem build --cpu-budget-ms`: model.maxLength was chosen by it (absent: the trained max length). */
  cpuBudget: CpuBudget.optional(),
  versions: z.record(z.string(), z.string()),
})
export type Manifest = z.infer<typeof Manifest>

export class ManifestError extends Error {
  constructor(message: string) {
    super(`manifest.json: ${message}`)
    this.name = 'ManifestError'
  }
}

/** Parses manifest.json bytes or an already parsed value; throws ManifestError naming the first bad field. */
export function parseManifest(input: Uint8Array | string | unknown): Manifest {
  let value: unknown = input
  if (input instanceof Uint8Array || typeof input === 'string') {
    try {
      value = JSON.parse(typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input))
    } catch (err) {
      throw new ManifestError(`not valid JSON (${(err as Error).message})`)
    }
  }
  const parsed = Manifest.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue.path.length ? issue.path.join('.') : '(root)'
    throw new ManifestError(`field "${path}": ${issue.message}`)
  }
  const m = parsed.data
  const labelled = m.memoryLabels !== undefined
  if (labelled !== (m.version === MEMORY_LABELS_VERSION) || labelled !== (m.requires?.includes('memory-labels') ?? false)) {
    throw new ManifestError(`field "version": a bundle with memoryLabels has version ${MEMORY_LABELS_VERSION} and requires ["memory-labels"], one without has version ${MANIFEST_VERSION} and no such requirement`)
  }
  return m
}
