import type { KnnIndex } from '../../knn/index.ts'
import { createReferenceIndex } from '../../knn/index.ts'
import { expandResidual, residualWidth, type EncodedRow } from '../row.ts'
import { int8Similarity } from './similarity.ts'
import type { Hit, Segment } from './types.ts'

/** A learned row as the overlay holds it: an encoded row (row.ts) under the id the edit log gave it. */
export interface EditRow extends Omit<EncodedRow, 'clamped'> {
  /** Positive integer, unique in the memory; later edits have larger ids. */
  id: number
}

export type IndexFactory = (keys: Int8Array, rows: number, dim: number) => KnnIndex

export interface EditOverlayOptions {
  dim: number
  /** The model's classes; a row of a memory label (class id >= classes) stores one entry more (row.ts). */
  classes: number
  /** The built memory's key scale: the overlay's keys are quantized with it (row.ts). */
  keyScale: number
  /** Rows of the built memory: an edit's order is builtRows + id, after every built row. */
  builtRows: number
  /** Builds the index over the overlay's keys when they change; the TypeScript reference when omitted. */
  createIndex?: IndexFactory
}

/**
 * The rows learned since the memory was built: appended, removed, searched. Rows are kept packed in id order,
 * so the index's own tie rule (lower row first) is the memory's (lower id first). The index is rebuilt on
 * the first search after a change: edits arrive in batches (a sync, a POST), searches in between.
 */
export class EditOverlay implements Segment {
  readonly dim: number
  readonly classes: number
  readonly keyScale: number
  readonly builtRows: number
  private readonly createIndex: IndexFactory
  private ids: number[] = []
  private labels: number[] = []
  private scales: number[] = []
  private keys = new Int8Array(0)
  private residuals = new Int8Array(0)
  private index: KnnIndex | undefined
  /** Residual entries per row: the model's classes and a memory label's own entry (0 for a model label's row). */
  private readonly stride: number

  constructor(options: EditOverlayOptions) {
    this.dim = options.dim
    this.classes = options.classes
    this.stride = options.classes + 1
    this.keyScale = options.keyScale
    this.builtRows = options.builtRows
    this.createIndex = options.createIndex ?? createReferenceIndex
  }

  get size(): number {
    return this.ids.length
  }

  has(id: number): boolean {
    return this.position(id) >= 0
  }

  /** Ids of the rows held, ascending. */
  rowIds(): readonly number[] {
    return this.ids
  }

  /** Adds rows (any order; an id already held is replaced). */
  add(rows: readonly EditRow[]): void {
    if (rows.length === 0) return
    for (const r of rows) {
      if (!Number.isSafeInteger(r.id) || r.id < 1) throw new RangeError(`edit id must be a positive integer, got ${r.id}`)
      if (r.key.length !== this.dim) throw new RangeError(`edit ${r.id}: key has ${r.key.length} dimensions, the memory ${this.dim}`)
      if (!Number.isInteger(r.label) || r.label < 0) throw new RangeError(`edit ${r.id}: label id ${r.label} is not a class id`)
      if (r.residual.length !== residualWidth(r.label, this.classes)) throw new RangeError(`edit ${r.id}: residual has ${r.residual.length} entries, a row of class ${r.label} ${residualWidth(r.label, this.classes)}`)
    }
    // The last row given for an id wins; rows go in id order.
    const incoming = [...new Map(rows.map((r) => [r.id, r])).values()].sort((a, b) => a.id - b.id)
    const n = this.ids.length
    // The common case, new ids after every held one, appends; anything else merges into fresh arrays.
    if (n === 0 || incoming[0].id > this.ids[n - 1]) {
      this.reserve(n + incoming.length)
      incoming.forEach((r, i) => this.write(n + i, r))
    } else {
      const old = { ids: this.ids, labels: this.labels, scales: this.scales, keys: this.keys, residuals: this.residuals }
      const replaced = new Set(incoming.map((r) => r.id))
      this.ids = []
      this.labels = []
      this.scales = []
      this.keys = new Int8Array(0)
      this.residuals = new Int8Array(0)
      this.reserve(n + incoming.length)
      let out = 0
      let j = 0
      for (let i = 0; i <= n; i++) {
        const heldId = i < n ? old.ids[i] : Infinity
        while (j < incoming.length && incoming[j].id < heldId) this.write(out++, incoming[j++])
        if (i === n || replaced.has(heldId)) continue
        this.ids[out] = heldId
        this.labels[out] = old.labels[i]
        this.scales[out] = old.scales[i]
        this.keys.set(old.keys.subarray(i * this.dim, (i + 1) * this.dim), out * this.dim)
        this.residuals.set(old.residuals.subarray(i * this.stride, (i + 1) * this.stride), out * this.stride)
        out++
      }
      this.ids.length = this.labels.length = this.scales.length = out
    }
    this.index = undefined
  }

