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
 * A segment with some of its rows forgotten (Lucene's live-docs idea): it asks for k + |forgotten| and drops
 * the forgotten, which leaves the exact top-k of the rows that remain, whatever the forgotten rows score.
 */
export function withoutForgotten(segment: Segment, forgotten: RowFilter): Segment {
  const keep = (hits: Hit[], k: number) => {
    const out: Hit[] = []
    for (const h of hits) {
      if (out.length === k) break
      if (!forgotten.has(h.order)) out.push(h)
    }
    return out
  }
  return {
    search(query, k) {
      if (forgotten.size === 0) return segment.search(query, k)
      const hits = segment.search(query, k + forgotten.size)
      return Array.isArray(hits) ? keep(hits, k) : hits.then((h) => keep(h, k))
    },
  }
}
