import { readFile } from 'node:fs/promises'
import { sha256Hex } from '../../src/memory/checksum.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { MEMORY_VERSION, type Dtype } from '../../src/memory/format.ts'
import { writeMemoryParts } from '../../src/memory/parts.ts'
import { PROJECTION_FILE, writeProjection } from '../../src/memory/projection.ts'
import { fitKeyProjection, projectSplit } from './key-dim.ts'
import { MANIFEST_FORMAT, MANIFEST_VERSION, MEMORY_LABELS_VERSION, parseManifest, type Manifest } from '../../src/memory/manifest.ts'
import { ModelRunner } from '../../src/model/runner.ts'
import { nodeIndexFactory, nodeOrt, sourceFor, type KernelChoice } from '../../src/node/index.ts'
import type { HubOptions } from '../../src/bundle/source.ts'
import { TextTokenizer } from '../../src/tokenize/index.ts'
import { CliError } from '../cli/errors.ts'
import { installedPackage, ownPackage } from '../cli/package.ts'
import { readLabelledJsonl, type LabelledExample } from '../data/index.ts'
import { addKeyOutput, inspectModel, type KeySpec } from '../export/index.ts'
import { embedSplit, labelIds, type EmbeddedSplit } from './embed.ts'
import { foldInto, readEditsFile } from './edits.ts'
import { MODEL_FILE, readModelFolder, type ModelFolder } from './model-folder.ts'
import { writeBundleAtomically } from './output.ts'
import { choosePrecision, type PrecisionChoice } from './precision.ts'
import { DEFAULT_GRID, baseAccuracy, tuneResMem, type Grid, type ScoredPoint } from './tune.ts'
import { baseCorrectness, decideMemory, type MemoryDecision } from './select.ts'
import { chooseKey } from './key-choice.ts'
import { fitCalibration } from './calibrate.ts'
import { fitCpuBudget } from './cpu-budget.ts'
import { fitLocality } from './locality.ts'

export const VERSIONS: Record<string, string> = {
  'resmem-edge': ownPackage().version,
  // A peer dependency: when missing, the build stops at the session with a message naming it.
  'onnxruntime-node': installedPackage('onnxruntime-node')?.version ?? 'not installed',
  'memory-format': String(MEMORY_VERSION),
}

export interface BuildOptions {
  /** Model folder, URL or hf:owner/name. */
  model: string
  train: string
  val: string
  out: string
  name?: string
  grid?: Grid
  batchSize?: number
  kernel?: KernelChoice
  hub?: HubOptions
  /** What the memory is keyed on (default 'auto': chosen on val, scripts/build/key-choice.ts); see scripts/export/key-spec.ts. */
  key?: KeySpec | 'auto'
  /** 'auto' (default): serve the memory only when val says it helps (scripts/build/select.ts); 'on'/'off' force it. */
  memory?: 'auto' | 'on' | 'off'
  /** An edit log (`resmem memory pull`) to fold into the memory (scripts/build/edits.ts). */
  edits?: string
  /** Largest memory file; a bigger memory is written in parts (src/memory/parts.ts). Default 24 MiB. */
  maxPartBytes?: number
  /** Key dimensions, fewer than the embedding's: a PCA fitted on the training keys (scripts/build/key-dim.ts). */
  keyDim?: number
  /** Base model precision: 'auto' (default: int8 when val accuracy drops by at most 0.2 points), 'fp32', 'int8'. */
  quantizeModel?: PrecisionChoice
  /** Serve the max length that keeps a classification's CPU p50 within this many ms (scripts/build/cpu-budget.ts). */
  cpuBudgetMs?: number
}

/** A model made ResMem-ready and run once: what build and eval both start from. */
export interface PreparedModel {
  folder: ModelFolder
  /** The ONNX bytes with the `embedding` output. */
  model: Uint8Array
  fingerprint: string
  embedding: { name: string; source: string; dim: number }
  /** The key as the manifest records it, e.g. 'penultimate:<tensor>' or 'mean(<tensor>)'. */
  key: string
  tokenizer: TextTokenizer
  runner: ModelRunner
  /** Where the bundle holds the model: onnx/model.onnx, or onnx/model_quantized.onnx for int8 (precision.ts). */
  file: string
}

