import type { TrustResult } from './trust.ts'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { loadBundle } from '../../src/bundle/load.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { sha256Hex } from '../../src/memory/checksum.ts'
import { memoryByteLength, type ResidualMemory } from '../../src/memory/format.ts'
import type { Calibration, MemoryDecision } from '../../src/memory/manifest.ts'
import { argmax } from '../../src/resmem/combine.ts'
import { BASE_FLOOR } from '../../src/resmem/calibrate.ts'
import { dirSource } from '../../src/node/source.ts'
import { nodeIndexFactory } from '../../src/node/index.ts'
import { CliError } from '../cli/errors.ts'
import { embedFile, prepareModel, type PreparedModel } from '../build/pipeline.ts'
import { chooseKey } from '../build/key-choice.ts'
import { fitKeyProjection, projectSplit } from '../build/key-dim.ts'
import { quantizePrepared } from '../build/precision.ts'
import type { KeySpec } from '../export/index.ts'
import type { EmbeddedSplit } from '../build/embed.ts'
import { calibrateRows, fitCalibration } from '../build/calibrate.ts'
import { DEFAULT_GRID, baseAccuracy, resmemProbabilities, tuneResMem, type ScoredPoint } from '../build/tune.ts'
import { baseCorrectness, decideMemory } from '../build/select.ts'
import type { LabelledExample } from '../data/index.ts'
import { servedModel } from './build-model.ts'
import { findNeighbors, interpProbabilities, knnProbabilities, tuneKnn, tuneLambda } from './knn.ts'
import { accuracy, bootstrapInterval, brierScore, correctness, expectedCalibrationError, macroF1, negativeLogLikelihood, reliabilityBins, type Interval } from './metrics.ts'
import { naiveBayesBytes, naiveBayesProbabilities, predictNaiveBayes, trainNaiveBayes } from './naive-bayes.ts'
import { logisticRegressionBytes, logisticRegressionProbabilities, trainLogisticRegression } from './logistic-regression.ts'

export interface EvalRow {
  method: string
  accuracy: number
  /** 95% percentile bootstrap interval of the accuracy over test examples. */
  accuracy_low: number
  accuracy_high: number
  macro_f1: number
  /** Of the scores the method reports (base and resmem: calibrated, as the API returns them). */
  ece: number
  nll: number
  brier: number
  memory_bytes: number
  build_seconds: number
  /** Settings chosen on the validation split. */
  params: Record<string, number>
}

export interface EvalResult {
  dataset: string
  rows: EvalRow[]
  examples: { train: number; val: number; test: number }
  /** ResMem float32 validation grid, for the report's plot. */
  grid: ScoredPoint[]
  /** The memory key, as the manifest records it. */
  key: string
  /** The base model's accuracy on val, the line the grid is to beat. */
  baseValAccuracy: number
  labels: string[]
  /** Whether the memory is served (decided on val), and why. */
  memory: 'on' | 'off'
  decision: MemoryDecision
  calibration: Calibration
  /** resmem-int8 minus base accuracy on the same test examples, 95% paired bootstrap interval. */
  difference: Interval
  /** With the memory off: the tuned memory minus base, had it been served. */
  differenceIfOn?: Interval
  /** OOD detection and conformal coverage of the served bundle (scripts/eval/trust.ts), with its novelty threshold. */
  trust?: { result: TrustResult; threshold?: number }
  /** Reliability diagrams (15 bins) of the scores the API returns: base and resmem-int8. */
  reliability: { method: string; bins: ReturnType<typeof reliabilityBins> }[]
}

export interface EvalInputs {
  dataset: string
  model: string
  train: string
  val: string
  test: string
  /** Memory key (default: chosen on val, as `resmem build --key auto`). */
  key?: KeySpec | 'auto'
  /** Also score int8 memories with keys PCA-projected to these dimensions (`resmem build --key-dim`), each tuned on val. */
  keyDims?: number[]
}

const seconds = (t0: number) => (performance.now() - t0) / 1000
const round2 = (x: number) => Math.round(x * 100) / 100

interface Split {
  examples: LabelledExample[]
  split: EmbeddedSplit
}

/** What a build chose (or what the eval chose the way a build does): the rows to score follow from it. */
interface Settings {
  best: { k: number; sigma: number; temperature: number }
  decision: MemoryDecision
  calibration: Calibration
  /** The int8 memory as served. */
  int8: ResidualMemory
  int8Bytes: number
  tuneSeconds: number
  grid: ScoredPoint[]
}

