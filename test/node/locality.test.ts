/**
 * Locality, novelty and prediction sets in the Node library, on the shipped spam build (real model, SIMD kernel):
 * the properties of src/resmem/locality.ts as a user sees them. Which learned rows lie within the radius is
 * decided here from a raw scan of the whole memory (SegmentedMemory.search), not by the code under test.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { ResMemClassifier } from '../../src/classifier.ts'
import type { Bundle } from '../../src/bundle/load.ts'
import { sha256Hex } from '../../src/memory/checksum.ts'
import type { EditOp } from '../../src/memory/edits.ts'
import { foldEdits } from '../../src/memory/fold.ts'
import { writeMemory } from '../../src/memory/format.ts'
import { loadClassifier, nodeIndexFactory, nodeOrt } from '../../src/node/index.ts'
import type { Classification } from '../../src/types.ts'

const BUNDLE = 'artifacts/spam'
const jsonl = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string })
const SET_1 = jsonl('test/fixtures/casual-notes/set-1.jsonl').map((e) => e.text)
const SET_2 = jsonl('test/fixtures/casual-notes/set-2.jsonl').map((e) => e.text)
// Test mails, the first of the split (a fixed sample keeps the run short).
const MAILS = jsonl('data/spam/test.jsonl').slice(0, 120).map((e) => e.text)

/** What must not move: label, scores and their calibration (the base prediction with them). */
const answer = (r: Classification) => ({ label: r.label, score: r.score, scores: r.scores, base: r.base, truncated: r.truncated })
const hamShare = (rs: Classification[]) => rs.filter((r) => r.label === 'ham').length / rs.length

let classifier: ResMemClassifier
let radius: number

beforeAll(async () => {
  classifier = await loadClassifier(BUNDLE, { kernel: 'simd' })
  radius = classifier.bundle.manifest.locality!.radius
})

/**
 * Which of `texts` have a learned row within the radius, from a scan of every row of the memory. The texts are
 * embedded in one call, as classify embeds them: onnxruntime's numbers depend on the batch's padding, so a text
 * embedded alone can land on the other side of the radius (a fresh-clone run failed so with a random seed).
 */
async function learnedWithin(texts: readonly string[]): Promise<boolean[]> {
  const { outputs } = await classifier.embed(texts)
  const all = classifier.bundle.memory.rows + classifier.edits!.size
  const within: boolean[] = []
  for (const out of outputs) {
    for (let b = 0; b < out.batch; b++) {
      const hits = await classifier.memory.search(out.embedding.subarray(b * out.dim, (b + 1) * out.dim), all)
      within.push(hits.some((h) => h.source === 'edit' && 1 - h.similarity <= radius))
    }
  }
  return within
}

async function fresh(): Promise<void> {
  classifier.resetEdits()
}

