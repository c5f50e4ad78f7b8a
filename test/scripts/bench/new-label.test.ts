// The new-label bench's pure parts: which languages are held out, which sentences are taught at each n, how a
// row is computed from answers, which n reaches a recall, and that its targets are evaluated (or the run fails).
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LabelledExample } from '../../../scripts/data/index.ts'
import { concatSplits, knnLabels, pickRows } from '../../../scripts/bench/new-label/anchors.ts'
import { DEFAULT_HOLD_OUT, holdOut, parseHoldOut, teachSet, TEACH_COUNTS } from '../../../scripts/bench/new-label/hold-out.ts'
import { curveRow, newLabelChecks, newLabelConfusions, nReaching, oldAccuracy, type CurveRow } from '../../../scripts/bench/new-label/rows.ts'
import { evaluateTargets, uncheckedFailures } from '../../../scripts/bench/result.ts'
import type { EmbeddedSplit } from '../../../scripts/build/embed.ts'

const labels = (JSON.parse(readFileSync('data/langid/info.json', 'utf8')) as { labels: string[] }).labels
const train = readFileSync('data/langid/train.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LabelledExample)

describe('hold-out split', () => {
  it('holds out three langid languages whose close relatives stay in', () => {
    expect(DEFAULT_HOLD_OUT).toEqual(['gl', 'nn', 'af'])
    for (const relative of ['pt', 'es', 'nb', 'da', 'nl']) expect(labels).toContain(relative)
    const { kept, held } = holdOut(train, DEFAULT_HOLD_OUT, labels)
    expect(kept.length + held.length).toBe(train.length)
    expect(new Set(held.map((e) => e.label))).toEqual(new Set(DEFAULT_HOLD_OUT))
    expect(kept.some((e) => (DEFAULT_HOLD_OUT as readonly string[]).includes(e.label))).toBe(false)
  })

  it('refuses a label the data does not have, duplicates, none, and holding out all but one', () => {
    expect(() => holdOut(train, ['gl', 'xx'], labels)).toThrow(/xx not among the labels/)
    expect(() => holdOut(train, ['gl', 'gl'], labels)).toThrow(/distinct/)
    expect(() => holdOut(train, [], labels)).toThrow(/distinct/)
    expect(() => holdOut(train, labels.slice(1), labels)).toThrow(/two labels left/)
    expect(parseHoldOut(undefined)).toEqual(['gl', 'nn', 'af'])
    expect(parseHoldOut(' es, ca ,')).toEqual(['es', 'ca'])
  })

  it('teaches n per language, seeded, each set inside the next, all there is when a language has fewer', () => {
    const { held } = holdOut(train, DEFAULT_HOLD_OUT, labels)
    const have = Object.fromEntries(DEFAULT_HOLD_OUT.map((l) => [l, held.filter((e) => e.label === l).length]))
    let previous: typeof held = []
    for (const n of TEACH_COUNTS) {
      const set = teachSet(held, DEFAULT_HOLD_OUT, n)
      for (const l of DEFAULT_HOLD_OUT) expect(set.filter((e) => e.label === l).length).toBe(Math.min(n, have[l]))
      expect(new Set(set).size).toBe(set.length)
      for (const e of previous) expect(set).toContain(e)
      expect(teachSet(held, DEFAULT_HOLD_OUT, n)).toEqual(set)
      previous = set
    }
    // Every held-out language has fewer than 50 training sentences: n = 50 teaches them all.
    expect(Math.max(...Object.values(have))).toBeLessThan(50)
    expect(teachSet(held, DEFAULT_HOLD_OUT, 5, 1)).not.toEqual(teachSet(held, DEFAULT_HOLD_OUT, 5, 2))
  })
})

describe('curve rows', () => {
  const truth = ['gl', 'gl', 'nn', 'pt', 'pt', 'es', 'nb', 'da']
  it('computes recall, precision and old accuracy from the answers', () => {
    const predicted = ['gl', 'pt', 'nn', 'gl', 'pt', 'es', 'nn', null]
    const r = curveRow('resmem', 5, 15, { predicted, truth }, ['gl', 'nn'], 0.9)
    // New: gl, gl, nn -> 2 of 3 found; predicted new: gl, nn, gl, nn -> 2 right of 4; old: pt pt es nb da -> pt, es right.
    expect(r).toEqual({ method: 'resmem', n: 5, taught: 15, new_recall: 2 / 3, new_precision: 0.5, old_accuracy: 2 / 5, old_accuracy_before: 0.9 })
    expect(curveRow('knn', 1, 3, { predicted: truth.map(() => 'pt'), truth }, ['gl', 'nn'], 1).new_precision).toBeNull()
    expect(() => curveRow('knn', 1, 3, { predicted: ['pt'], truth }, ['gl'], 1)).toThrow(/1 answers for 8 texts/)
  })

  it('old accuracy ignores the new labels whatever is predicted for them (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'x', 'y'), { minLength: 1, maxLength: 40 }), fc.array(fc.constantFrom('a', 'b', 'x', 'y'), { minLength: 40, maxLength: 40 }), (t, p) => {
        const predicted = p.slice(0, t.length)
        const scrambled = predicted.map((q, i) => (t[i] === 'x' || t[i] === 'y' ? 'a' : q))
        expect(oldAccuracy({ predicted, truth: t }, ['x', 'y'])).toEqual(oldAccuracy({ predicted: scrambled, truth: t }, ['x', 'y']))
      }),
      { seed: 17 },
    )
  })

  const rows: CurveRow[] = [1, 2, 5, 10, 20, 50].map((n, i) => ({ method: 'resmem', n, taught: 3 * n, new_recall: [0.1, 0.3, 0.55, 0.7, 0.85, 0.95][i], new_precision: 1, old_accuracy: 0.95, old_accuracy_before: 0.953 }))
  it('finds the n reaching 50% and 80% recall, null when none does', () => {
    expect(nReaching(rows, 'resmem', 0.5)).toBe(5)
    expect(nReaching(rows, 'resmem', 0.8)).toBe(20)
    expect(nReaching(rows, 'resmem', 0.99)).toBeNull()
    expect(nReaching(rows, 'knn', 0.5)).toBeNull()
  })

  it('evaluates the targets at n = 20, and a new-label run without a resmem row there fails', () => {
    const targets = evaluateTargets({ newLabel: { rows } as never })
    expect(targets.map((t) => [t.section, t.pass])).toEqual([['new-label', true], ['new-label', true]])
    expect(targets[1].value).toBeCloseTo(0.3, 9)
    const dropped = rows.map((r) => (r.n === 20 ? { ...r, old_accuracy: 0.947 } : r))
    expect(evaluateTargets({ newLabel: { rows: dropped } as never }).map((t) => t.pass)).toEqual([true, false])
    expect(newLabelChecks(rows.filter((r) => r.n !== 20))).toEqual([])
    const anchorsOnly = { newLabel: { rows: rows.map((r) => ({ ...r, method: 'knn' as const })) } as never }
    expect(uncheckedFailures({ sections: ['new-label'], targets: evaluateTargets(anchorsOnly), failures: [] })).toHaveLength(1)
  })
})