function rowOf(method: string, predicted: ArrayLike<number>, probs: ArrayLike<number>, truth: Uint32Array, classes: number, memoryBytes: number, buildSeconds: number, params: Record<string, number> = {}): EvalRow {
  const ci = bootstrapInterval(correctness(predicted, truth))
  return {
    method,
    accuracy: accuracy(predicted, truth),
    accuracy_low: ci.low,
    accuracy_high: ci.high,
    macro_f1: macroF1(predicted, truth, classes),
    ece: expectedCalibrationError(probs, truth, classes),
    nll: negativeLogLikelihood(probs, truth, classes),
    brier: brierScore(probs, truth, classes),
    memory_bytes: memoryBytes,
    build_seconds: buildSeconds,
    params,
  }
}

function argmaxRows(probs: ArrayLike<number>, classes: number): Uint32Array {
  return Uint32Array.from({ length: probs.length / classes }, (_, i) => argmax(Array.prototype.slice.call(probs, i * classes, (i + 1) * classes) as number[]))
}

function flat(rows: readonly ArrayLike<number>[], classes: number): Float64Array {
  const out = new Float64Array(rows.length * classes)
  rows.forEach((r, i) => out.set(r, i * classes))
  return out
}

/**
 * The table: every method scored on the same test split, every setting chosen on val. Base and resmem rows
 * report the calibrated scores the API returns; the baselines their own probabilities.
 */
