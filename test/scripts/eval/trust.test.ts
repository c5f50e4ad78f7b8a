/**
 * scripts/eval/trust.ts: AUROC and FPR at 95% TPR against brute force (fast-check), and the evaluation of the
 * shipped spam build on a slice of its test split against the casual notes, rendered into the report section.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { readLabelledJsonl } from '../../../scripts/data/index.ts'
import { auroc, evaluateTrust, fprAt95, readOodTexts } from '../../../scripts/eval/trust.ts'
import { renderTrust } from '../../../scripts/eval/trust-report.ts'
import { loadClassifier } from '../../../src/node/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'resmem-trust-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('OOD metrics', () => {
  it('AUROC is the share of (in, out) pairs ordered out above in, ties half', () => {
    const scores = fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(scores, scores, (neg, pos) => {
        let wins = 0
        for (const n of neg) for (const p of pos) wins += p > n ? 1 : p === n ? 0.5 : 0
        expect(auroc(neg, pos)).toBeCloseTo(wins / (neg.length * pos.length), 12)
      }),
    )
  })

  it('FPR at 95% TPR: the share of out at or under the in score that keeps 95% of in', () => {
    const inScores = Array.from({ length: 100 }, (_, i) => i) // 95% kept: threshold 94
    expect(fprAt95(inScores, [94, 95, 200, -1])).toBe(0.5)
    expect(fprAt95(inScores, [1000])).toBe(0)
  })

  it('--ood files: texts read, bad lines named', async () => {
    const good = join(dir, 'good.jsonl')
    writeFileSync(good, '{"text":"a"}\n\n{"text":"b","label":"x"}\n')
    expect(await readOodTexts(good)).toEqual(['a', 'b'])
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, '{"text":"a"}\n{"txt":"b"}\n')
    await expect(readOodTexts(bad)).rejects.toThrow(/bad\.jsonl: line 2: field "text"/)
    await expect(readOodTexts(join(dir, 'none.jsonl'))).rejects.toThrow(/none\.jsonl: cannot read/)
  })
})

describe('evaluateTrust on the shipped spam build', () => {
  it('novelty separates casual notes from test mails better than max-softmax; coverage rows per alpha and label; the report draws them', async () => {
    const classifier = await loadClassifier('artifacts/spam')
    const test = (await readLabelledJsonl('data/spam/test.jsonl')).slice(0, 200)
    const notes = (await readLabelledJsonl('test/fixtures/casual-notes/set-2.jsonl')).map((e) => e.text)
    const trust = await evaluateTrust(classifier, test, [{ name: 'notes', texts: notes }], [0.1, 0.05])
    const by = (score: string) => trust.ood.find((r) => r.score === score)!
    expect(by('novelty').auroc).toBeGreaterThan(0.9)
    expect(by('novelty').auroc).toBeGreaterThan(by('max-softmax').auroc)
    expect(by('novelty').flagged).toBeGreaterThanOrEqual(0.8)
    expect(trust.coverage.map((r) => `${r.alpha} ${r.label}`)).toEqual(['0.1 all', '0.1 ham', '0.1 spam', '0.05 all', '0.05 ham', '0.05 spam'])
    for (const r of trust.coverage) expect(r.coverage).toBeGreaterThan(0.7)
    // The sets evaluateTrust scores are the ones the classifier answers at that alpha.
    const answers = await classifier.classify(test.slice(0, 50).map((e) => e.text), { alpha: 0.05 })
    const covered = answers.filter((a, i) => a.set!.includes(test[i].label)).length
    const again = await evaluateTrust(classifier, test.slice(0, 50), [], [0.05])
    expect(again.coverage[0].coverage).toBe(covered / 50)
    const html = renderTrust(trust, classifier.bundle.manifest.locality!.novelty.threshold)
    expect(html).toContain('<svg')
    expect(html).toMatch(/notes<\/td><td>novelty/)
  })
})
