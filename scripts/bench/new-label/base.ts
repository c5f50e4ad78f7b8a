/**
 * A base model trained and built without some labels (or with a few taught sentences added): `resmem train`
 * with the shipped langid model's hyperparameters and seed, then `resmem build` with its defaults, both timed.
 * A finished step is reused when its data and recipe are unchanged (done.json), so a rerun of the bench does
 * not retrain.
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeDataset, type LabelledExample } from '../../data/index.ts'
import { buildResMem } from '../../build/pipeline.ts'
import { train, type TrainOptions } from '../../commands/train.ts'
import { ROOT } from '../../../workers/scripts/build.ts'

export interface BaseStep {
  /** Model folder (Hugging Face layout) and bundle folder. */
  model: string
  bundle: string
  labels: string[]
  /** Wall seconds of `resmem train` and `resmem build` (the run that made them, when reused). */
  seconds: { train: number; build: number }
  reused: boolean
  /** The build's memory decision on val. */
  memoryOn: boolean
}

type Recipe = Omit<TrainOptions, 'data' | 'out' | 'work'>

/** The shipped langid model's hyperparameters (models/langid/training.json), so a held-out base is trained alike. */
export async function langidRecipe(): Promise<Recipe> {
  const h = (JSON.parse(await readFile(join(ROOT, 'models', 'langid', 'training.json'), 'utf8')) as { hyperparameters: Record<string, number> }).hyperparameters
  return {
    epochs: h.epochs, maxLength: h.max_length, vocabSize: h.vocab_size, hidden: h.hidden, layers: h.layers, heads: h.heads, intermediate: h.intermediate,
    lr: h.lr, batchSize: h.batch_size, dropout: h.dropout, labelSmoothing: h.label_smoothing, patience: h.patience, seed: h.seed,
  }
}

export interface BaseOptions {
  splits: { train: LabelledExample[]; val: LabelledExample[]; test: LabelledExample[] }
  /** Working folder: data/, model/, bundle/, done.json. */
  dir: string
  name: string
  recipe: Recipe
  log: (message: string) => void
}

export async function trainAndBuild(o: BaseOptions): Promise<BaseStep> {
  const data = join(o.dir, 'data')
  const info = await writeDataset(data, o.splits, { dataset: o.name, source: { derived: 'data/langid' }, seed: o.recipe.seed, fractions: [0, 0, 0] })
  const model = join(o.dir, 'model')
  const bundle = join(o.dir, 'bundle')
  const stamp = JSON.stringify({ sha256: info.sha256, recipe: o.recipe })
  const doneFile = join(o.dir, 'done.json')
  if (existsSync(doneFile) && existsSync(join(bundle, 'manifest.json'))) {
    const done = JSON.parse(await readFile(doneFile, 'utf8')) as { stamp: string; seconds: BaseStep['seconds']; memoryOn: boolean }
    if (done.stamp === stamp) {
      o.log(`${o.name}: reusing ${bundle} (same data and recipe; trained in ${done.seconds.train.toFixed(0)} s, built in ${done.seconds.build.toFixed(0)} s)`)
      return { model, bundle, labels: info.labels, seconds: done.seconds, reused: true, memoryOn: done.memoryOn }
    }
  }
  o.log(`${o.name}: resmem train (${o.splits.train.length} train texts, ${info.labels.length} labels, ${o.recipe.epochs} epochs, seed ${o.recipe.seed})`)
  let t = performance.now()
  await train({ ...o.recipe, data, out: model, work: join(o.dir, 'train-work') })
  const trainSeconds = (performance.now() - t) / 1000
  o.log(`${o.name}: resmem build`)
  t = performance.now()
  const built = await buildResMem({ model, train: join(data, 'train.jsonl'), val: join(data, 'val.jsonl'), out: bundle, name: o.name })
  const seconds = { train: trainSeconds, build: (performance.now() - t) / 1000 }
  const memoryOn = built.manifest.memory.decision?.on ?? true
  await writeFile(doneFile, JSON.stringify({ stamp, seconds, memoryOn }, null, 1) + '\n')
  return { model, bundle, labels: info.labels, seconds, reused: false, memoryOn }
}
