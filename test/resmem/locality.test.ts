/**
 * The answer's small steps (src/resmem/locality.ts, novelty.ts, conformal.ts) as pure functions, against
 * brute-force statements of their contracts, for random inputs (fast-check).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Hit } from '../../src/memory/segments/types.ts'
import { conformalQuantile, nonconformity, predictionSet, storedNonconformities } from '../../src/resmem/conformal.ts'
import { localNeighbors, type LocalityRule } from '../../src/resmem/locality.ts'
import { NO_ROW_NOVELTY, fitNoveltyThreshold, isUnfamiliar, novelty } from '../../src/resmem/novelty.ts'

const hitOf = (similarity: number, order: number, learned: boolean, label: number): Hit => ({
  order,
  score: Math.round(similarity * 1e6),
  similarity,
  label,
  residual: Float32Array.of(label === 0 ? 1 : -1, label === 0 ? -1 : 1),
  source: learned ? 'edit' : 'built',
  ...(learned ? { id: order } : { row: order }),
})

/** Hits best first (score descending, then order ascending), as a segmented memory returns them. */
const hits = fc
  .array(fc.record({ similarity: fc.double({ min: -1, max: 1, noNaN: true }), learned: fc.boolean(), label: fc.integer({ min: 0, max: 1 }) }), { maxLength: 12 })
  .map((rows) => rows.map((r, i) => hitOf(r.similarity, i, r.learned, r.label)).sort((a, b) => b.score - a.score || a.order - b.order))
const rule = fc.record({ radius: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.constant(Infinity)), builtK: fc.integer({ min: 0, max: 12 }) })
const isLearned = (h: Hit) => h.source === 'edit'

describe('locality', () => {
  it('only rows within the radius count; the nearest learned one alone when there is one, else built rows of the k nearest', () => {
    fc.assert(
      fc.property(hits, rule, (list, r) => {
        const full: LocalityRule = { ...r, isLearned }
        const { neighbors, from } = localNeighbors(list, full)
        for (const n of neighbors) expect(1 - n.similarity).toBeLessThanOrEqual(r.radius)
        const learnedNear = list.filter((h) => isLearned(h) && 1 - h.similarity <= r.radius)
        if (learnedNear.length) {
          expect(from).toBe('learned')
          const best = Math.max(...learnedNear.map((h) => h.score))
          // Of equally near learned rows, the latest (largest order) answers.
          expect(neighbors).toEqual([learnedNear.filter((h) => h.score === best).sort((a, b) => b.order - a.order)[0]])
        } else {
          const built = list.slice(0, r.builtK).filter((h) => !isLearned(h) && 1 - h.similarity <= r.radius)
          expect(neighbors).toEqual(built)
          expect(from).toBe(built.length ? 'built' : 'base')
        }
      }),
      { numRuns: 500 },
    )
  })

  it('with the built memory off and every learned row beyond the radius, no row counts', () => {
    fc.assert(
      fc.property(hits, fc.double({ min: 0, max: 2, noNaN: true }), (list, radius) => {
        const far = list.filter((h) => !isLearned(h) || 1 - h.similarity > radius)
        expect(localNeighbors(far, { radius, builtK: 0, isLearned })).toEqual({ neighbors: [], from: 'base' })
      }),
    )
  })
})

describe('novelty', () => {
  it('is the cosine distance to the nearest hit; 2 for a memory with no row', () => {
    fc.assert(
      fc.property(hits, (list) => {
        expect(novelty(list)).toBe(list.length ? Math.max(0, 1 - list[0].similarity) : NO_ROW_NOVELTY)
      }),
    )
  })

  it('the fitted threshold leaves at least the stated share familiar, and is the smallest that does', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (values, share) => {
        const t = fitNoveltyThreshold(values, share)
        const familiar = values.filter((v) => !isUnfamiliar(v, t)).length
        expect(familiar).toBeGreaterThanOrEqual(Math.ceil(share * values.length))
        const below = values.filter((v) => v < t).length
        expect(below).toBeLessThan(Math.ceil(share * values.length))
      }),
    )
  })
})

describe('conformal sets (LAC)', () => {
  it('the quantile is the ceil((n+1)(1-alpha))-th smallest score, Infinity past n', () => {
    expect(conformalQuantile([0.1, 0.2, 0.3, 0.4], 0.5)).toBe(0.3) // ceil(5 * 0.5) = 3
    expect(conformalQuantile([0.1, 0.2, 0.3, 0.4], 0.1)).toBe(Infinity) // ceil(4.5) = 5 > 4
    expect(() => conformalQuantile([0.1], 0)).toThrow(/alpha/)
    expect(predictionSet([{ label: 'a', score: 0.7 }, { label: 'b', score: 0.3 }], 0.5)).toEqual(['a'])
    expect(predictionSet([{ label: 'a', score: 0.7 }, { label: 'b', score: 0.3 }], Infinity)).toEqual(['a', 'b'])
  })

  it('covers a fresh exchangeable draw with probability >= 1 - alpha (and < 1 - alpha + 1/(n+1)), exactly over all orderings', () => {
    // For n calibration scores and one test score, exchangeable: the test one is equally likely at each of the
    // n + 1 ranks, so coverage is the share of ranks at which it falls in the set.
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 2, maxLength: 80 }), fc.double({ min: 0.01, max: 0.5, noNaN: true }), (ints, alpha) => {
        const all = ints.map((v) => v / 1e6)
        let covered = 0
        for (let held = 0; held < all.length; held++) {
          const calibration = all.filter((_, i) => i !== held).sort((a, b) => a - b)
          if (all[held] <= conformalQuantile(calibration, alpha)) covered++
        }
        const n = all.length - 1
        expect(covered / all.length).toBeGreaterThanOrEqual(1 - alpha - 1e-12)
        if (Math.ceil((n + 1) * (1 - alpha)) <= n) expect(covered / all.length).toBeLessThan(1 - alpha + 1 / (n + 1) + 1e-12)
      }),
    )
  })

  it('stored scores are rounded up: a set from them holds every label the exact scores would', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 0.9, noNaN: true }), (scores, test, alpha) => {
        const exact = scores.map(nonconformity).sort((a, b) => a - b)
        const stored = storedNonconformities(scores.map(nonconformity))
        expect(conformalQuantile(stored, alpha)).toBeGreaterThanOrEqual(conformalQuantile(exact, alpha))
        const labels = [{ label: 'a', score: test }, { label: 'b', score: 1 - test }]
        for (const l of predictionSet(labels, conformalQuantile(exact, alpha))) expect(predictionSet(labels, conformalQuantile(stored, alpha))).toContain(l)
      }),
    )
  })
})
