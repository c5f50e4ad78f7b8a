/**
 * `resmem bench --only new-label`: a label the base model never saw, learned from n sentences per language.
 * On langid: a base trained and built without the held-out languages (base.ts), then for n = 1, 2, 5, 10, 20, 50
 * sentences per held-out language (hold-out.ts) taught through the worker's API (POST /v1/labels, POST
 * /v1/memory, DELETE /v1/labels between n: each n starts from a clean memory), the test split classified; the
 * anchors on the same taught sentences (anchors.ts) and, at n = 20, the base retrained with them. Rows: rows.ts.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readLabelledJsonl, type LabelledExample } from '../../data/index.ts'
import { embedSplit } from '../../build/embed.ts'
import { servedModel } from '../../eval/build-model.ts'
import { loadClassifier, loadNodeBundle } from '../../../src/node/index.ts'
import { parseManifest } from '../../../src/memory/manifest.ts'
import { ROOT } from '../../../workers/scripts/build.ts'
import { classifyAll, learn, memoryWorker } from '../memory.ts'
import { chooseLambda, concatSplits, knnLabels, pickRows, tfidfLrLabels } from './anchors.ts'
import { langidRecipe, trainAndBuild, type BaseStep } from './base.ts'
import { DEFAULT_SEED, holdOut, teachSet, TEACH_COUNTS } from './hold-out.ts'
import { addLabel, removeLabel } from './labels-api.ts'
import { curveRow, METHODS, newLabelConfusions, nReaching, NEW_LABEL_TARGETS, oldAccuracy, type CurveRow, type Method } from './rows.ts'

export { newLabelChecks, NEW_LABEL_TARGETS } from './rows.ts'
export type { CurveRow } from './rows.ts'

export interface NewLabelBench {
  dataset: 'langid'
  holdOut: string[]
  seed: number
  counts: { trainKept: number; heldTrain: Record<string, number>; testNew: number; testOld: number }
  base: BaseStep
  /** The base retrained with the n = 20 sentences (absent when skipped). */
  retrain?: BaseStep & { n: number }
  /** k and sigma of the knn anchor (the build's tuned point) and the TF-IDF LR penalty (chosen on val). */
  params: { k: number; sigma: number; lambda: number; lrValAccuracy: number }
  /** Held-out-language test texts the worker called `unfamiliar` before anything was taught. */
  unfamiliarBefore?: { texts: number; unfamiliar: number; share: number }
  /** resmem at n = 20: old-language test texts answered with a new label, by true -> answered label, most first. */
  confusions?: { truth: string; predicted: string; texts: number }[]
  /** Why the resmem rows are missing (the worker or its labels API failed). */
  resmemError?: string
  rows: CurveRow[]
  /** The smallest n at which each method's new-language recall reached 50% and 80% (null: not at any n measured). */
  reaches: Record<string, { recall50: number | null; recall80: number | null }>
  /** Old-language accuracy served after the last DELETE /v1/labels (equal to before when forgetting is clean). */
  oldAccuracyAfterForget?: number
  /** Rows each DELETE /v1/labels reported forgotten, per n (the sentences taught, when it works). */
  forgotten: Record<string, number>
  seconds: Record<string, number>
  notes: string[]
}

export interface NewLabelOptions {
  work: string
  holdOut: string[]
  counts?: readonly number[]
  seed?: number
  /** Retrain the base with the n = 20 sentences (a few minutes on 2 cores). */
  retrain: boolean
  log: (message: string) => void
}

const MODEL = 'langid-held-out'