export async function prepareModel(location: string, hub?: HubOptions, key: KeySpec = 'penultimate'): Promise<PreparedModel> {
  const folder = await readModelFolder(location, sourceFor(location, hub))
  let edited: ReturnType<typeof addKeyOutput>
  try {
    edited = addKeyOutput(folder.model, key)
  } catch (err) {
    throw new CliError(`${location}/${MODEL_FILE}: ${(err as Error).message}`)
  }
  const runner = await ModelRunner.create(nodeOrt, edited.bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 })
  return {
    folder,
    model: edited.bytes,
    fingerprint: await sha256Hex(edited.bytes),
    embedding: edited.embedding,
    key: edited.key,
    tokenizer: new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig, folder.config.maxLength),
    runner,
    file: MODEL_FILE,
  }
}

export async function embedFile(prepared: PreparedModel, name: string, file: string, batchSize?: number): Promise<{ examples: LabelledExample[]; split: EmbeddedSplit }> {
  const examples = await readLabelledJsonl(file)
  if (examples.length === 0) throw new CliError(`${file}: no examples`)
  const ids = labelIds(examples, prepared.folder.config.labels, file)
  const split = await embedSplit(name, examples, ids, prepared.tokenizer, prepared.runner, batchSize)
  if (split.dim !== prepared.embedding.dim) throw new CliError(`${prepared.folder.location}/${MODEL_FILE}: embedding output has ${split.dim} dimensions, the graph declares ${prepared.embedding.dim}`)
  return { examples, split }
}

/** The decision of scripts/build/select.ts, or the one `--memory on|off` forces (its test figures kept). */
function memoryDecision(mode: 'auto' | 'on' | 'off', grid: ScoredPoint[], best: ScoredPoint, base: Uint8Array): MemoryDecision {
  const decided = decideMemory(grid, best, base)
  if (mode === 'auto') return decided
  return { ...decided, on: mode === 'on', reason: `forced ${mode} by --memory ${mode} (val: ${decided.reason})` }
}

export interface BuildResult {
  manifest: Manifest
  grid: ScoredPoint[]
  seconds: number
}

