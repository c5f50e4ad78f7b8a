import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadBundle } from '../../src/bundle/load.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { memoryByteLength, type Dtype, type ResidualMemory } from '../../src/memory/format.ts'
import { MemorySearch } from '../../src/resmem/search.ts'
import { argmax } from '../../src/resmem/combine.ts'
import { dirSource } from '../../src/node/source.ts'
import { nodeIndexFactory } from '../../src/node/index.ts'
import { CliError } from '../cli/errors.ts'
import { embedFile, prepareModel, type PreparedModel } from '../build/pipeline.ts'
import { QUANTIZED_MODEL_FILE, quantizePrepared } from '../build/precision.ts'
import { parseKeySpec, type KeySpec } from '../export/index.ts'
import type { EmbeddedSplit } from '../build/embed.ts'
import { fitKeyProjection, projectSplit } from '../build/key-dim.ts'
import { DEFAULT_GRID, baseAccuracy, tuneResMem, type ScoredPoint } from '../build/tune.ts'
import { findNeighbors, interpPredict, knnPredict, tuneKnn, tuneLambda } from './knn.ts'
import { accuracy, macroF1 } from './metrics.ts'
import { naiveBayesBytes, predictNaiveBayes, trainNaiveBayes } from './naive-bayes.ts'

export interface EvalRow {
  method: string
  accuracy: number
  macro_f1: number
  memory_bytes: number
  build_seconds: number
  /** Settings chosen on the validation split. */
  params: Record<string, number>
}

export interface EvalResult {
  dataset: string
  rows: EvalRow[]
  examples: { train: number; val: number; test: number }
  /** ResMem int8 validation grid, for the report's plot. */
  grid: ScoredPoint[]
  /** The memory key, as the manifest records it. */
  key: string
  /** The base model's accuracy on val, the line the grid is to beat. */
  baseValAccuracy: number
  labels: string[]
}

export interface EvalInputs {
  dataset: string
  model: string
  train: string
  val: string
  test: string
  /** Memory key (default: the penultimate embedding). */
  key?: KeySpec
  /** Also score int8 memories with keys PCA-projected to these dimensions (`resmem build --key-dim`), each tuned on val. */
  keyDims?: number[]
}

const seconds = (t0: number) => (performance.now() - t0) / 1000
const round2 = (x: number) => Math.round(x * 100) / 100

async function resmemPredict(memory: ResidualMemory, split: EmbeddedSplit, params: { k: number; sigma: number; temperature: number }): Promise<Uint32Array> {
  const index = memory.keys.dtype === 'int8' ? nodeIndexFactory()(memory.keys.data, memory.rows, memory.dim) : undefined
  const search = MemorySearch.of(memory, index)
  const c = split.classes
  const out = new Uint32Array(split.rows)
  for (let i = 0; i < split.rows; i++) {
    out[i] = (await search.decide(split.logits.subarray(i * c, (i + 1) * c), split.embeddings.subarray(i * split.dim, (i + 1) * split.dim), params)).label
  }
  return out
}

