import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { createReferenceIndex, createWasmIndex, MAX_DIM, type KnnIndex } from '../../src/knn/index.ts'
import { loadKernels, type Kernels } from './kernels.ts'
import { bruteTopK, int8Rows, type Fill } from './oracle.ts'

let kernels: Kernels
beforeAll(async () => {
  kernels = await loadKernels()
})

function allIndexes(keys: Int8Array, n: number, d: number): KnnIndex[] {
  return [
    createReferenceIndex(keys, n, d),
    createWasmIndex(kernels.scalar, keys, n, d, 'scalar'),
    createWasmIndex(kernels.simd, keys, n, d, 'simd'),
  ]
}

/** Every kernel gives the brute-force answer, rows and dots, in order. */
function expectAllExact(indexes: KnnIndex[], keys: Int8Array, query: Int8Array, k: number): void {
  const { rows: n, dim: d } = indexes[0]
  const want = bruteTopK(keys, n, d, query, k)
  for (const index of indexes) {
    const got = index.search(query, k)
    expect({ kind: index.kind, rows: [...got.rows], dots: [...got.dots] }).toEqual({ kind: index.kind, ...want })
  }
}

const fills: Fill[] = ['uniform', 'extremes', 'ternary', 'constant', 'duplicates']

describe('k-NN kernels: SIMD == scalar == reference == brute force', () => {
  it('random sizes, any d (tails of d % 16 and d % 8), k up to past n, ties and extremes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 300 })),
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom(...fills),
        fc.constantFrom(...fills),
        fc.integer(),
        (n, d, k, keyFill, queryFill, seed) => {
          const keys = int8Rows(n, d, keyFill, seed)
          const indexes = allIndexes(keys, n, d)
          for (let q = 0; q < 3; q++) expectAllExact(indexes, keys, int8Rows(1, d, queryFill, seed + 1 + q), k)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('keys and query as fast-check draws them (shrinks to a small counterexample)', () => {
    const case_ = fc
      .record({ n: fc.integer({ min: 0, max: 40 }), d: fc.integer({ min: 1, max: 40 }), k: fc.integer({ min: 1, max: 50 }) })
      .chain(({ n, d, k }) =>
        fc.record({
          n: fc.constant(n),
          d: fc.constant(d),
          k: fc.constant(k),
          keys: fc.int8Array({ minLength: n * d, maxLength: n * d }),
          query: fc.int8Array({ minLength: d, maxLength: d }),
        }),
      )
    fc.assert(
      fc.property(case_, ({ n, d, k, keys, query }) => expectAllExact(allIndexes(keys, n, d), keys, query, k)),
      { numRuns: 1000 },
    )
  })

  it('large k: 256, past 256, and k = n on 5000 rows', () => {
    const n = 5000
    const d = 77
    const keys = int8Rows(n, d, 'ternary', 7)
    const indexes = allIndexes(keys, n, d)
    for (const k of [256, 257, 1000, n, n + 1, 1e9]) expectAllExact(indexes, keys, int8Rows(1, d, 'uniform', k), k)
  })

  it('grows memory between searches (small k, then large k, then small again)', () => {
    const n = 40_000
    const d = 16
    const keys = int8Rows(n, d, 'ternary', 3)
    const indexes = allIndexes(keys, n, d)
    for (const k of [1, 10, 20_000, 40_000, 5]) expectAllExact(indexes, keys, int8Rows(1, d, 'ternary', k), k)
  })

  it('largest dots stay exact: d = MAX_DIM, all -128', () => {
    const n = 5
    const d = MAX_DIM
    const keys = new Int8Array(n * d).fill(-128)
    keys.fill(127, 2 * d, 3 * d) // row 2: 127*-128 per element, the most negative dot
    const query = new Int8Array(d).fill(-128)
    const indexes = allIndexes(keys, n, d)
    for (const index of indexes) {
      const got = index.search(query, n)
      expect([...got.rows]).toEqual([0, 1, 3, 4, 2])
      expect([...got.dots]).toEqual([2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30, -127 * 128 * MAX_DIM])
    }
  })

  it('no rows: an empty result, not an error', () => {
    for (const index of allIndexes(new Int8Array(0), 0, 8)) {
      const got = index.search(new Int8Array(8), 3)
      expect(got.rows.length).toBe(0)
      expect(got.dots.length).toBe(0)
    }
  })

  it('results are copies: a later search does not change an earlier result', () => {
    const keys = int8Rows(100, 32, 'uniform', 5)
    for (const index of allIndexes(keys, 100, 32)) {
      const first = index.search(int8Rows(1, 32, 'uniform', 1), 4)
      const saved = [...first.rows]
      index.search(int8Rows(1, 32, 'uniform', 2), 4)
      expect([...first.rows]).toEqual(saved)
    }
  })
})