export async function benchNewLabel(o: NewLabelOptions): Promise<NewLabelBench> {
  const seed = o.seed ?? DEFAULT_SEED
  const counts = o.counts ?? TEACH_COUNTS
  const seconds: Record<string, number> = {}
  const data = join(ROOT, 'data', 'langid')
  const labels = (JSON.parse(await readFile(join(data, 'info.json'), 'utf8')) as { labels: string[] }).labels
  const read = async (name: string) => holdOut(await readLabelledJsonl(join(data, `${name}.jsonl`)), o.holdOut, labels)
  const [train, val, test] = [await read('train'), await read('val'), await read('test')]
  const recipe = await langidRecipe()
  const base = await trainAndBuild({ splits: { train: train.kept, val: val.kept, test: test.kept }, dir: join(o.work, 'base'), name: MODEL, recipe, log: o.log })
  const served = [...base.labels, ...o.holdOut]
  // The test split, read once here for the reported table: old languages then held-out ones.
  const testAll = [...test.kept, ...test.held]
  const texts = testAll.map((e) => e.text)
  const truth = testAll.map((e) => e.label)
  const taughtAt = (n: number) => teachSet(train.held, o.holdOut, n, seed)
  const rows: CurveRow[] = []
  const row = (method: Method, n: number, taught: number, predicted: readonly (string | null)[], before: number) => {
    const r = curveRow(method, n, taught, { predicted, truth }, o.holdOut, before)
    rows.push(r)
    o.log(`${method} n=${n}: new recall ${(100 * r.new_recall).toFixed(1)}%, precision ${r.new_precision === null ? '-' : (100 * r.new_precision).toFixed(1) + '%'}, old accuracy ${(100 * r.old_accuracy).toFixed(2)}% (before ${(100 * before).toFixed(2)}%)`)
  }

  // Anchors in Node, on the served model's keys.
  let t = performance.now()
  const manifest = parseManifest(await readFile(join(base.bundle, 'manifest.json')))
  const prepared = await servedModel(base.bundle, base.bundle, await loadNodeBundle(base.bundle))
  const ids = (examples: readonly LabelledExample[]) => Uint32Array.from(examples, (e) => served.indexOf(e.label))
  const embed = (name: string, examples: LabelledExample[]) => embedSplit(name, examples, ids(examples), prepared.tokenizer, prepared.runner)
  const built = await embed('built rows', train.kept)
  const pool = await embed('held-out train rows', train.held)
  const testSplit = await embed('test', testAll)
  const knn = { k: manifest.tuning.best.k, sigma: manifest.tuning.best.sigma }
  const poolRow = new Map(train.held.map((e, i) => [e, i]))
  const knnBefore = oldAccuracy({ predicted: knnLabels(concatSplits([built], served.length), testSplit, knn, served), truth }, o.holdOut)
  for (const n of counts) {
    const taught = taughtAt(n)
    const memory = concatSplits([built, pickRows(pool, taught.map((e) => poolRow.get(e)!))], served.length)
    row('knn', n, taught.length, knnLabels(memory, testSplit, knn, served), knnBefore)
  }
  seconds.knn = (performance.now() - t) / 1000
  t = performance.now()
  const { lambda, valAccuracy } = chooseLambda(train.kept, val.kept, served)
  const lrBefore = oldAccuracy({ predicted: tfidfLrLabels(train.kept, texts, served, lambda), truth }, o.holdOut)
  for (const n of counts) {
    const taught = taughtAt(n)
    row('tfidf-lr', n, taught.length, tfidfLrLabels([...train.kept, ...taught], texts, served, lambda), lrBefore)
  }
  seconds['tfidf-lr'] = (performance.now() - t) / 1000

  // ResMem as served: the real worker, its labels and memory APIs.
  t = performance.now()
  const forgotten: Record<string, number> = {}
  let unfamiliarBefore: NewLabelBench['unfamiliarBefore'] | undefined
  let oldAccuracyAfterForget: number | undefined
  let resmemError: string | undefined
  let confusions: NewLabelBench['confusions']
  try {
    const { worker, url } = await memoryWorker({ [MODEL]: base.bundle }, join(o.work, 'worker'), MODEL)
    try {
      o.log(`resmem: classifying the ${texts.length} test texts before teaching`)
      const before = await classifyAll(url, texts)
      const newAnswers = before.filter((_, i) => o.holdOut.includes(truth[i]))
      const unfamiliar = newAnswers.filter((a) => a.unfamiliar === true).length
      unfamiliarBefore = { texts: newAnswers.length, unfamiliar, share: unfamiliar / newAnswers.length }
      if (newAnswers.some((a) => a.unfamiliar === undefined)) throw new Error('the worker answered without `unfamiliar` (NOVELTY off, or a build without locality)')
      const resmemBefore = oldAccuracy({ predicted: before.map((a) => a.label), truth }, o.holdOut)
      // The same memory with the built rows searched at the tuned k (val turned them off): do old rows hold old texts?
      const searchedBefore = oldAccuracy({ predicted: (await classifyAll(url, texts, 32, knn.k)).map((a) => a.label), truth }, o.holdOut)
      for (const n of counts) {
        const taught = taughtAt(n)
        for (const label of o.holdOut) await addLabel(url, label)
        for (let i = 0; i < taught.length; i += 32) await learn(url, taught.slice(i, i + 32))
        o.log(`resmem n=${n}: ${taught.length} sentences taught, classifying`)
        const predicted = (await classifyAll(url, texts)).map((a) => a.label)
        row('resmem', n, taught.length, predicted, resmemBefore)
        if (n === NEW_LABEL_TARGETS.n) confusions = newLabelConfusions({ predicted, truth }, o.holdOut)
        row('resmem-searched', n, taught.length, (await classifyAll(url, texts, 32, knn.k)).map((a) => a.label), searchedBefore)
        forgotten[n] = 0
        for (const label of o.holdOut) forgotten[n] += await removeLabel(url, label)
      }
      oldAccuracyAfterForget = oldAccuracy({ predicted: (await classifyAll(url, texts)).map((a) => a.label), truth }, o.holdOut)
    } finally {
      await worker.dispose()
    }
  } catch (err) {
    // The anchors' rows stand without it; the section is failed by the caller.
    resmemError = (err as Error).message
    o.log(`resmem FAILED: ${resmemError}`)
  }
  seconds.resmem = (performance.now() - t) / 1000

  let retrain: NewLabelBench['retrain']
  const notes = [
    `Each n is taught from a clean memory: the labels are added, the sentences POSTed, the test split classified, then the labels DELETEd (forgetting their rows). The taught set for n is a subset of the one for every larger n (one seeded order per language, seed ${seed}).`,
    `resmem-searched: the same worker and memory, each request with ?k=${knn.k} (the build's tuned k), so the built rows are searched as well as the taught ones; resmem is the worker as served (the held-out build's memory is ${base.memoryOn ? 'on' : 'off'}).`,
    `knn: float32 keys of the served model, the built rows plus the taught ones, k=${knn.k} and sigma=${knn.sigma} (the build's tuned point), the vote alone. tfidf-lr: scripts/eval/logistic-regression.ts, lambda ${lambda} chosen on val of the old languages (${(100 * valAccuracy).toFixed(2)}%), refitted at every n.`,
  ]
  const fewest = Math.min(...o.holdOut.map((l) => train.held.filter((e) => e.label === l).length))
  if (counts.some((n) => n > fewest)) notes.push(`A held-out language has ${fewest} training sentences: at n above that, every one of them is taught (row field "taught").`)
  if (o.retrain && counts.includes(NEW_LABEL_TARGETS.n)) {
    const n = NEW_LABEL_TARGETS.n
    t = performance.now()
    const step = await trainAndBuild({ splits: { train: [...train.kept, ...taughtAt(n)], val: val.kept, test: test.kept }, dir: join(o.work, 'retrain'), name: `${MODEL}-retrain`, recipe, log: o.log })
    retrain = { ...step, n }
    o.log('retrain: classifying the test split in Node (the retrained build as served), and the held-out base before')
    const answer = async (bundle: string) => (await (await loadClassifier(bundle)).classify(texts)).map((r) => r.label)
    const retrainBefore = oldAccuracy({ predicted: await answer(base.bundle), truth }, o.holdOut)
    row('retrain', n, taughtAt(n).length, await answer(step.bundle), retrainBefore)
    seconds.retrain = (performance.now() - t) / 1000
  } else notes.push('retrain: skipped (--quick, or n = 20 not measured).')

  const reaches = Object.fromEntries(METHODS.filter((m) => rows.some((r) => r.method === m)).map((m) => [m, { recall50: nReaching(rows, m, 0.5), recall80: nReaching(rows, m, 0.8) }]))
  return {
    dataset: 'langid',
    holdOut: o.holdOut,
    seed,
    counts: { trainKept: train.kept.length, heldTrain: Object.fromEntries(o.holdOut.map((l) => [l, train.held.filter((e) => e.label === l).length])), testNew: test.held.length, testOld: test.kept.length },
    base,
    retrain,
    params: { ...knn, lambda, lrValAccuracy: valAccuracy },
    unfamiliarBefore,
    resmemError,
    confusions,
    rows,
    reaches,
    oldAccuracyAfterForget,
    forgotten,
    seconds,
    notes,
  }
}