/** One run, one table: every method scored on the same test split, every setting chosen on val. */
export async function evaluate(inputs: EvalInputs): Promise<EvalResult> {
  const t0 = performance.now()
  const prepared: PreparedModel = await prepareModel(inputs.model, undefined, inputs.key)
  const labels = prepared.folder.config.labels
  const classes = labels.length
  const train = await embedFile(prepared, 'train', inputs.train)
  // Making the graph ResMem-ready and embedding the training set is part of every memory method's build.
  const embedTrainSeconds = seconds(t0)
  const val = await embedFile(prepared, 'val', inputs.val)
  let t = performance.now()
  const test = await embedFile(prepared, 'test', inputs.test)
  const msPerText = (performance.now() - t) / test.split.rows
  const truth = test.split.labels
  const rows: EvalRow[] = []
  const add = (method: string, predicted: ArrayLike<number>, memoryBytes: number, buildSeconds: number, params: Record<string, number> = {}) =>
    rows.push({ method, accuracy: accuracy(predicted, truth), macro_f1: macroF1(predicted, truth, classes), memory_bytes: memoryBytes, build_seconds: buildSeconds, params })

  // base: the model alone.
  const basePredict = (split: EmbeddedSplit) => Uint32Array.from({ length: split.rows }, (_, i) => argmax(split.logits.subarray(i * classes, (i + 1) * classes)))
  add('base', basePredict(test.split), 0, 0, { model_bytes: prepared.model.length, ms_per_text: round2(msPerText) })

  // knn and knn-interp on float32 keys.
  t = performance.now()
  const kMax = Math.max(...DEFAULT_GRID.k)
  const valNb = findNeighbors(train.split, val.split, kMax)
  const knn = tuneKnn(train.split, val.split, valNb, DEFAULT_GRID.k, DEFAULT_GRID.sigma)
  const lambda = tuneLambda(train.split, val.split, valNb, knn)
  const knnSeconds = embedTrainSeconds + seconds(t)
  const testNb = findNeighbors(train.split, test.split, kMax)
  const keyBytes = train.split.rows * (train.split.dim * 4 + 4)
  add('knn', knnPredict(train.split, testNb, test.split.rows, knn), keyBytes, knnSeconds, { k: knn.k, sigma: knn.sigma })
  add('knn-interp', interpPredict(train.split, test.split, testNb, knn, lambda.lambda), keyBytes, knnSeconds, { k: knn.k, sigma: knn.sigma, lambda: lambda.lambda })

  // ResMem with float32 and int8 memories at the settings the build would choose (tuned on val, float32).
  t = performance.now()
  const tuning = await tuneResMem({ train: train.split, heldOut: val.split, labels, grid: DEFAULT_GRID, modelFingerprint: prepared.fingerprint, createIndex: nodeIndexFactory() })
  const best = tuning.best
  const tuneSeconds = embedTrainSeconds + seconds(t)
  for (const dtype of ['float32', 'int8'] as Dtype[]) {
    const memory = buildMemory(train.split, { labels, temperature: best.temperature, modelFingerprint: prepared.fingerprint, dtype })
    add(`resmem-${dtype === 'float32' ? 'fp32' : 'int8'}`, await resmemPredict(memory, test.split, best), memoryByteLength(memory.rows, memory.dim, labels, dtype, dtype), tuneSeconds, {
      k: best.k,
      sigma: best.sigma,
      temperature: best.temperature,
    })
  }
  const grid = tuning.grid

  // Smaller keys: the projection fitted on train, everything after it (tuning on val included) on projected keys.
  for (const keyDim of inputs.keyDims ?? []) {
    if (keyDim >= train.split.dim) continue
    t = performance.now()
    const projection = fitKeyProjection(train.split, keyDim)
    const [ptrain, pval, ptest] = [train.split, val.split, test.split].map((s) => projectSplit(projection, s))
    const tuned = await tuneResMem({ train: ptrain, heldOut: pval, labels, grid: DEFAULT_GRID, modelFingerprint: prepared.fingerprint, createIndex: nodeIndexFactory() })
    const memory = buildMemory(ptrain, { labels, temperature: tuned.best.temperature, modelFingerprint: prepared.fingerprint, dtype: 'int8' })
    const bytes = memoryByteLength(memory.rows, memory.dim, labels, 'int8', 'int8') + 4 * (projection.from + projection.to * projection.from)
    add(`resmem-int8-d${keyDim}`, await resmemPredict(memory, ptest, tuned.best), bytes, embedTrainSeconds + seconds(t), { k: tuned.best.k, sigma: tuned.best.sigma, temperature: tuned.best.temperature, keyDim })
  }
  // The int8 base model (resmem build --quantize-model int8): alone, and with an int8 memory built from its own
  // embeddings and residuals, settings tuned on val as the build does. ms_per_text: the test split through
  // onnxruntime-node (2 threads), tokenizer included.
  t = performance.now()
  const int8Model = await quantizePrepared(prepared)
  const int8Train = await embedFile(int8Model, 'train (int8 model)', inputs.train)
  const int8Val = await embedFile(int8Model, 'val (int8 model)', inputs.val)
  const int8Embed = performance.now()
  const int8Test = await embedFile(int8Model, 'test (int8 model)', inputs.test)
  const int8MsPerText = (performance.now() - int8Embed) / int8Test.split.rows
  const model = { model_bytes: int8Model.model.length, ms_per_text: round2(int8MsPerText) }
  add('base (int8 model)', basePredict(int8Test.split), 0, 0, model)
  const int8Tuning = await tuneResMem({ train: int8Train.split, heldOut: int8Val.split, labels, grid: DEFAULT_GRID, modelFingerprint: int8Model.fingerprint, createIndex: nodeIndexFactory() })
  const ib = int8Tuning.best
  const int8Memory = buildMemory(int8Train.split, { labels, temperature: ib.temperature, modelFingerprint: int8Model.fingerprint, dtype: 'int8' })
  add('resmem-int8 (int8 model)', await resmemPredict(int8Memory, int8Test.split, ib), memoryByteLength(int8Memory.rows, int8Memory.dim, labels, 'int8', 'int8'), seconds(t), { k: ib.k, sigma: ib.sigma, temperature: ib.temperature, ...model })

  // Bag-of-words multinomial naive Bayes on the same split, alpha tuned on val.
  t = performance.now()
  let bestNb = { alpha: 1, accuracy: -1 }
  for (const alpha of [0.01, 0.03, 0.1, 0.3, 1]) {
    const nb = trainNaiveBayes(train.examples.map((e) => e.text), train.split.labels, classes, alpha)
    const acc = accuracy(val.examples.map((e) => predictNaiveBayes(nb, e.text)), val.split.labels)
    if (acc > bestNb.accuracy) bestNb = { alpha, accuracy: acc }
  }
  const nb = trainNaiveBayes(train.examples.map((e) => e.text), train.split.labels, classes, bestNb.alpha)
  add('naive-bayes', test.examples.map((e) => predictNaiveBayes(nb, e.text)), naiveBayesBytes(nb), seconds(t), { alpha: bestNb.alpha })

  return {
    dataset: inputs.dataset,
    rows,
    examples: { train: train.split.rows, val: val.split.rows, test: test.split.rows },
    grid,
    key: prepared.key,
    baseValAccuracy: baseAccuracy(val.split),
    labels,
  }
}