async function scoreTable(prepared: PreparedModel, train: Split, val: Split, test: Split, s: Settings, embedTrainSeconds: number): Promise<Omit<EvalResult, 'dataset' | 'key'>> {
  const labels = prepared.folder.config.labels
  const classes = labels.length
  const truth = test.split.labels
  const rows: EvalRow[] = []
  const createIndex = nodeIndexFactory()

  // base: the model alone, at the memory's T, scores calibrated with the base's temperature.
  const baseProbs = calibrateRows(await resmemProbabilities(s.int8, test.split, { ...s.best, k: 0 }), classes, s.calibration.base, BASE_FLOOR)
  const basePredicted = argmaxRows(baseProbs, classes)
  rows.push(rowOf('base', basePredicted, baseProbs, truth, classes, 0, 0))

  // knn and knn-interp on float32 keys.
  let t = performance.now()
  const kMax = Math.max(...DEFAULT_GRID.k)
  const valNb = findNeighbors(train.split, val.split, kMax)
  const knn = tuneKnn(train.split, val.split, valNb, DEFAULT_GRID.k, DEFAULT_GRID.sigma)
  const lambda = tuneLambda(train.split, val.split, valNb, knn)
  const knnSeconds = embedTrainSeconds + seconds(t)
  const testNb = findNeighbors(train.split, test.split, kMax)
  const keyBytes = train.split.rows * (train.split.dim * 4 + 4)
  const knnProbs = knnProbabilities(train.split, testNb, test.split.rows, knn)
  rows.push(rowOf('knn', argmaxRows(knnProbs, classes), knnProbs, truth, classes, keyBytes, knnSeconds, { k: knn.k, sigma: knn.sigma }))
  const interp = interpProbabilities(train.split, test.split, testNb, knn, lambda.lambda)
  rows.push(rowOf('knn-interp', argmaxRows(interp, classes), interp, truth, classes, keyBytes, knnSeconds, { k: knn.k, sigma: knn.sigma, lambda: lambda.lambda }))

  // ResMem as served: the tuned point when the memory is on, the base model (k = 0) when it is off.
  const served = { ...s.best, k: s.decision.on ? s.best.k : 0 }
  const fp32 = buildMemory(train.split, { labels, temperature: s.best.temperature, modelFingerprint: prepared.fingerprint, dtype: 'float32' })
  const fp32Bytes = memoryByteLength(fp32.rows, fp32.dim, labels, 'float32', 'float32')
  const scored = async (memory: ResidualMemory, params: typeof served) => {
    const raw = await resmemProbabilities(memory, test.split, params, createIndex)
    return params.k > 0 ? calibrateRows(raw, classes, s.calibration.memory, s.calibration.floor) : calibrateRows(raw, classes, s.calibration.base, BASE_FLOOR)
  }
  const params = { k: served.k, sigma: s.best.sigma, temperature: s.best.temperature }
  const fp32Probs = await scored(fp32, served)
  rows.push(rowOf('resmem-fp32', argmaxRows(fp32Probs, classes), fp32Probs, truth, classes, fp32Bytes, s.tuneSeconds, params))
  const int8Probs = await scored(s.int8, served)
  const int8Predicted = argmaxRows(int8Probs, classes)
  rows.push(rowOf('resmem-int8', int8Predicted, int8Probs, truth, classes, s.int8Bytes, s.tuneSeconds, params))
  let differenceIfOn: Interval | undefined
  if (!s.decision.on) {
    // What the memory would have given had it been served: shows whether turning it off cost anything.
    const on = await scored(s.int8, s.best)
    const onPredicted = argmaxRows(on, classes)
    rows.push(rowOf('resmem-int8 (off; if on)', onPredicted, on, truth, classes, s.int8Bytes, s.tuneSeconds, { ...s.best }))
    differenceIfOn = bootstrapInterval(correctness(onPredicted, truth), { paired: correctness(basePredicted, truth) })
  }

  // Bag-of-words multinomial naive Bayes on the same split, alpha tuned on val.
  t = performance.now()
  const trainTexts = train.examples.map((e) => e.text)
  let bestNb = { alpha: 1, accuracy: -1 }
  for (const alpha of [0.01, 0.03, 0.1, 0.3, 1]) {
    const nb = trainNaiveBayes(trainTexts, train.split.labels, classes, alpha)
    const acc = accuracy(val.examples.map((e) => predictNaiveBayes(nb, e.text)), val.split.labels)
    if (acc > bestNb.accuracy) bestNb = { alpha, accuracy: acc }
  }
  const nb = trainNaiveBayes(trainTexts, train.split.labels, classes, bestNb.alpha)
  const nbProbs = flat(test.examples.map((e) => naiveBayesProbabilities(nb, e.text)), classes)
  rows.push(rowOf('naive-bayes', argmaxRows(nbProbs, classes), nbProbs, truth, classes, naiveBayesBytes(nb), seconds(t), { alpha: bestNb.alpha }))

  // TF-IDF + logistic regression (scripts/eval/logistic-regression.ts), L2 penalty tuned on val.
  t = performance.now()
  let bestLr = { lambda: 1e-4, accuracy: -1, model: undefined as ReturnType<typeof trainLogisticRegression> | undefined }
  for (const lambda of [1e-5, 1e-4, 1e-3]) {
    const model = trainLogisticRegression(trainTexts, train.split.labels, classes, lambda)
    const predicted = argmaxRows(flat(val.examples.map((e) => logisticRegressionProbabilities(model, e.text)), classes), classes)
    const acc = accuracy(predicted, val.split.labels)
    if (acc > bestLr.accuracy) bestLr = { lambda, accuracy: acc, model }
  }
  const lrProbs = flat(test.examples.map((e) => logisticRegressionProbabilities(bestLr.model!, e.text)), classes)
  rows.push(rowOf('tfidf-logreg', argmaxRows(lrProbs, classes), lrProbs, truth, classes, logisticRegressionBytes(bestLr.model!), seconds(t), { lambda: bestLr.lambda }))

  return {
    rows,
    examples: { train: train.split.rows, val: val.split.rows, test: test.split.rows },
    grid: s.grid,
    baseValAccuracy: baseAccuracy(val.split),
    labels,
    memory: s.decision.on ? 'on' : 'off',
    decision: s.decision,
    calibration: s.calibration,
    difference: bootstrapInterval(correctness(int8Predicted, truth), { paired: correctness(basePredicted, truth) }),
    ...(differenceIfOn ? { differenceIfOn } : {}),
    reliability: [
      { method: 'base', bins: reliabilityBins(baseProbs, truth, classes) },
      { method: 'resmem-int8', bins: reliabilityBins(int8Probs, truth, classes) },
    ],
  }
}