describe('knn anchor', () => {
  // Two old rows and one taught row, 2-d keys; labels served = model labels then the new one.
  const split = (embeddings: number[], labelIds: number[]): EmbeddedSplit => ({ rows: labelIds.length, dim: 2, classes: 2, embeddings: Float32Array.from(embeddings), logits: new Float32Array(labelIds.length * 2), labels: Uint32Array.from(labelIds), truncated: 0 })
  it('votes with the taught rows at the served width', () => {
    const built = split([1, 0, 0, 1], [0, 1])
    const pool = split([0.7, 0.7, -1, 0], [2, 2])
    const memory = concatSplits([built, pickRows(pool, [0])], 3)
    expect(memory.rows).toBe(3)
    expect([...memory.labels]).toEqual([0, 1, 2])
    const test = split([0.71, 0.69, 1, 0.01, 0.01, 1], [2, 0, 1])
    expect(knnLabels(memory, test, { k: 1, sigma: 1 }, ['pt', 'es', 'gl'])).toEqual(['gl', 'pt', 'es'])
    expect(knnLabels(concatSplits([built], 3), test, { k: 1, sigma: 1 }, ['pt', 'es', 'gl'])[0]).not.toBe('gl')
  })
})

describe('confusions', () => {
  it('counts old-language texts answered with a new label, most first', () => {
    const truth = ['pt', 'pt', 'es', 'nb', 'gl', 'pt']
    const predicted = ['gl', 'gl', 'gl', 'nb', 'pt', null]
    expect(newLabelConfusions({ predicted, truth }, ['gl', 'nn'])).toEqual([{ truth: 'pt', predicted: 'gl', texts: 2 }, { truth: 'es', predicted: 'gl', texts: 1 }])
  })
})
