import { beforeAll, describe, expect, it } from 'vitest'
import { loadClassifier } from '../../src/node/index.ts'
import type { ResMemClassifier } from '../../src/classifier.ts'
import { MemoryEditError } from '../../src/memory/edits.ts'

// artifacts/spam is built by `npm test`'s pretest step (build-defaults --if-missing).
const BUNDLE = 'artifacts/spam'
const NOTE = 'hi Tom, can we move our meeting to Thursday?'

describe('learn and forget in the Node library (real spam model, SIMD kernel)', () => {
  let classifier: ResMemClassifier

  // The tuned k, asked for explicitly: the shipped memory may be off (served k = 0, manifest memory.decision),
  // and a learned row answers only in a search that has neighbours.
  let withMemory: { explain: true; params: { k: number } }

  beforeAll(async () => {
    classifier = await loadClassifier(BUNDLE, { kernel: 'simd' })
    withMemory = { explain: true, params: { k: classifier.bundle.manifest.tuning.best.k } }
  })

  it('a learned example is its own nearest neighbour, moves the answer toward its label, and forgetting undoes it exactly', async () => {
    const [before] = await classifier.classify([NOTE], withMemory)
    const [id] = await classifier.learn([{ text: NOTE, label: 'ham' }])
    expect(id).toMatch(/^[1-9]\d*$/)
    const [after] = await classifier.classify([NOTE], withMemory)
    expect(after.neighbors![0]).toMatchObject({ source: 'edit', id, label: 'ham' })
    expect(after.neighbors![0].similarity).toBeGreaterThan(0.99)
    const ham = (r: typeof before) => r.scores.find((s) => s.label === 'ham')!.score
    expect(ham(after)).toBeGreaterThan(ham(before))
    expect(after.base).toEqual(before.base)

    await classifier.forget([id])
    expect(await classifier.classify([NOTE], withMemory)).toEqual([before])
  })

  it('with the built memory off, the base model answers, and what is learned still moves it', async () => {
    const m = classifier.bundle.manifest
    if (m.memory.decision?.on !== false) return // this check is about a build whose memory val turned off
    const [before] = await classifier.classify([NOTE], { explain: true })
    expect(before.neighbors).toEqual([])
    expect(before.label).toBe(before.base.label)
    const [id] = await classifier.learn([{ text: NOTE, label: 'ham' }])
    const [after] = await classifier.classify([NOTE], { explain: true })
    // The learned row lies within the radius (src/resmem/locality.ts): it answers alone, the built rows stay off.
    expect(after.neighbors).toEqual([expect.objectContaining({ source: 'edit', id, label: 'ham', weight: 1 })])
    expect(after.label).toBe('ham')
    expect(after.scores.find((s) => s.label === 'ham')!.score).toBeGreaterThan(before.scores.find((s) => s.label === 'ham')!.score)
    await classifier.forget([id])
    expect(await classifier.classify([NOTE], { explain: true })).toEqual([before])
  })

  it('forgets a built row: it leaves every answer, and nothing else changes', async () => {
    const [before] = await classifier.classify([NOTE], withMemory)
    const top = before.neighbors![0]
    expect(top.source).toBe('built')
    await classifier.forget([`base:${top.row}`])
    const [after] = await classifier.classify([NOTE], withMemory)
    expect(after.neighbors!.map((n) => n.row)).not.toContain(top.row)
    // The rest keep their order and similarities; the next row moves up (weights renormalise over the new k).
    const rows = (r: typeof before) => r.neighbors!.map((n) => [n.row, n.similarity])
    expect(rows(after).slice(0, -1)).toEqual(rows(before).slice(1))
    await expect(classifier.forget([`base:${top.row}`])).rejects.toThrow(MemoryEditError)
  })

  it('refuses bad examples and unknown ids, naming them, and learns nothing', async () => {
    const size = classifier.edits!.size
    await expect(classifier.learn([{ text: 'ok', label: 'ham' }, { text: 'x', label: 'eggs' }])).rejects.toThrow(/examples\.1\.label: "eggs" is not a label of the model \(labels: ham, spam\)/)
    await expect(classifier.learn([{ text: '  ', label: 'ham' }])).rejects.toThrow(/examples\.0\.text/)
    await expect(classifier.forget(['12345'])).rejects.toThrow(/"12345" is not a row of this memory/)
    await expect(classifier.forget(['base:99999999'])).rejects.toThrow(/not a row/)
    await expect(classifier.forget(['nope'])).rejects.toThrow(/not a row/)
    expect(classifier.edits!.size).toBe(size)
  })

  it('never reuses a forgotten id: a stale id cannot forget another example', async () => {
    const [first] = await classifier.learn([{ text: NOTE, label: 'ham' }])
    await classifier.forget([first])
    const [second] = await classifier.learn([{ text: 'see you at the gym at six', label: 'ham' }])
    expect(second).not.toBe(first)
    // The stale id names nothing now: forgetting it again is refused, and the second example stays.
    await expect(classifier.forget([first])).rejects.toThrow(MemoryEditError)
    expect(classifier.holds({ kind: 'edit', id: Number(second) })).toBe(true)
    await classifier.forget([second])
  })
})
