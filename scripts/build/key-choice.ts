/**
 * `--key auto`: which key preset a memory is built on, chosen on val. The candidates are each preset alone
 * and all of them side by side. The model runs once, keyed on all of them (each part L2-normalised in the
 * graph); a candidate's keys are that output's slices, so choosing costs one pass over train and val, not
 * one per candidate. The candidate with the best tuned val accuracy wins (ties: the higher mean true-class
 * probability, then the earlier candidate, simplest first).
 */
import type { HubOptions } from '../../src/bundle/source.ts'
import type { KnnIndex } from '../../src/knn/index.ts'
import { addKeyOutput, KEY_PRESETS, type KeyPreset, type KeySpec } from '../export/index.ts'
import type { EmbeddedSplit } from './embed.ts'
import { MODEL_FILE, readModelFolder } from './model-folder.ts'
import { sourceFor } from '../../src/node/index.ts'
import { embedFile, prepareModel, type PreparedModel } from './pipeline.ts'
import { tuneResMem, type Grid, type ScoredPoint } from './tune.ts'
import { CliError } from '../cli/errors.ts'

export interface KeyCandidate {
  /** The spec as `--key` takes it. */
  key: string
  /** Best tuned ResMem val accuracy (float32 memory), and the base's for reference. */
  accuracy: number
  meanTrueProb: number
  best: Pick<ScoredPoint, 'k' | 'sigma' | 'temperature'>
}

export interface KeyChoice {
  spec: KeySpec
  key: string
  candidates: KeyCandidate[]
  /** Presets this model has no tensor for (the reason each failed). */
  skipped: { key: string; reason: string }[]
  /**
   * The prepared model and embedded splits when the all-presets key won, for the caller to reuse; another key is
   * a model of its own (its own fingerprint) and is run again.
   */
  embedded?: { prepared: PreparedModel; train: Awaited<ReturnType<typeof embedFile>>; val: Awaited<ReturnType<typeof embedFile>> }
}

/** Columns [offset, offset + dim) of every row. */
function sliceColumns(split: EmbeddedSplit, offset: number, dim: number): EmbeddedSplit {
  const embeddings = new Float32Array(split.rows * dim)
  for (let i = 0; i < split.rows; i++) embeddings.set(split.embeddings.subarray(i * split.dim + offset, i * split.dim + offset + dim), i * dim)
  return { ...split, dim, embeddings }
}

export async function chooseKey(o: {
  model: string
  hub?: HubOptions
  train: string
  val: string
  batchSize?: number
  grid: Grid
  createIndex?: (keys: Int8Array, rows: number, dim: number) => KnnIndex
}): Promise<KeyChoice> {
  // Which presets this graph has, and how wide each is: a graph edit, no model run.
  const folder = await readModelFolder(o.model, sourceFor(o.model, o.hub))
  const parts: { preset: KeyPreset; dim: number }[] = []
  const skipped: { key: string; reason: string }[] = []
  for (const preset of KEY_PRESETS) {
    try {
      parts.push({ preset, dim: addKeyOutput(folder.model, preset).embedding.dim })
    } catch (err) {
      skipped.push({ key: preset, reason: (err as Error).message })
    }
  }
  if (parts.length === 0) throw new CliError(`${o.model}/${MODEL_FILE}: --key auto found no key preset in this graph (${skipped.map((s) => `${s.key}: ${s.reason}`).join('; ')}); name a tensor with --key`)
  const allSpec: KeySpec = parts.length === 1 ? parts[0].preset : parts.map((p) => p.preset)
  const prepared = await prepareModel(o.model, o.hub, allSpec)
  const train = await embedFile(prepared, 'train', o.train, o.batchSize)
  const val = await embedFile(prepared, 'val', o.val, o.batchSize)
  const candidates: KeyCandidate[] = []
  const specs: KeySpec[] = []
  let offset = 0
  for (const part of parts) {
    const at = offset
    offset += part.dim
    if (parts.length === 1) break
    const tuning = await tuneResMem({
      train: sliceColumns(train.split, at, part.dim),
      heldOut: sliceColumns(val.split, at, part.dim),
      labels: prepared.folder.config.labels,
      grid: o.grid,
      modelFingerprint: prepared.fingerprint,
      createIndex: o.createIndex,
    })
    specs.push(part.preset)
    candidates.push({ key: part.preset, accuracy: tuning.best.accuracy, meanTrueProb: tuning.best.meanTrueProb, best: pick(tuning.best) })
  }
  const whole = await tuneResMem({ train: train.split, heldOut: val.split, labels: prepared.folder.config.labels, grid: o.grid, modelFingerprint: prepared.fingerprint, createIndex: o.createIndex })
  specs.push(allSpec)
  candidates.push({ key: parts.map((p) => p.preset).join('+'), accuracy: whole.best.accuracy, meanTrueProb: whole.best.meanTrueProb, best: pick(whole.best) })
  let chosen = 0
  candidates.forEach((c, i) => {
    const b = candidates[chosen]
    if (c.accuracy > b.accuracy || (c.accuracy === b.accuracy && c.meanTrueProb > b.meanTrueProb + 1e-9)) chosen = i
  })
  return { spec: specs[chosen], key: candidates[chosen].key, candidates, skipped, ...(chosen === candidates.length - 1 ? { embedded: { prepared, train, val } } : {}) }
}

const pick = ({ k, sigma, temperature }: ScoredPoint) => ({ k, sigma, temperature })
