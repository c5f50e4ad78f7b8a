/**
 * Top-k selection for the TypeScript scans: a binary heap whose root is the worst kept entry, so a
 * candidate has to beat one number to get in. The wasm kernel (wasm/assembly/knn.ts) uses the same
 * scheme. Order: score descending, then row ascending.
 */
export class TopKHeap {
  readonly capacity: number
  size = 0
  private readonly rows: Uint32Array
  private readonly scores: Float64Array

  constructor(capacity: number) {
    this.capacity = capacity
    this.rows = new Uint32Array(capacity)
    this.scores = new Float64Array(capacity)
  }

  /**
   * The score a candidate must strictly exceed to enter. Callers feed rows in ascending order, so an
   * equal score never displaces a kept row: the lower row wins the tie, as required.
   */
  threshold(): number {
    return this.size < this.capacity ? -Infinity : this.scores[0]
  }

  /** Adds a candidate that beats `threshold()` (or any candidate while not full); returns the new threshold. */
  offer(score: number, row: number): number {
    const { rows, scores } = this
    if (this.size < this.capacity) {
      let i = this.size++
      while (i > 0) {
        const p = (i - 1) >> 1
        if (!worse(score, row, scores[p], rows[p])) break
        scores[i] = scores[p]
        rows[i] = rows[p]
        i = p
      }
      scores[i] = score
      rows[i] = row
    } else {
      this.siftDown(score, row, this.size)
    }
    return this.threshold()
  }

  /** Sorts the kept entries best first (heapsort) and returns them; the heap is spent afterwards. */
  drain(): { rows: Uint32Array; scores: Float64Array } {
    const { rows, scores } = this
    for (let end = this.size - 1; end > 0; end--) {
      const s = scores[0]
      const r = rows[0]
      this.siftDown(scores[end], rows[end], end)
      scores[end] = s
      rows[end] = r
    }
    return { rows: rows.subarray(0, this.size), scores: scores.subarray(0, this.size) }
  }

  /** Places (score, row) at the root of a heap of `size` entries. */
  private siftDown(score: number, row: number, size: number): void {
    const { rows, scores } = this
    let i = 0
    for (;;) {
      let c = 2 * i + 1
      if (c >= size) break
      if (c + 1 < size && worse(scores[c + 1], rows[c + 1], scores[c], rows[c])) c++
      if (!worse(scores[c], rows[c], score, row)) break
      scores[i] = scores[c]
      rows[i] = rows[c]
      i = c
    }
    scores[i] = score
    rows[i] = row
  }
}

function worse(scoreA: number, rowA: number, scoreB: number, rowB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && rowA > rowB)
}
