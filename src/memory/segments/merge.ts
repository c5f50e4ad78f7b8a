import type { Hit, RowFilter, Segment } from './types.ts'

/** Whether `a` ranks before `b`: higher score, then lower order (no two rows share an order). */
export function ranksBefore(a: Hit, b: Hit): boolean {
  return a.score > b.score || (a.score === b.score && a.order < b.order)
}

/**
 * The exact top-k of the union of per-segment top-k lists (each best first). Exact because every row of the
 * global top-k is in the top-k of its own segment. A k-way merge: segments are few, so a linear pick of the
 * best head beats a heap.
 */
export function mergeHits(lists: readonly (readonly Hit[])[], k: number): Hit[] {
  const heads = new Array<number>(lists.length).fill(0)
  const out: Hit[] = []
  while (out.length < k) {
    let best = -1
    for (let s = 0; s < lists.length; s++) {
      const h = lists[s][heads[s]]
      if (h !== undefined && (best < 0 || ranksBefore(h, lists[best][heads[best]]))) best = s
    }
    if (best < 0) break
    out.push(lists[best][heads[best]++])
  }
  return out
}

/**
 * A segment with some of its rows forgotten (Lucene's live-docs idea): it asks for k plus at most k more, drops
 * the forgotten, and asks again for twice as many while fewer than k remain and the segment has more. The
 * answer is the exact top-k of the rows that remain; what it asks for is at most 2 (k + f) rows, f the forgotten
 * rows that rank above the k-th kept one (not every forgotten row: 2,000 forgotten far away cost nothing).
 * The filter is read when the hits come back, so a forget made meanwhile never leaves fewer than k rows.
 */
export function withoutForgotten(segment: Segment, forgotten: RowFilter): Segment {
  return {
    search(query, k) {
      if (forgotten.size === 0) return segment.search(query, k)
      const ask = (n: number): Hit[] | Promise<Hit[]> => {
        const hits = segment.search(query, n)
        return Array.isArray(hits) ? settle(hits, n) : hits.then((h) => settle(h, n))
      }
      const settle = (hits: Hit[], asked: number): Hit[] | Promise<Hit[]> => {
        const kept: Hit[] = []
        for (const h of hits) {
          if (kept.length === k) break
          if (!forgotten.has(h.order)) kept.push(h)
        }
        // Done with k rows, or when the segment answered fewer than asked (it has no more rows).
        if (kept.length === k || hits.length < asked) return kept
        return ask(asked * 2)
      }
      return ask(k + Math.min(forgotten.size, k))
    },
  }
}