describe('locality in the Node library (spam build, memory off as val decided)', () => {
  it('the build says what is served: memory off, a radius and a novelty threshold fitted on val', () => {
    const m = classifier.bundle.manifest
    expect(m.memory.decision?.on).toBe(false)
    expect(m.resmem.k).toBe(0)
    expect(m.locality).toMatchObject({ split: 'val', distance: 'cosine' })
    expect(m.locality!.radius).toBeGreaterThan(m.locality!.novelty.threshold)
    expect(m.conformal!.nonconformity).toHaveLength(m.tuning.examples)
  })

  it('a text farther than the radius from every learned row gets the base answer bit for bit (random learned sets)', async () => {
    let far = 0
    await fc.assert(
      fc.asyncProperty(fc.subarray([...SET_1, ...SET_2], { minLength: 1, maxLength: 6 }), fc.subarray([...MAILS, ...SET_2], { minLength: 1, maxLength: 20 }), async (notes, texts) => {
        await fresh()
        // Same texts in the same batch: onnxruntime's numbers depend on the batch's padding.
        const before = await classifier.classify(texts)
        for (const r of before) expect(r.scores).toEqual(r.base.scores)
        await classifier.learn(notes.map((text) => ({ text, label: 'ham' })))
        const after = await classifier.classify(texts, { explain: true })
        const within = await learnedWithin(texts)
        for (const i of texts.keys()) {
          if (within[i]) continue
          far++
          expect(answer(after[i])).toEqual(answer(before[i]))
          expect(after[i].neighbors).toEqual([])
        }
      }),
      // A fixed seed keeps npm test the same every day; LOCALITY_SEED (a number, or "random") and LOCALITY_RUNS search further.
      { numRuns: Number(process.env.LOCALITY_RUNS ?? 6), ...(process.env.LOCALITY_SEED === 'random' ? {} : { seed: Number(process.env.LOCALITY_SEED ?? 20261206) }) },
    )
    expect(far).toBeGreaterThan(0)
    await fresh()
  })

  it('a learned text classified again gets the label it was taught, whatever its base answer (random labels)', async () => {
    const pool = [...SET_1.slice(0, 10), ...MAILS.slice(0, 10)]
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 1, maxLength: 6 }), fc.array(fc.constantFrom('ham', 'spam'), { minLength: 6, maxLength: 6 }), async (picks, labels) => {
        await fresh()
        const taught = picks.map((i, j) => ({ text: pool[i], label: labels[j] }))
        await classifier.learn(taught)
        const again = await classifier.classify(taught.map((e) => e.text), { explain: true })
        again.forEach((r, j) => {
          expect(r.label, taught[j].text).toBe(taught[j].label)
          expect(r.neighbors).toHaveLength(1)
          expect(r.neighbors![0]).toMatchObject({ source: 'edit', label: taught[j].label })
        })
      }),
      { numRuns: 8 },
    )
    await fresh()
  })

  it('a near duplicate of a learned text gets its label too; taught two labels, the later one answers', async () => {
    await fresh()
    const text = 'Hi Tom, can we move our meeting to Thursday?'
    const [before] = await classifier.classify([text])
    expect(before.label).toBe('spam')
    await classifier.learn([{ text, label: 'ham' }])
    const [same, near] = await classifier.classify([text, 'Hi Tom, could we move our meeting to Thursday?'])
    expect(same.label).toBe('ham')
    expect(near.label).toBe('ham')
    const [id] = await classifier.learn([{ text, label: 'spam' }])
    expect((await classifier.classify([text], { explain: true }))[0]).toMatchObject({ label: 'spam', neighbors: [{ id, label: 'spam' }] })
    await classifier.forget([id])
    expect((await classifier.classify([text]))[0].label).toBe('ham')
    await fresh()
  })

  it('casual notes: learning set 1 turns at least 80% of set 2 ham; forgetting it gives back every answer exactly', async () => {
    await fresh()
    const before = await classifier.classify(SET_2)
    const ids = await classifier.learn(SET_1.map((text) => ({ text, label: 'ham' })))
    const after = await classifier.classify(SET_2)
    expect(hamShare(after)).toBeGreaterThanOrEqual(0.8)
    expect(hamShare(after)).toBeGreaterThan(hamShare(before))
    await classifier.forget(ids)
    expect(await classifier.classify(SET_2)).toEqual(before)
  })
})

/** The spam bundle with `ops` folded into memory.bin, and the built memory served at `k`. */
async function folded(bundle: Bundle, ops: EditOp[], k: number): Promise<Bundle> {
  const f = foldEdits(bundle.memory, ops, await sha256Hex(await writeMemory(bundle.memory)), { log: 'test' })
  const manifest = { ...bundle.manifest, resmem: { ...bundle.manifest.resmem, k }, memory: { ...bundle.manifest.memory, rows: f.memory.rows }, edits: f.edits }
  return { ...bundle, memory: f.memory, manifest, index: undefined }
}

describe('folding learned rows into a build answers as serving them as edits', () => {
  for (const on of [false, true]) {
    it(`bit-identical labels, scores, novelty, sets, neighbours and ids, built memory ${on ? 'on' : 'off'}`, async () => {
      await fresh()
      const bundle = classifier.bundle
      const k = on ? bundle.manifest.tuning.best.k : 0
      const rows = await classifier.encode([...SET_1.slice(0, 8), MAILS[0]].map((text) => ({ text, label: 'ham' })))
      const ops: EditOp[] = rows.map(({ truncated: _, clamped: __, ...row }, i) => ({ version: i + 1, op: 'add', row }))
      ops.push({ version: ops.length + 1, op: 'forget', target: { kind: 'edit', id: 2 } }, { version: ops.length + 2, op: 'forget', target: { kind: 'base', row: 5 } })
      const live = await ResMemClassifier.create({ ...bundle, manifest: { ...bundle.manifest, resmem: { ...bundle.manifest.resmem, k } }, index: undefined }, { ort: nodeOrt, createIndex: nodeIndexFactory('simd') })
      live.applyEdits(ops)
      const fold = await ResMemClassifier.create(await folded(bundle, ops, k), { ort: nodeOrt, createIndex: nodeIndexFactory('simd') })
      const texts = [...SET_1.slice(0, 10), ...SET_2.slice(0, 5), ...MAILS.slice(0, 20)]
      const a = await live.classify(texts, { explain: true })
      const b = await fold.classify(texts, { explain: true })
      expect(b).toEqual(a)
      expect(a.filter((r) => r.neighbors!.some((n) => n.source === 'edit')).length).toBeGreaterThanOrEqual(7)
      if (on) expect(a.some((r) => r.neighbors!.some((n) => n.source === 'built'))).toBe(true)
    })
  }
})
