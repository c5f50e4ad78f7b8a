/**
 * `resmem bench --only learning`: what learning at the edge does to answers, through the real worker.
 *  - Casual notes: the shipped spam model calls short casual notes spam (its ham is long mailing-list mail).
 *    Accuracy on notes set 2 before learning set 1 (POST /v1/memory), after, and after forgetting set 1
 *    (DELETE); the spam test split's accuracy before and after learning (it may not drop by more than 0.1 point).
 *  - Learning instead of rebuilding: a memory built from half of the spam training split (k, sigma and T fixed
 *    to the full build's), then the other half POSTed in batches of 32: test accuracy against the full build's.
 * Notes: test/fixtures/casual-notes/set-{1,2}.jsonl.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { buildResMem } from '../build/pipeline.ts'
import { parseKeySpec } from '../export/index.ts'
import { progress } from '../cli/progress.ts'
import { loadClassifier } from '../../src/node/index.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { ROOT } from '../../workers/scripts/build.ts'
import { classifyAll, forget, learn, memoryWorker, type Answer } from './memory.ts'

type Labelled = { text: string; label: string }

export interface LearningBench {
  notes: {
    set1: number
    set2: number
    /** Accuracy on set 2 (never learned): the base model, ResMem before learning set 1, after, after forgetting it. */
    set2Base: number
    set2Before: number
    set2After: number
    set2Forgotten: number
    /** Accuracy on set 1 itself before and after learning it. */
    set1Before: number
    set1After: number
    spamTest: { texts: number; before: number; after: number; changedLabels: number }
  }
  halfSplit?: {
    trainRows: number
    builtRows: number
    learnedRows: number
    requests: number
    learnSeconds: number
    params: { k: number; sigma: number; temperature: number }
    testTexts: number
    fullBuild: number
    halfBuild: number
    halfPlusLearned: number
    /** Test texts whose label differs between the full build and half + learned. */
    disagreements: number
    /** Test texts whose k neighbours are the same training examples, in the same order, in both. */
    sameNeighbors: number
    /** Largest |ResMem score difference| of a label between the two, over the test texts. */
    maxScoreDiff: number
    /** Learned rows whose key had components past the half memory's key range (clamped), and those components. */
    clamped: { rows: number; components: number }
  }
}

async function readJsonl(file: string): Promise<Labelled[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Labelled)
}

/** An answer's neighbours as rows of the training split (a built row is one; an edit maps through `edits`). */
const trainRows = (a: Answer, edits: Map<string, number>) => a.neighbors.map((n) => (n.source === 'built' ? n.row : edits.get(n.id!)))

const accuracy = (answers: { label: string }[], truth: Labelled[]) => answers.filter((a, i) => a.label === truth[i].label).length / truth.length

export interface LearningBenchOptions {
  artifacts: string
  work: string
  /** Test texts to score (all of the split by default; --quick fewer). */
  testLimit?: number
  /** Skip the half-split build (about 2 minutes). */
  skipHalfSplit?: boolean
  log: (message: string) => void
}