/** One run, one table, with the choices `resmem build` makes (key, k, sigma, T, on/off, score temperatures) made on val. */
export async function evaluate(inputs: EvalInputs): Promise<EvalResult> {
  const t0 = performance.now()
  const createIndex = nodeIndexFactory()
  const auto = inputs.key === undefined || inputs.key === 'auto' ? await chooseKey({ model: inputs.model, train: inputs.train, val: inputs.val, grid: DEFAULT_GRID, createIndex }) : undefined
  const reuse = auto?.embedded
  const prepared = reuse?.prepared ?? (await prepareModel(inputs.model, undefined, auto ? auto.spec : (inputs.key as KeySpec)))
  const labels = prepared.folder.config.labels
  const train = reuse?.train ?? (await embedFile(prepared, 'train', inputs.train))
  // Making the graph ResMem-ready and embedding the training set is part of every memory method's build.
  const embedTrainSeconds = seconds(t0)
  const val = reuse?.val ?? (await embedFile(prepared, 'val', inputs.val))
  const tTest = performance.now()
  const test = await embedFile(prepared, 'test', inputs.test)
  const msPerText = (performance.now() - tTest) / test.split.rows
  const t = performance.now()
  const tuning = await tuneResMem({ train: train.split, heldOut: val.split, labels, grid: DEFAULT_GRID, modelFingerprint: prepared.fingerprint, createIndex })
  const decision = decideMemory(tuning.grid, tuning.best, baseCorrectness(val.split))
  const int8 = buildMemory(train.split, { labels, temperature: tuning.best.temperature, modelFingerprint: prepared.fingerprint, dtype: 'int8' })
  const calibration = await fitCalibration(int8, val.split, tuning.best, createIndex)
  const settings: Settings = {
    best: { k: tuning.best.k, sigma: tuning.best.sigma, temperature: tuning.best.temperature },
    decision,
    calibration,
    int8,
    int8Bytes: memoryByteLength(int8.rows, int8.dim, labels, 'int8', 'int8'),
    tuneSeconds: embedTrainSeconds + seconds(t),
    grid: tuning.grid,
  }
  const table = await scoreTable(prepared, train, val, test, settings, embedTrainSeconds)
  table.rows[0].params = { ...table.rows[0].params, model_bytes: prepared.model.length, ms_per_text: round2(msPerText) }
  table.rows.push(...(await keyDimRows(prepared, train.split, val.split, test.split, inputs.keyDims ?? [])), ...(await int8ModelRows(prepared, inputs)))
  return { dataset: inputs.dataset, key: prepared.key, ...table }
}

/**
 * An int8 memory tuned on val (as a build tunes it), served as the build would (off unless val says on), with its
 * score temperatures fitted on val: the rows' ECE/NLL/Brier are those of the scores such a build returns.
 * With `baseMethod`, the model alone (k = 0, the base temperature) comes first.
 */
async function tunedInt8Rows(method: string, prepared: PreparedModel, train: EmbeddedSplit, val: EmbeddedSplit, test: EmbeddedSplit, bytesExtra: number, buildSeconds: number, extra: Record<string, number>, baseMethod?: string): Promise<EvalRow[]> {
  const labels = prepared.folder.config.labels
  const classes = labels.length
  const createIndex = nodeIndexFactory()
  const tuned = await tuneResMem({ train, heldOut: val, labels, grid: DEFAULT_GRID, modelFingerprint: prepared.fingerprint, createIndex })
  const decision = decideMemory(tuned.grid, tuned.best, baseCorrectness(val))
  const memory = buildMemory(train, { labels, temperature: tuned.best.temperature, modelFingerprint: prepared.fingerprint, dtype: 'int8' })
  const calibration = await fitCalibration(memory, val, tuned.best, createIndex)
  const scored = async (params: { k: number; sigma: number; temperature: number }) => {
    const raw = await resmemProbabilities(memory, test, params, createIndex)
    return params.k > 0 ? calibrateRows(raw, classes, calibration.memory, calibration.floor) : calibrateRows(raw, classes, calibration.base, BASE_FLOOR)
  }
  const params = { k: decision.on ? tuned.best.k : 0, sigma: tuned.best.sigma, temperature: tuned.best.temperature }
  const bytes = memoryByteLength(memory.rows, memory.dim, labels, 'int8', 'int8') + bytesExtra
  const rows: EvalRow[] = []
  if (baseMethod) {
    const base = await scored({ ...params, k: 0 })
    rows.push(rowOf(baseMethod, argmaxRows(base, classes), base, test.labels, classes, 0, 0, extra))
  }
  const probs = await scored(params)
  rows.push(rowOf(method, argmaxRows(probs, classes), probs, test.labels, classes, bytes, buildSeconds, { ...params, ...extra }))
  return rows
}

/** Smaller keys: the projection fitted on train, everything after it (tuning on val included) on projected keys. */
async function keyDimRows(prepared: PreparedModel, train: EmbeddedSplit, val: EmbeddedSplit, test: EmbeddedSplit, keyDims: readonly number[]): Promise<EvalRow[]> {
  const rows: EvalRow[] = []
  for (const keyDim of keyDims) {
    if (keyDim >= train.dim) continue
    const t = performance.now()
    const projection = fitKeyProjection(train, keyDim)
    const [ptrain, pval, ptest] = [train, val, test].map((s) => projectSplit(projection, s))
    rows.push(...await tunedInt8Rows(`resmem-int8-d${keyDim}`, prepared, ptrain, pval, ptest, 4 * (projection.from + projection.to * projection.from), seconds(t), { keyDim }))
  }
  return rows
}