/** model folder + labelled train/val -> ResMem-ready ONNX, int8 memory.bin, manifest.json (written atomically). */
export async function buildResMem(o: BuildOptions): Promise<BuildResult> {
  const started = performance.now()
  const grid0 = o.grid ?? DEFAULT_GRID
  const createIndex = nodeIndexFactory(o.kernel)
  // The key is chosen on the float32 model; the precision then on that key's graph (scripts/build/precision.ts).
  const auto = o.key === undefined || o.key === 'auto' ? await chooseKey({ model: o.model, hub: o.hub, train: o.train, val: o.val, batchSize: o.batchSize, grid: grid0, createIndex }) : undefined
  const spec = auto ? auto.spec : (o.key as KeySpec)
  const reuse = auto?.embedded
  const fp32 = reuse?.prepared ?? (await prepareModel(o.model, o.hub, spec))
  const { prepared, precision } = await choosePrecision(fp32, o.quantizeModel ?? 'auto', async (p) =>
    baseAccuracy((p === fp32 && reuse ? reuse.val : await embedFile(p, 'val', o.val, o.batchSize)).split),
  )
  // The key choice's embedded splits serve only when the model they came from is the one served.
  const same = prepared === fp32 ? reuse : undefined
  const labels = prepared.folder.config.labels
  if (o.keyDim !== undefined && !(Number.isInteger(o.keyDim) && o.keyDim >= 1 && o.keyDim <= prepared.embedding.dim)) {
    throw new CliError(`--key-dim: expected an integer in 1..${prepared.embedding.dim} (the embedding's dimensions), got ${o.keyDim}`)
  }
  const keyDim = o.keyDim ?? prepared.embedding.dim
  const edits = o.edits ? await readEditsFile(o.edits, { fingerprint: prepared.fingerprint, labels, dim: keyDim }) : undefined
  const embeddedTrain = same?.train ?? (await embedFile(prepared, 'train', o.train, o.batchSize))
  const embeddedVal = same?.val ?? (await embedFile(prepared, 'val', o.val, o.batchSize))
  const projection = keyDim < prepared.embedding.dim ? fitKeyProjection(embeddedTrain.split, keyDim) : undefined
  const train = projection ? { ...embeddedTrain, split: projectSplit(projection, embeddedTrain.split) } : embeddedTrain
  const val = projection ? { ...embeddedVal, split: projectSplit(projection, embeddedVal.split) } : embeddedVal
  const projectionBytes = projection ? writeProjection(projection) : undefined
  const dtype: Dtype = 'int8'
  const { grid, best, int8Accuracy } = await tuneResMem({
    train: train.split,
    heldOut: val.split,
    labels,
    grid: grid0,
    modelFingerprint: prepared.fingerprint,
    createIndex,
  })
  const decision = memoryDecision(o.memory ?? 'auto', grid, best, baseCorrectness(val.split))
  let memory = buildMemory(train.split, { labels, temperature: best.temperature, modelFingerprint: prepared.fingerprint, dtype })
  // Score temperatures on val, with the memory as built from train (before any folded edits).
  const calibration = await fitCalibration(memory, val.split, best, createIndex)
  // Radius, novelty threshold and conformal scores on val, with the answers served (built memory on or off).
  const { locality, conformal } = await fitLocality(memory, val.split, labels, { k: decision.on ? best.k : 0, sigma: best.sigma, temperature: best.temperature }, calibration, createIndex)
  // Tuned on the training rows alone, as without edits: the folded memory answers as the served one did.
  const folded = edits ? await foldInto(edits, memory) : undefined
  if (folded) memory = folded.memory
  const written = await writeMemoryParts(memory, o.maxPartBytes)
  const res = memory.residuals
  const residualErrorBound = res.dtype === 'int8' ? res.scales.reduce((m, s) => Math.max(m, s / 2), 0) : 0
  const info = inspectModel(prepared.model)
  const trainBytes = new Uint8Array(await readFile(o.train))
  const manifest = parseManifest({
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    name: o.name ?? prepared.folder.location.split('/').filter(Boolean).pop() ?? 'model',
    labels,
    // Off: k = 0 makes every runtime answer with the base model (the tuned point stays in `tuning`).
    resmem: { k: decision.on ? best.k : 0, sigma: best.sigma, temperature: best.temperature, key: prepared.key },
    model: {
      file: prepared.file,
      sha256: prepared.fingerprint,
      bytes: prepared.model.length,
      maxLength: prepared.tokenizer.maxLength,
      inputs: info.inputs.map((i: { name: string }) => i.name),
      embedding: { output: prepared.embedding.name, source: prepared.embedding.source, dim: prepared.embedding.dim },
    },
    memory: {
      file: written.manifest.file,
      sha256: written.manifest.sha256,
      bytes: written.manifest.bytes,
      formatVersion: MEMORY_VERSION,
      rows: memory.rows,
      dim: memory.dim,
      quantization: {
        keys: 'int8, one global symmetric scale, L2-normalised rows',
        residuals: 'int8, symmetric scale per row',
        keyScale: memory.keys.dtype === 'int8' ? memory.keys.scale : 1,
        residualErrorBound,
      },
      ...(written.manifest.parts ? { parts: written.manifest.parts } : {}),
      ...(projection ? { projection: { file: PROJECTION_FILE, sha256: await sha256Hex(projectionBytes!), from: projection.from, to: projection.to, method: 'pca, fitted on the training keys (L2-normalised, centred)' } } : {}),
      decision,
    },
    calibration,
    locality,
    conformal,
    tuning: { split: 'val', examples: val.split.rows, grid: grid.map(({ k, sigma, temperature, accuracy }) => ({ k, sigma, temperature, accuracy })), best: { k: best.k, sigma: best.sigma, temperature: best.temperature, accuracy: best.accuracy }, baseAccuracy: baseAccuracy(val.split), ...(auto ? { keys: auto.candidates.map((c) => ({ key: c.key, accuracy: c.accuracy })) } : {}) },
    metrics: { valBaseAccuracy: baseAccuracy(val.split), valResmemFp32Accuracy: best.accuracy, valResmemInt8Accuracy: int8Accuracy, trainRows: train.split.rows, trainTruncated: train.split.truncated },
    data: { train: { file: o.train.split('/').pop()!, sha256: await sha256Hex(trainBytes), rows: train.examples.length } },
    ...(folded ? { edits: folded.edits } : {}),
    // Labels the log added to the memory: memory.bin spans them too, so readers before them must refuse it.
    ...(folded?.memoryLabels ? { memoryLabels: folded.memoryLabels, version: MEMORY_LABELS_VERSION, requires: ['memory-labels'] } : {}),
    precision,
    versions: VERSIONS,
  })
  const files: Record<string, Uint8Array> = {
    ...prepared.folder.files,
    [prepared.file]: prepared.model,
    ...written.files,
    ...(projectionBytes ? { [PROJECTION_FILE]: projectionBytes } : {}),
  }
  // --cpu-budget-ms: the served max length measured on the bundle as written (scripts/build/cpu-budget.ts).
  const served = o.cpuBudgetMs === undefined ? manifest : await fitCpuBudget(files, manifest, o.cpuBudgetMs, val.examples)
  await writeBundleAtomically(o.out, { ...files, 'manifest.json': JSON.stringify(served, null, 2) + '\n' })
  return { manifest: served, grid, seconds: (performance.now() - started) / 1000 }
}
