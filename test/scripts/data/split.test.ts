import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CliError } from '../../../scripts/cli/errors.ts'
import type { LabelledExample } from '../../../scripts/data/example.ts'
import { mulberry32, shuffled } from '../../../scripts/data/random.ts'
import { allocate, parseSeed, parseSplit, stratifiedSplit } from '../../../scripts/data/split.ts'

function make(counts: Record<string, number>): LabelledExample[] {
  return Object.entries(counts).flatMap(([label, n]) => Array.from({ length: n }, (_, i) => ({ text: `${label} ${i}`, label })))
}

describe('mulberry32', () => {
  it('is a fixed sequence for a seed, different for another seed', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const seq = [a(), a(), a()]
    expect([b(), b(), b()]).toEqual(seq)
    expect(seq[0]).toBe(0.6011037519201636)
    expect(mulberry32(43)()).not.toBe(seq[0])
    for (const x of seq) expect(x >= 0 && x < 1).toBe(true)
  })

  it('shuffles into a permutation and leaves the input alone', () => {
    const input = Array.from({ length: 50 }, (_, i) => i)
    const out = shuffled(input, mulberry32(1))
    expect(input).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect([...out].sort((x, y) => x - y)).toEqual(input)
    expect(out).not.toEqual(input)
  })
})

describe('stratifiedSplit', () => {
  const data = make({ ham: 700, spam: 300, rare: 10 })

  it('gives the same splits for the same seed and different ones for another seed', () => {
    const a = stratifiedSplit(data, [0.7, 0.1, 0.2], 42)
    const b = stratifiedSplit(data, [0.7, 0.1, 0.2], 42)
    const c = stratifiedSplit(data, [0.7, 0.1, 0.2], 7)
    expect(b).toEqual(a)
    expect(c.test).not.toEqual(a.test)
  })

  it('keeps each label near its share in every split', () => {
    const s = stratifiedSplit(data, [0.7, 0.1, 0.2], 42)
    const count = (xs: LabelledExample[], l: string) => xs.filter((x) => x.label === l).length
    expect([count(s.train, 'ham'), count(s.val, 'ham'), count(s.test, 'ham')]).toEqual([490, 70, 140])
    expect([count(s.train, 'spam'), count(s.val, 'spam'), count(s.test, 'spam')]).toEqual([210, 30, 60])
    expect([count(s.train, 'rare'), count(s.val, 'rare'), count(s.test, 'rare')]).toEqual([7, 1, 2])
  })

  it('puts every example in exactly one split, for any sizes and fractions', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 3, max: 60 }), { minKeys: 1 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (counts, seed) => {
          const xs = make(counts)
          const s = stratifiedSplit(xs, [0.7, 0.1, 0.2], seed)
          const all = [...s.train, ...s.val, ...s.test].map((x) => x.text).sort()
          expect(all).toEqual(xs.map((x) => x.text).sort())
          for (const label of Object.keys(counts)) {
            for (const part of [s.train, s.val, s.test]) expect(part.some((x) => x.label === label)).toBe(true)
          }
        },
      ),
      { numRuns: 100 },
    )
  })

  it('mixes labels inside a split rather than writing them in blocks', () => {
    const s = stratifiedSplit(data, [0.7, 0.1, 0.2], 42)
    expect(new Set(s.train.slice(0, 20).map((x) => x.label)).size).toBeGreaterThan(1)
  })

  it('refuses labels with fewer examples than non-empty splits, naming them', () => {
    expect(() => stratifiedSplit(make({ a: 10, b: 2 }), [0.7, 0.1, 0.2], 1)).toThrow(CliError)
    expect(() => stratifiedSplit(make({ a: 10, b: 2 }), [0.7, 0.1, 0.2], 1)).toThrow(/"b" \(2\)/)
    // With no validation split, two examples are enough.
    expect(() => stratifiedSplit(make({ a: 10, b: 2 }), [0.8, 0, 0.2], 1)).not.toThrow()
  })
})

describe('allocate', () => {
  it('rounds by largest remainder and gives each non-empty split at least one', () => {
    expect(allocate(10, [0.7, 0.1, 0.2])).toEqual([7, 1, 2])
    expect(allocate(3, [0.7, 0.1, 0.2])).toEqual([1, 1, 1])
    expect(allocate(5, [0.7, 0.1, 0.2])).toEqual([3, 1, 1])
    expect(allocate(4, [0.8, 0, 0.2])).toEqual([3, 0, 1])
  })
})

describe('parseSplit / parseSeed', () => {
  it('accepts fractions that sum to 1 and rejects the rest', () => {
    expect(parseSplit('0.8, 0.1, 0.1')).toEqual([0.8, 0.1, 0.1])
    expect(parseSplit('0.8,0,0.2')).toEqual([0.8, 0, 0.2])
    expect(() => parseSplit('0.7,0.2')).toThrow(/three/)
    expect(() => parseSplit('0.7,0.2,0.2')).toThrow(/sum to 1/)
    expect(() => parseSplit('1,0,0')).toThrow(/test/)
    expect(() => parseSplit('0.7,x,0.3')).toThrow(CliError)
  })

  it('accepts 32-bit integers only', () => {
    expect(parseSeed('7')).toBe(7)
    expect(() => parseSeed('-1')).toThrow(CliError)
    expect(() => parseSeed('1.5')).toThrow(CliError)
    expect(() => parseSeed('4294967296')).toThrow(CliError)
  })
})