export async function benchLearning(o: LearningBenchOptions): Promise<LearningBench> {
  const fixtures = join(ROOT, 'test', 'fixtures', 'casual-notes')
  const set1 = await readJsonl(join(fixtures, 'set-1.jsonl'))
  const set2 = await readJsonl(join(fixtures, 'set-2.jsonl'))
  const test = (await readJsonl(join(ROOT, 'data', 'spam', 'test.jsonl'))).slice(0, o.testLimit)
  const spam = resolve(o.artifacts, 'spam')

  o.log('learning: casual notes on the spam worker')
  let notes: LearningBench['notes']
  {
    const { worker, url } = await memoryWorker({ spam }, join(o.work, 'notes'), 'spam')
    try {
      const set2Answers = await classifyAll(url, set2.map((e) => e.text))
      const set1Before = accuracy(await classifyAll(url, set1.map((e) => e.text)), set1)
      o.log(`learning: spam test split before (${test.length} texts)`)
      const testBefore = await classifyAll(url, test.map((e) => e.text))
      const { ids } = await learn(url, set1)
      const set1After = accuracy(await classifyAll(url, set1.map((e) => e.text)), set1)
      const set2After = accuracy(await classifyAll(url, set2.map((e) => e.text)), set2)
      o.log('learning: spam test split after learning set 1')
      const testAfter = await classifyAll(url, test.map((e) => e.text))
      for (const id of ids) await forget(url, id)
      const set2Forgotten = accuracy(await classifyAll(url, set2.map((e) => e.text)), set2)
      notes = {
        set1: set1.length,
        set2: set2.length,
        set2Base: set2Answers.filter((a, i) => a.base === set2[i].label).length / set2.length,
        set2Before: accuracy(set2Answers, set2),
        set2After,
        set2Forgotten,
        set1Before,
        set1After,
        spamTest: { texts: test.length, before: accuracy(testBefore, test), after: accuracy(testAfter, test), changedLabels: testBefore.filter((a, i) => a.label !== testAfter[i].label).length },
      }
    } finally {
      await worker.dispose()
    }
  }
  if (o.skipHalfSplit) return { notes }

  // Learning instead of rebuilding.
  const manifest = parseManifest(await readFile(join(spam, 'manifest.json')))
  const train = await readJsonl(join(ROOT, 'data', 'spam', 'train.jsonl'))
  const half = Math.ceil(train.length / 2)
  const work = resolve(o.work, 'half')
  await mkdir(work, { recursive: true })
  const halfTrain = join(work, 'train-half.jsonl')
  await writeFile(halfTrain, train.slice(0, half).map((e) => JSON.stringify(e)).join('\n') + '\n')
  // The tuned point, served or not: learning is measured with the memory on.
  const params = { k: manifest.tuning.best.k, sigma: manifest.tuning.best.sigma, temperature: manifest.tuning.best.temperature }
  o.log(`learning: building a memory from the first ${half} of ${train.length} training mails (k=${params.k}, sigma=${params.sigma}, T=${params.temperature}, the full build's)`)
  const halfBundle = join(work, 'spam-half')
  await buildResMem({
    model: join(ROOT, 'models', 'spam'),
    train: halfTrain,
    val: join(ROOT, 'data', 'spam', 'val.jsonl'),
    out: halfBundle,
    name: 'spam-half',
    grid: { k: [params.k], sigma: [params.sigma], temperature: [params.temperature] },
    key: parseKeySpec(manifest.resmem.key),
    quantizeModel: manifest.precision?.model ?? 'fp32',
    memory: 'on',
  })
  const rest = train.slice(half)
  o.log(`learning: keys of the other ${rest.length} mails against the half memory's key scale (Node library)`)
  const node = await loadClassifier(halfBundle)
  let clampedRows = 0
  let clampedComponents = 0
  for (let i = 0; i < rest.length; i += 64) {
    for (const r of await node.encode(rest.slice(i, i + 64))) {
      if (r.clamped) clampedRows++
      clampedComponents += r.clamped
    }
  }

  const { worker, url } = await memoryWorker({ spam, 'spam-half': halfBundle }, join(o.work, 'half-worker'), 'spam-half')
  try {
    o.log('learning: test split on the half memory')
    const halfOnly = await classifyAll(url, test.map((e) => e.text))
    const bar = progress('learning: POST the other half', rest.length, 'examples')
    const t0 = performance.now()
    let requests = 0
    // Edit id -> row of the training split, to name neighbours as the full build does.
    const trainRowOfEdit = new Map<string, number>()
    for (let i = 0; i < rest.length; i += 32) {
      const { ids } = await learn(url, rest.slice(i, i + 32))
      ids.forEach((id, j) => trainRowOfEdit.set(id, half + i + j))
      requests++
      bar.increment(Math.min(32, rest.length - i))
    }
    bar.stop()
    const learnSeconds = (performance.now() - t0) / 1000
    o.log('learning: test split on the half memory + the other half learned')
    const learned = await classifyAll(url, test.map((e) => e.text))
    await worker.dispose()
    o.log('learning: test split on the full build')
    const full = await memoryWorker({ spam }, join(o.work, 'full-worker'), 'spam')
    let fullAnswers: Answer[]
    try {
      // At the tuned point, as the half memory serves: the shipped build may serve its memory off.
      fullAnswers = await classifyAll(full.url, test.map((e) => e.text), 32, params.k)
    } finally {
      await full.worker.dispose()
    }
    return {
      notes,
      halfSplit: {
        trainRows: train.length,
        builtRows: half,
        learnedRows: rest.length,
        requests,
        learnSeconds,
        params,
        testTexts: test.length,
        fullBuild: accuracy(fullAnswers, test),
        halfBuild: accuracy(halfOnly, test),
        halfPlusLearned: accuracy(learned, test),
        disagreements: learned.filter((a, i) => a.label !== fullAnswers[i].label).length,
        sameNeighbors: learned.filter((a, i) => trainRows(a, trainRowOfEdit).join() === trainRows(fullAnswers[i], trainRowOfEdit).join()).length,
        maxScoreDiff: Math.max(...learned.map((a, i) => Math.max(...a.scores.map((s) => Math.abs(s.score - fullAnswers[i].scores.find((t) => t.label === s.label)!.score))))),
        clamped: { rows: clampedRows, components: clampedComponents },
      },
    }
  } finally {
    await worker.dispose().catch(() => undefined)
  }
}

export function formatLearningBench(l: LearningBench): string[] {
  const p = (x: number) => `${(x * 100).toFixed(2)}%`
  const n = l.notes
  const out = [
    `Learning at the edge (spam worker, POST/DELETE /v1/memory, no retraining):`,
    `   casual notes set 2 (${n.set2}, never learned): base ${p(n.set2Base)}; ResMem before learning set 1 ${p(n.set2Before)} -> after ${p(n.set2After)} -> after forgetting set 1 ${p(n.set2Forgotten)}`,
    `   casual notes set 1 (${n.set1}, the learned ones): ${p(n.set1Before)} -> ${p(n.set1After)}`,
    `   spam test split (${n.spamTest.texts}): ${p(n.spamTest.before)} before learning set 1, ${p(n.spamTest.after)} after (${(100 * (n.spamTest.after - n.spamTest.before)).toFixed(2)} points; ${n.spamTest.changedLabels} labels changed; limit -0.1)`,
  ]
  const h = l.halfSplit
  if (h) {
    out.push(
      `   learning instead of rebuilding: memory of ${h.builtRows} of ${h.trainRows} training mails + the other ${h.learnedRows} POSTed (${h.requests} requests of <= 32, ${h.learnSeconds.toFixed(0)} s);`,
      `   k=${h.params.k} sigma=${h.params.sigma} T=${h.params.temperature} (the full build's). Test accuracy (${h.testTexts}): full build ${p(h.fullBuild)}, half alone ${p(h.halfBuild)}, half + learned ${p(h.halfPlusLearned)};`,
      `   ${h.disagreements} test labels differ from the full build's; ${h.sameNeighbors} of ${h.testTexts} texts have the same k neighbours (training examples, in order);`,
      `   largest score difference ${h.maxScoreDiff.toExponential(2)}; ${h.clamped.rows} learned keys clamped (${h.clamped.components} components) at the half memory's key scale.`,
    )
  }
  return out
}
