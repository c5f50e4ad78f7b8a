/**
 * What forgotten built rows cost a decision (search + combine, the embedding excluded):
 *
 *   npx tsx scripts/experiments/forget-cost.ts [--bundle artifacts/spam] [--forget 2000]
 *
 * Embeds 200 spam test texts once, then times 5 x 200 decisions at the tuned k with no row forgotten and with
 * `--forget` random built rows (seeded) hidden. In-process Node classifier, SIMD kernel.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadClassifier } from '../../src/node/index.ts'
import { perText } from '../bench/poisoning.ts'
import { mulberry32 } from '../data/random.ts'

const { values } = parseArgs({ options: { bundle: { type: 'string' }, forget: { type: 'string' } } })
const classifier = await loadClassifier(values.bundle ?? 'artifacts/spam', { kernel: 'simd' })
const k = classifier.bundle.manifest.tuning.best.k
const rows = classifier.bundle.memory.rows
const texts = readFileSync('data/spam/test.jsonl', 'utf8').split('\n').filter(Boolean).slice(0, 200).map((l) => (JSON.parse(l) as { text: string }).text)
const outputs = perText((await classifier.embed(texts)).outputs)

async function time(forgotten: number): Promise<void> {
  const ms: number[] = []
  for (let round = 0; round < 5; round++) {
    for (const o of outputs) {
      const t = performance.now()
      await classifier.decide(o.logits, o.embedding, { k })
      ms.push(performance.now() - t)
    }
  }
  ms.sort((a, b) => a - b)
  console.log(`${forgotten} of ${rows} built rows forgotten, k ${k}: ${ms.length} decisions, median ${ms[ms.length >> 1].toFixed(3)} ms, p90 ${ms[Math.floor(ms.length * 0.9)].toFixed(3)} ms`)
}

await time(0)
const n = Math.min(rows, Number(values.forget ?? 2000))
const next = mulberry32(7)
const hidden = new Set<number>()
while (hidden.size < n) hidden.add(Math.floor(next() * rows))
await classifier.forget([...hidden].map((r) => `base:${r}`))
await time(n)
