/**
 * `resmem bench --only poisoning`: what one bad edit does to other people's answers (memory poisoning).
 * For N spam test texts drawn at random (seeded), one at a time: learn the text with the wrong label, count
 * the other test texts whose served label changes, forget it. Answers are the served memory's own decision
 * (ResMemClassifier.decide with no parameters: the served k, sigma, and whatever else the served memory
 * applies), so the bench measures the memory as shipped, whatever it does.
 *
 * The baseline holds one correct edit (a casual note, ham): once anything is learned a memory that ships "off"
 * switches on at its tuned point (src/classifier.ts), and that switch is not the poisoned row's doing; the
 * switch's own effect is reported apart (`firstEdit`).
 * In-process Node classifier (the worker's core: same search, same combine), the SIMD kernel.
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ModelOutputs } from '../../src/model/runner.ts'
import { loadClassifier } from '../../src/node/index.ts'
import { ROOT } from '../../workers/scripts/build.ts'
import { mulberry32 } from '../data/random.ts'

type Labelled = { text: string; label: string }

export interface PoisoningBench {
  model: string
  /** Test texts answered (the poisoned one excluded each time). */
  texts: number
  edits: number
  seed: number
  /** Other answers changed by one wrong edit: distribution over the edits. */
  changed: { max: number; p99: number; median: number; mean: number; zero: number }
  /** Per edit, in draw order. */
  perEdit: number[]
  /** Poisoned texts whose own answer took the wrong label (the edit did reach the memory). */
  selfFlipped: number
  /** Answers changed by the first (correct) edit alone: the memory switching on, where it ships off. */
  firstEdit: number
  /** The served parameters of the baseline (k, sigma, T). */
  served: { k: number; sigma: number; temperature: number; memoryOn: boolean }
  seconds: number
}

export interface PoisoningOptions {
  artifacts: string
  model?: string
  edits?: number
  seed?: number
  /** The first N test texts only (a quick check; default all). */
  testLimit?: number
  log: (message: string) => void
}

const readJsonl = async (file: string): Promise<Labelled[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Labelled)

/** The model's outputs (batches) as one (logits, embedding) per text. */
export function perText(outputs: readonly ModelOutputs[]): { logits: Float32Array; embedding: Float32Array }[] {
  return outputs.flatMap((o) => Array.from({ length: o.batch }, (_, i) => ({ logits: o.logits.subarray(i * o.classes, (i + 1) * o.classes), embedding: o.embedding.subarray(i * o.dim, (i + 1) * o.dim) })))
}

export async function benchPoisoning(o: PoisoningOptions): Promise<PoisoningBench> {
  const started = performance.now()
  const model = o.model ?? 'spam'
  const edits = o.edits ?? 100
  const seed = o.seed ?? 18
  const classifier = await loadClassifier(resolve(o.artifacts, model), { kernel: 'simd' })
  const labels = classifier.labels
  const test = (await readJsonl(join(ROOT, 'data', model, 'test.jsonl'))).slice(0, o.testLimit)
  o.log(`poisoning: embedding ${test.length} test texts once`)
  const outputs = perText((await classifier.embed(test.map((t) => t.text))).outputs)
  const answers = async () => {
    const out = new Array<number>(outputs.length)
    for (let i = 0; i < outputs.length; i++) out[i] = (await classifier.decide(outputs[i].logits, outputs[i].embedding)).label
    return out
  }
  const before = await answers()
  const [note] = await readJsonl(join(ROOT, 'test', 'fixtures', 'casual-notes', 'set-1.jsonl'))
  await classifier.learn([note])
  const baseline = await answers()
  const firstEdit = baseline.filter((l, i) => l !== before[i]).length

  const next = mulberry32(seed)
  const order = Array.from({ length: test.length }, (_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  const perEdit: number[] = []
  let selfFlipped = 0
  for (const t of order.slice(0, edits)) {
    const wrong = labels.find((l) => l !== test[t].label)!
    const [id] = await classifier.learn([{ text: test[t].text, label: wrong }])
    const after = await answers()
    perEdit.push(after.filter((l, i) => i !== t && l !== baseline[i]).length)
    if (labels[after[t]] === wrong) selfFlipped++
    await classifier.forget([id])
    if (perEdit.length % 20 === 0) o.log(`poisoning: ${perEdit.length}/${edits} edits`)
  }
  const sorted = [...perEdit].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
  const tuned = classifier.bundle.manifest.tuning.best
  return {
    model,
    texts: test.length - 1,
    edits: perEdit.length,
    seed,
    changed: { max: sorted[sorted.length - 1], p99: at(0.99), median: at(0.5), mean: perEdit.reduce((a, b) => a + b, 0) / perEdit.length, zero: perEdit.filter((n) => n === 0).length },
    perEdit,
    selfFlipped,
    firstEdit,
    served: { k: tuned.k, sigma: tuned.sigma, temperature: tuned.temperature, memoryOn: classifier.bundle.manifest.memory.decision?.on !== false },
    seconds: (performance.now() - started) / 1000,
  }
}

export function formatPoisoningBench(p: PoisoningBench): string[] {
  return [
    `Memory poisoning (${p.model}): ${p.edits} test texts (seed ${p.seed}) each learned with the wrong label, one at a time; other answers changed, of ${p.texts}:`,
    `   max ${p.changed.max}, p99 ${p.changed.p99}, median ${p.changed.median}, mean ${p.changed.mean.toFixed(2)}; ${p.changed.zero} of ${p.edits} edits changed none`,
    `   the poisoned text's own answer took the wrong label for ${p.selfFlipped} of ${p.edits} (the edit reached the memory)`,
    `   baseline: one correct edit learned (it alone changed ${p.firstEdit} answers: the memory ${p.served.memoryOn ? 'was on already' : 'ships off and switches on once rows are learned'}; k=${p.served.k}, sigma=${p.served.sigma}, T=${p.served.temperature})`,
  ]
}
