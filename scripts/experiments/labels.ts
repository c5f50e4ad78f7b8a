/**
 * The figures of docs/labels.md (not run by the tests):
 *
 *   npx tsx scripts/experiments/labels.ts
 *
 * On the shipped spam build through the Node library: a label the model never saw ("note") is added and taught
 * with casual notes set 1 (30 texts); then how many of the 1,183 spam test mails change answer (label, scores
 * of the model's labels), how many get the new label, and how many of casual notes set 2 (30 texts, never
 * taught) answer it; then the label is removed and every answer is compared with the one before.
 * Writes out/labels.json.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { loadClassifier } from '../../src/node/index.ts'
import type { Classification } from '../../src/types.ts'
import { readLabelledJsonl } from '../data/index.ts'

const texts = (file: string) => readLabelledJsonl(file).then((es) => es.map((e) => e.text))
const [set1, set2, mails] = await Promise.all([texts('test/fixtures/casual-notes/set-1.jsonl'), texts('test/fixtures/casual-notes/set-2.jsonl'), texts('data/spam/test.jsonl')])
const classifier = await loadClassifier('artifacts/spam', { kernel: 'simd' })
const model = (r: Classification) => JSON.stringify([r.label, r.scores.filter((s) => s.label !== 'note'), r.base.scores.filter((s) => s.label !== 'note')])

const before = { mails: await classifier.classify(mails), set2: await classifier.classify(set2) }
let t0 = performance.now()
classifier.addLabel('note')
await classifier.learn(set1.map((text) => ({ text, label: 'note' })))
const teachMs = performance.now() - t0
const after = { mails: await classifier.classify(mails), set2: await classifier.classify(set2), set1: await classifier.classify(set1) }
t0 = performance.now()
const removed = classifier.removeLabel('note')
const removeMs = performance.now() - t0
const restored = await classifier.classify(mails)

const result = {
  build: 'artifacts/spam',
  taught: set1.length,
  teachMs: Math.round(teachMs),
  mails: mails.length,
  mailsChanged: after.mails.filter((r, i) => model(r) !== model(before.mails[i])).length,
  mailsAnsweringNote: after.mails.filter((r) => r.label === 'note').length,
  set1AnsweringNote: after.set1.filter((r) => r.label === 'note').length,
  set2: set2.length,
  set2AnsweringNote: after.set2.filter((r) => r.label === 'note').length,
  set2BeforeHam: before.set2.filter((r) => r.label === 'ham').length,
  forgotten: removed.forgotten,
  removeMs: Math.round(removeMs * 10) / 10,
  restoredExactly: restored.every((r, i) => JSON.stringify(r) === JSON.stringify(before.mails[i])),
}
console.log(result)
await mkdir('out', { recursive: true })
await writeFile('out/labels.json', JSON.stringify(result, null, 2) + '\n')