  /** Removes rows by id; returns how many were held. */
  remove(ids: readonly number[]): number {
    const gone = new Set(ids.filter((id) => this.has(id)))
    if (gone.size === 0) return 0
    const { dim, stride } = this
    let out = 0
    for (let i = 0; i < this.ids.length; i++) {
      if (gone.has(this.ids[i])) continue
      if (out !== i) {
        this.ids[out] = this.ids[i]
        this.labels[out] = this.labels[i]
        this.scales[out] = this.scales[i]
        this.keys.copyWithin(out * dim, i * dim, (i + 1) * dim)
        this.residuals.copyWithin(out * stride, i * stride, (i + 1) * stride)
      }
      out++
    }
    this.ids.length = this.labels.length = this.scales.length = out
    this.index = undefined
    return gone.size
  }

  clear(): void {
    this.remove([...this.ids])
  }

  /** The rows held, in id order (copies). */
  entries(): EditRow[] {
    const { dim, stride } = this
    return this.ids.map((id, i) => ({
      id,
      label: this.labels[i],
      key: this.keys.slice(i * dim, (i + 1) * dim),
      residual: this.residuals.slice(i * stride, i * stride + residualWidth(this.labels[i], this.classes)),
      residualScale: this.scales[i],
    }))
  }

  search(query: Parameters<Segment['search']>[0], k: number): Hit[] {
    const n = this.ids.length
    if (k <= 0 || n === 0) return []
    this.index ??= this.createIndex(this.keys.subarray(0, n * this.dim), n, this.dim)
    const top = this.index.search(query.int8, k)
    return Array.from(top.rows, (pos, i) => {
      // At the width the row's class needs: a shorter residual is 0 beyond its end (src/resmem/combine.ts).
      const label = this.labels[pos]
      const residual = expandResidual(this.residuals.subarray(pos * this.stride), label, this.classes, new Float32Array(Math.max(this.classes, label + 1)), this.scales[pos])
      return {
        order: this.builtRows + this.ids[pos],
        score: top.dots[i],
        similarity: int8Similarity(top.dots[i], query.scale, this.keyScale),
        label,
        residual,
        source: 'edit' as const,
        id: this.ids[pos],
      }
    })
  }

  private position(id: number): number {
    let lo = 0
    let hi = this.ids.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (this.ids[mid] === id) return mid
      if (this.ids[mid] < id) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }

  /** Room for `rows` rows in the packed arrays (capacity doubles, so appends cost O(1) amortised). */
  private reserve(rows: number): void {
    if (rows * this.dim <= this.keys.length) return
    const capacity = Math.max(rows, 2 * (this.keys.length / this.dim), 64)
    const keys = new Int8Array(capacity * this.dim)
    keys.set(this.keys)
    const residuals = new Int8Array(capacity * this.stride)
    residuals.set(this.residuals)
    this.keys = keys
    this.residuals = residuals
  }

  private write(pos: number, r: EditRow): void {
    this.ids[pos] = r.id
    this.labels[pos] = r.label
    this.scales[pos] = r.residualScale
    this.keys.set(r.key, pos * this.dim)
    this.residuals.fill(0, pos * this.stride, (pos + 1) * this.stride)
    this.residuals.set(r.residual, pos * this.stride)
  }
}
