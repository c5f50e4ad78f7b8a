import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { scanFloat32 } from '../../src/knn/index.ts'
import { random } from './oracle.ts'

/** float64 dots and a full sort, as the contract states. */
function bruteFloat(keys: Float32Array, n: number, d: number, query: Float32Array, k: number) {
  const dots: number[] = []
  for (let r = 0; r < n; r++) {
    let s = 0
    for (let j = 0; j < d; j++) s += keys[r * d + j] * query[j]
    dots.push(Number.isNaN(s) ? -Infinity : s)
  }
  const order = dots.map((_, r) => r).sort((a, b) => (dots[a] === dots[b] ? a - b : dots[b] > dots[a] ? 1 : -1))
  const top = order.slice(0, Math.min(k, n))
  return { rows: top, sims: top.map((r) => Math.fround(dots[r])) }
}

describe('scanFloat32', () => {
  it('matches a full sort; ties by lower row', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.integer(),
        (n, d, k, coarse, seed) => {
          const next = random(seed)
          // coarse: values in {-1, 0, 1}, so many dots tie exactly.
          const draw = () => (coarse ? Math.floor(next() * 3) - 1 : next() * 2 - 1)
          const keys = Float32Array.from({ length: n * d }, draw)
          const query = Float32Array.from({ length: d }, draw)
          const got = scanFloat32(keys, n, d, query, k)
          const want = bruteFloat(keys, n, d, query, k)
          expect({ rows: [...got.rows], sims: [...got.sims] }).toEqual(want)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('returns min(k, n) rows even when dots are -Infinity or NaN (NaN ranks last)', () => {
    // Row 0 dots to NaN, row 1 to -Infinity, row 2 to 2; the two last tie, so the lower row first.
    const keys = Float32Array.from([Number.NaN, 1, -Infinity, 0, 2, 0])
    const got = scanFloat32(keys, 3, 2, Float32Array.from([1, 0]), 3)
    expect([...got.rows]).toEqual([2, 0, 1])
    expect([...got.sims]).toEqual([2, -Infinity, -Infinity])
  })
})
