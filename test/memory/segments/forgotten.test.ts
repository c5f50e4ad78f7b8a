/**
 * Forgotten built rows: the search stays exact, what it asks a segment for does not grow with the number of
 * forgotten rows (only with those that rank among the nearest), and a forget made during a search never leaves
 * fewer than k rows.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { withoutForgotten, type Hit, type Query, type Segment } from '../../../src/memory/segments/index.ts'

/** A segment of `rows` rows ranked by row number (row 0 best), counting the rows it is asked for. */
function ranked(rows: number, later = false): Segment & { asked: number[] } {
  const asked: number[] = []
  const hit = (row: number): Hit => ({ order: row, score: rows - row, similarity: 0, label: 0, residual: new Float32Array(1), source: 'built', row })
  return {
    asked,
    search(_query: Query, k: number) {
      asked.push(k)
      const hits = Array.from({ length: Math.min(k, rows) }, (_, i) => hit(i))
      return later ? new Promise<Hit[]>((r) => setTimeout(() => r(hits), 1)) : hits
    },
  }
}

const query: Query = { vector: new Float32Array(1), int8: new Int8Array(1), scale: 1 }

describe('withoutForgotten', () => {
  it('answers the exact top-k of the rows that remain, asking for at most 2 (k + forgotten rows ranked above the k-th kept)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 32 }), fc.uniqueArray(fc.integer({ min: 0, max: 399 }), { maxLength: 400 }), (rows, k, drop) => {
        const segment = ranked(rows)
        const forgotten = new Set(drop.filter((r) => r < rows))
        const hits = withoutForgotten(segment, forgotten).search(query, k) as Hit[]
        const live = Array.from({ length: rows }, (_, i) => i).filter((i) => !forgotten.has(i))
        expect(hits.map((h) => h.order)).toEqual(live.slice(0, k))
        if (forgotten.size === 0) return
        const kth = hits.length === k ? hits[k - 1].order : rows
        const above = [...forgotten].filter((r) => r < kth).length
        expect(Math.max(...segment.asked)).toBeLessThanOrEqual(2 * (k + above))
      }),
    )
  })

  it('2,000 forgotten rows far from the query cost one ask of at most 2k rows, as 1 does (it asked for k + 2,000)', () => {
    const rows = 4139
    const far = (n: number) => new Set(Array.from({ length: n }, (_, i) => rows - 1 - i))
    for (const n of [1, 2000]) {
      const segment = ranked(rows)
      withoutForgotten(segment, far(n)).search(query, 8)
      expect(segment.asked).toEqual([8 + Math.min(n, 8)])
    }
  })

  it('a forget made while a remote segment answers never leaves fewer than k rows', async () => {
    const segment = ranked(100, true)
    const forgotten = new Set([50])
    const pending = withoutForgotten(segment, forgotten).search(query, 8) as Promise<Hit[]>
    // Forgotten meanwhile: rows 0..4 were among those asked for.
    for (let r = 0; r < 5; r++) forgotten.add(r)
    expect((await pending).map((h) => h.order)).toEqual([5, 6, 7, 8, 9, 10, 11, 12])
  })
})