/**
 * The int8 base model (resmem build --quantize-model int8): alone, and with an int8 memory built from its own
 * embeddings and residuals. ms_per_text: the test split through onnxruntime-node, tokenizer included.
 */
async function int8ModelRows(prepared: PreparedModel, inputs: EvalInputs): Promise<EvalRow[]> {
  const t = performance.now()
  const int8Model = await quantizePrepared(prepared)
  const train = await embedFile(int8Model, 'train (int8 model)', inputs.train)
  const val = await embedFile(int8Model, 'val (int8 model)', inputs.val)
  const tTest = performance.now()
  const test = await embedFile(int8Model, 'test (int8 model)', inputs.test)
  const model = { model_bytes: int8Model.model.length, ms_per_text: round2((performance.now() - tTest) / test.split.rows) }
  return tunedInt8Rows('resmem-int8 (int8 model)', int8Model, train.split, val.split, test.split, 0, seconds(t), model, 'base (int8 model)')
}

/**
 * Scores a finished build on a test file: `--model DIR --memory DIR --test FILE`, the same rows as
 * `--dataset`. The baselines need the build's train and val files: --train/--val, or by default the
 * manifest's train file and val.jsonl beside the test file (the train file must match the manifest's hash).
 */
export async function evaluateBuild(modelDir: string, memoryDir: string, testFile: string, files: { train?: string; val?: string } = {}): Promise<EvalResult> {
  if (!existsSync(join(memoryDir, 'manifest.json'))) throw new CliError(`${memoryDir}: no manifest.json (is it the output of \`resmem build\`?)`)
  let bundle
  try {
    bundle = await loadBundle(dirSource(memoryDir))
  } catch (err) {
    throw new CliError(`${memoryDir}: ${(err as Error).message}`)
  }
  const { memory, manifest } = bundle
  const prepared = await servedModel(modelDir, memoryDir, bundle)
  const trainFile = files.train ?? join(dirname(testFile), manifest.data.train.file)
  const valFile = files.val ?? join(dirname(testFile), 'val.jsonl')
  for (const [flag, file] of [['--train', trainFile], ['--val', valFile]] as const) {
    if (!existsSync(file)) throw new CliError(`${file}: not found; give the build's ${flag.slice(2)} file with ${flag} (the baselines are fitted on it)`)
  }
  if ((await sha256Hex(new Uint8Array(await readFile(trainFile)))) !== manifest.data.train.sha256) {
    throw new CliError(`${trainFile}: not the file ${memoryDir} was built from (SHA-256 differs from manifest.json data.train); give it with --train`)
  }
  const t0 = performance.now()
  const train = await embedFile(prepared, 'train', trainFile)
  const embedTrainSeconds = seconds(t0)
  const val = await embedFile(prepared, 'val', valFile)
  const test = await embedFile(prepared, 'test', testFile)
  // A build with --key-dim: the memory's keys are projected, so every split's keys are too.
  if (bundle.projection) for (const s of [train, val, test]) s.split = projectSplit(bundle.projection, s.split)
  const best = manifest.tuning.best
  const int8 = memory
  const createIndex = nodeIndexFactory()
  // Builds made before the decision existed served their memory; before calibration, raw scores (temperature 1).
  const decision: MemoryDecision = manifest.memory.decision ?? { on: manifest.resmem.k > 0, reason: 'built before resmem build decided on/off', test: 'none', alpha: 1, folds: 0, gains: 0, losses: 0, pValue: 1 }
  const calibration = manifest.calibration ?? (await fitCalibration(int8, val.split, best, createIndex))
  const settings: Settings = {
    best: { k: best.k, sigma: best.sigma, temperature: best.temperature },
    decision,
    calibration,
    int8,
    int8Bytes: manifest.memory.bytes,
    tuneSeconds: 0,
    grid: manifest.tuning.grid.map((p) => ({ ...p, meanTrueProb: Number.NaN })),
  }
  return { dataset: manifest.name, key: manifest.resmem.key, ...(await scoreTable(prepared, train, val, test, settings, embedTrainSeconds)) }
}
