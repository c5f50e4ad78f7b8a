/**
 * The figures of docs/trust.md (not run by the tests):
 *
 *   npx tsx scripts/experiments/trust.ts [--texts 300] [--skip-cost] [--only-cost]
 *
 * On the shipped builds (artifacts/spam, artifacts/langid) through the Node library:
 *  - OOD detection: novelty against max-softmax and energy (scripts/eval/trust.ts), casual notes and langid
 *    sentences into the spam model, spam mails into the langid model (test/fixtures/ood);
 *  - conformal coverage and mean set size on both test splits at alpha 0.1 and 0.05, overall and per label;
 *  - learning one casual note: how many spam test answers change (scores, labels), and how many of those texts
 *    have the learned row among their k nearest within the radius;
 *  - the cost of novelty: classify p50 (one text per call) with novelty on and off, alternating in one
 *    process, on the spam memory (4,139 rows) and on a synthetic 100k x 384 memory (scripts/bench/synthetic-bundle.ts).
 * Writes out/trust.json (--only-cost: out/trust-cost.json).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadClassifier } from '../../src/node/index.ts'
import { readLabelledJsonl } from '../data/index.ts'
import { evaluateTrust } from '../eval/trust.ts'
import { median } from '../bench/stats.ts'
import { writeSyntheticBundle } from '../bench/synthetic-bundle.ts'

const { values } = parseArgs({ options: { texts: { type: 'string', default: '300' }, 'skip-cost': { type: 'boolean' }, 'only-cost': { type: 'boolean' } } })
const texts = (file: string) => readLabelledJsonl(file).then((es) => es.map((e) => e.text))
const notes = [...(await texts('test/fixtures/casual-notes/set-1.jsonl')), ...(await texts('test/fixtures/casual-notes/set-2.jsonl'))]

const spam = await loadClassifier('artifacts/spam')
const langid = await loadClassifier('artifacts/langid')
const spamTest = await readLabelledJsonl('data/spam/test.jsonl')
const langidTest = await readLabelledJsonl('data/langid/test.jsonl')
/** OOD, coverage, one learned note, casual notes: what out/trust.json records. */
async function measureTrust() {
  const spamTrust = await evaluateTrust(spam, spamTest, [
    { name: 'casual-notes', texts: notes },
    { name: 'langid-sentences', texts: await texts('test/fixtures/ood/langid-sentences.jsonl') },
  ])
  const langidTrust = await evaluateTrust(langid, langidTest, [{ name: 'spam-mails', texts: await texts('test/fixtures/ood/spam-mails.jsonl') }])
  for (const [name, t] of [['spam', spamTrust], ['langid', langidTrust]] as const) {
    for (const r of t.ood) console.log(`${name} vs ${r.out} ${r.score}: AUROC ${r.auroc.toFixed(3)}, FPR@95TPR ${(100 * r.fpr95).toFixed(1)}%${r.flagged === undefined ? '' : `, unfamiliar: ${(100 * r.flagged).toFixed(1)}% of out, ${(100 * r.inFlagged!).toFixed(1)}% of test`}`)
    for (const c of t.coverage) console.log(`${name} alpha ${c.alpha} ${c.label}: coverage ${(100 * c.coverage).toFixed(1)}%, mean set size ${c.meanSetSize.toFixed(3)} (n ${c.count})`)
  }

  // One casual note learned: which spam test answers move.
  const ONE = 'Hi Tom, can we move our meeting to Thursday?'
  const mails = spamTest.map((e) => e.text)
  const before = await spam.classify(mails)
  await spam.learn([{ text: ONE, label: 'ham' }])
  const after = await spam.classify(mails, { explain: true })
  spam.resetEdits()
  const oneNote = {
    texts: mails.length,
    scoresChanged: after.filter((a, i) => JSON.stringify(a.scores) !== JSON.stringify(before[i].scores)).length,
    labelsChanged: after.filter((a, i) => a.label !== before[i].label).length,
    answeredByLearnedRow: after.filter((a) => a.neighbors!.some((n) => n.source === 'edit')).length,
  }
  console.log(`one note learned: ${oneNote.scoresChanged} of ${oneNote.texts} spam test answers change score, ${oneNote.labelsChanged} change label; ${oneNote.answeredByLearnedRow} are answered by the learned row`)

  // Casual notes: learn set 1, measure set 2.
  const set2 = await texts('test/fixtures/casual-notes/set-2.jsonl')
  const hamShare = (rs: { label: string }[]) => rs.filter((r) => r.label === 'ham').length / rs.length
  const set2Before = hamShare(await spam.classify(set2))
  await spam.learn((await texts('test/fixtures/casual-notes/set-1.jsonl')).map((text) => ({ text, label: 'ham' })))
  const set2After = hamShare(await spam.classify(set2))
  spam.resetEdits()
  console.log(`casual notes set 2: ${(100 * set2Before).toFixed(1)}% ham before learning set 1, ${(100 * set2After).toFixed(1)}% after`)
  return { spam: spamTrust.ood, spamCoverage: spamTrust.coverage, langid: langidTrust.ood, langidCoverage: langidTrust.coverage, oneNote, casualNotes: { before: set2Before, after: set2After } }
}
const measured = values['only-cost'] ? undefined : await measureTrust()

/** p50 ms of one text per call, novelty on and off alternating (same process, same texts). */
async function cost(bundle: string, n: number): Promise<{ on: number; off: number; ratio: number }> {
  const on = await loadClassifier(bundle)
  const { ResMemClassifier } = await import('../../src/classifier.ts')
  const { nodeOrt, nodeIndexFactory } = await import('../../src/node/index.ts')
  const off = await ResMemClassifier.create(on.bundle, { ort: nodeOrt, createIndex: nodeIndexFactory(), novelty: false })
  const sample = spamTest.slice(0, n).map((e) => e.text)
  for (const t of sample.slice(0, 20)) await Promise.all([on.classify([t]), off.classify([t])])
  const times = { on: [] as number[], off: [] as number[] }
  for (const [i, t] of sample.entries()) {
    for (const which of i % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      const c = which === 'on' ? on : off
      const t0 = performance.now()
      await c.classify([t])
      times[which].push(performance.now() - t0)
    }
  }
  const r = { on: median(times.on), off: median(times.off), ratio: 0 }
  r.ratio = r.on / r.off
  return r
}
const costs: Record<string, { on: number; off: number; ratio: number }> = {}
if (!values['skip-cost']) {
  const n = Number(values.texts)
  costs.spam = await cost('artifacts/spam', n)
  const dir = mkdtempSync(join(tmpdir(), 'resmem-trust-'))
  try {
    const synthetic = await writeSyntheticBundle('artifacts/spam', join(dir, 'synthetic'), 100_000)
    costs['100k x 384'] = await cost(synthetic.dir, n)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  for (const [k, c] of Object.entries(costs)) console.log(`novelty cost ${k}: p50 on ${c.on.toFixed(2)} ms, off ${c.off.toFixed(2)} ms, ratio ${c.ratio.toFixed(3)}`)
}
await mkdir('out', { recursive: true })
await writeFile(values['only-cost'] ? 'out/trust-cost.json' : 'out/trust.json', JSON.stringify({ ...measured, costs }, null, 2) + '\n')
