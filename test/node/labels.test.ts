/**
 * Labels that live in the memory, in the Node library on the shipped spam build (real model, SIMD kernel): the
 * math of src/memory/labels.ts as properties. Base probabilities are padded with zeros for a memory label, so a
 * text its rows do not reach answers exactly as before it was added; built rows keep answering. Which rows reach
 * a text is decided here from a raw scan of the whole memory (SegmentedMemory.search), not by the code under test.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ResMemClassifier } from '../../src/classifier.ts'
import { LabelError } from '../../src/memory/labels.ts'
import { loadClassifier } from '../../src/node/index.ts'
import type { Classification } from '../../src/types.ts'

const BUNDLE = 'artifacts/spam'
const NEW = 'meeting'
const jsonl = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string })
const NOTES = [...jsonl('test/fixtures/casual-notes/set-1.jsonl'), ...jsonl('test/fixtures/casual-notes/set-2.jsonl')].map((e) => e.text)
const MAILS = jsonl('data/spam/test.jsonl').slice(0, 80).map((e) => e.text)

/** An answer without the new label (whose score is checked to be 0 on its own). */
const withoutNew = (r: Classification) => ({
  label: r.label,
  score: r.score,
  scores: r.scores.filter((s) => s.label !== NEW),
  base: { ...r.base, scores: r.base.scores.filter((s) => s.label !== NEW) },
  set: r.set,
  unfamiliar: r.unfamiliar,
  neighbors: r.neighbors,
})

let classifier: ResMemClassifier
let radius: number
let builtK: number

beforeAll(async () => {
  classifier = await loadClassifier(BUNDLE, { kernel: 'simd' })
  radius = classifier.bundle.manifest.locality!.radius
  builtK = classifier.bundle.manifest.tuning.best.k
})

/** The rows of `label` among a text's `n` nearest (n = all rows: every one), with their cosine distances. */
async function rowsOf(text: string, n: number): Promise<number[]> {
  const { outputs } = await classifier.embed([text])
  const id = classifier.labelSet.idOf(NEW)
  const hits = await classifier.memory.search(outputs[0].embedding, n)
  return hits.filter((h) => h.source === 'edit' && h.label === id).map((h) => 1 - h.similarity)
}

async function teach(notes: string[]): Promise<void> {
  classifier.resetEdits()
  classifier.addLabel(NEW)
  await classifier.learn(notes.map((text) => ({ text, label: NEW })))
}

describe('a label added to the memory (Node library, spam build)', () => {
  it('padding, not retraining: a text no new row lies within the radius of answers as before, bit for bit (random taught sets)', async () => {
    let far = 0
    await fc.assert(
      fc.asyncProperty(fc.subarray(NOTES, { minLength: 1, maxLength: 6 }), fc.subarray([...MAILS, ...NOTES], { minLength: 1, maxLength: 20 }), async (notes, texts) => {
        classifier.resetEdits()
        // Same texts in the same batch: onnxruntime's numbers depend on the batch's padding.
        const before = await classifier.classify(texts)
        await teach(notes)
        const after = await classifier.classify(texts)
        for (const [i, text] of texts.entries()) {
          if ((await rowsOf(text, classifier.bundle.memory.rows + classifier.edits!.size)).some((d) => d <= radius)) continue
          far++
          expect(after[i].scores.find((s) => s.label === NEW)!.score).toBe(0)
          expect(after[i].base.scores.find((s) => s.label === NEW)!.score).toBe(0)
          const { unfamiliar: _u, ...same } = withoutNew(after[i])
          const { unfamiliar: _b, ...was } = withoutNew(before[i])
          expect(same).toEqual(was)
        }
      }),
      { numRuns: 6, seed: 20261217 },
    )
    expect(far).toBeGreaterThan(0)
    classifier.resetEdits()
  })

  it('built rows keep answering (k = the tuned k, built memory counted) for a text none of whose nearest rows is a new one', async () => {
    const params = { k: builtK }
    let counted = 0
    await fc.assert(
      fc.asyncProperty(fc.subarray(NOTES, { minLength: 1, maxLength: 6 }), fc.subarray(MAILS, { minLength: 1, maxLength: 16 }), async (notes, texts) => {
        classifier.resetEdits()
        const before = await classifier.classify(texts, { explain: true, params })
        await teach(notes)
        const after = await classifier.classify(texts, { explain: true, params })
        for (const [i, text] of texts.entries()) {
          if ((await rowsOf(text, builtK)).length > 0) continue
          if (before[i].neighbors!.length > 0) counted++
          expect(withoutNew(after[i])).toEqual(withoutNew(before[i]))
        }
      }),
      { numRuns: 5, seed: 20261218 },
    )
    // Built rows answered some of these texts: the property is about them, not only the base model.
    expect(counted).toBeGreaterThan(0)
    classifier.resetEdits()
  })

  it('a taught text answers the new label; removing the label forgets its rows and gives back every answer', async () => {
    classifier.resetEdits()
    const texts = [...NOTES.slice(0, 3), ...MAILS.slice(0, 5)]
    const before = await classifier.classify(texts, { explain: true })
    classifier.addLabel(NEW)
    expect(classifier.servedLabels()).toEqual([{ label: 'ham', source: 'model' }, { label: 'spam', source: 'model' }, { label: NEW, source: 'memory' }])
    const ids = await classifier.learn(NOTES.slice(0, 3).map((text) => ({ text, label: NEW })))
    const taught = await classifier.classify(NOTES.slice(0, 3), { explain: true })
    for (const r of taught) {
      expect(r.label).toBe(NEW)
      expect(r.neighbors![0]).toMatchObject({ source: 'edit', label: NEW })
      expect(r.base.scores.find((s) => s.label === NEW)!.score).toBe(0)
    }
    expect(classifier.removeLabel(NEW)).toEqual({ label: NEW, forgotten: 3 })
    expect(await classifier.classify(texts, { explain: true })).toEqual(before)
    await expect(classifier.forget([ids[0]])).rejects.toThrow(/not a row/)
    // Gone, it cannot be taught; added again, it starts empty.
    await expect(classifier.learn([{ text: NOTES[0], label: NEW }])).rejects.toThrow(/"meeting" is not a label/)
    classifier.addLabel(NEW)
    expect((await classifier.classify([NOTES[0]]))[0].label).toBe(before[0].label)
    classifier.resetEdits()
    expect(classifier.servedLabels().map((l) => l.label)).toEqual(['ham', 'spam'])
  })

  it('names and limits: LabelError with a code', () => {
    classifier.resetEdits()
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        return err instanceof LabelError ? err.code : String(err)
      }
      return 'no error'
    }
    expect(code(() => classifier.addLabel('two words'))).toBe('invalid_label')
    expect(code(() => classifier.addLabel('x'.repeat(65)))).toBe('invalid_label')
    expect(code(() => classifier.addLabel('ham'))).toBe('label_exists')
    expect(code(() => classifier.removeLabel('spam'))).toBe('model_label')
    expect(code(() => classifier.removeLabel('nope'))).toBe('not_found')
    classifier.addLabel('a', 2)
    classifier.addLabel('b', 2)
    expect(code(() => classifier.addLabel('c', 2))).toBe('labels_full')
    classifier.resetEdits()
  })
})