/**
 * Scores a finished build on a test file: `--model DIR --memory DIR --test FILE`. The model folder is made
 * ResMem-ready the same way the build did it, and must be the model the memory was built for.
 */
export async function evaluateBuild(modelDir: string, memoryDir: string, testFile: string): Promise<EvalResult> {
  if (!existsSync(join(memoryDir, 'manifest.json'))) throw new CliError(`${memoryDir}: no manifest.json (is it the output of \`resmem build\`?)`)
  let bundle
  try {
    bundle = await loadBundle(dirSource(memoryDir))
  } catch (err) {
    throw new CliError(`${memoryDir}: ${(err as Error).message}`)
  }
  const { memory, manifest } = bundle
  // Make the model ResMem-ready with the key the memory was built with, so the fingerprints can match.
  const fp32 = await prepareModel(modelDir, undefined, parseKeySpec(manifest.resmem.key))
  const prepared = manifest.model.file === QUANTIZED_MODEL_FILE ? await quantizePrepared(fp32) : fp32
  if (memory.modelFingerprint !== prepared.fingerprint) {
    throw new CliError(`${memoryDir}/memory.bin: built for model ${memory.modelFingerprint.slice(0, 12)}…, but ${modelDir} is ${prepared.fingerprint.slice(0, 12)}…`)
  }
  const labels = prepared.folder.config.labels
  const embedded = await embedFile(prepared, 'test', testFile)
  const test = bundle.projection ? { ...embedded, split: projectSplit(bundle.projection, embedded.split) } : embedded
  const classes = labels.length
  const truth = test.split.labels
  const base = Uint32Array.from({ length: test.split.rows }, (_, i) => argmax(test.split.logits.subarray(i * classes, (i + 1) * classes)))
  const resmem = await resmemPredict(memory, test.split, manifest.resmem)
  const row = (method: string, predicted: Uint32Array, bytes: number, params: Record<string, number>): EvalRow => ({
    method,
    accuracy: accuracy(predicted, truth),
    macro_f1: macroF1(predicted, truth, classes),
    memory_bytes: bytes,
    build_seconds: 0,
    params,
  })
  const { k, sigma, temperature } = manifest.resmem
  return {
    dataset: manifest.name,
    rows: [row('base', base, 0, {}), row('resmem-int8', resmem, manifest.memory.bytes, { k, sigma, temperature })],
    examples: { train: memory.rows, val: manifest.tuning.examples, test: test.split.rows },
    grid: manifest.tuning.grid.map((p) => ({ ...p, meanTrueProb: Number.NaN })),
    key: manifest.resmem.key,
    baseValAccuracy: manifest.tuning.baseAccuracy,
    labels,
  }
}
