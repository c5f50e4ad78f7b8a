/**
 * Folding an edit log into a build, and the row ids of a memory that has edits folded in.
 *
 * A folded memory.bin holds, in this order: the rows of the training build (the "base" memory) that were not
 * forgotten, then the learned rows by id; manifest.json's `edits` lists the forgotten base rows and the folded
 * ids as ranges (manifest.ts FoldedEdits). Callers keep naming rows as before the fold (`base:{row}` a row of
 * the base memory, "17" a learned example), so answers, explanations and ids are the same before and after;
 * only the row order, which breaks score ties, must match, and it does: kept base rows keep their order and
 * come before every learned row, learned rows are in id order.
 */
import { LabelSet } from './labels.ts'
import { residualWidth } from './row.ts'
import type { ResidualMemory } from './format.ts'
import type { FoldedEdits } from './manifest.ts'
import type { EditOp, MemoryRowId, StoredRow } from './edits.ts'

type Range = [number, number]

/** Ascending distinct integers as inclusive ranges. */
export function toRanges(sorted: readonly number[]): Range[] {
  const out: Range[] = []
  for (const x of sorted) {
    const last = out[out.length - 1]
    if (last && x === last[1] + 1) last[1] = x
    else out.push([x, x])
  }
  return out
}

/** Ranges with a prefix count, for rank and select by binary search (100,000 folded ids stay cheap). */
class RangeSet {
  private readonly starts: number[]
  private readonly ends: number[]
  /** before[i]: how many members the ranges before i hold. */
  private readonly before: number[]
  readonly size: number

  constructor(ranges: readonly (readonly [number, number])[]) {
    this.starts = ranges.map((r) => r[0])
    this.ends = ranges.map((r) => r[1])
    this.before = []
    let n = 0
    for (let i = 0; i < ranges.length; i++) {
      if (ranges[i][1] < ranges[i][0] || (i > 0 && ranges[i][0] <= ranges[i - 1][1])) throw new RangeError(`ranges must be ascending and disjoint, got ${JSON.stringify(ranges.slice(Math.max(0, i - 1), i + 1))}`)
      this.before.push(n)
      n += ranges[i][1] - ranges[i][0] + 1
    }
    this.size = n
  }

  /** Index of the last range starting at or before x, -1 if none. */
  private find(x: number): number {
    let lo = 0
    let hi = this.starts.length - 1
    let at = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (this.starts[mid] <= x) {
        at = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return at
  }

  has(x: number): boolean {
    const i = this.find(x)
    return i >= 0 && x <= this.ends[i]
  }

  /** Members smaller than x. */
  rank(x: number): number {
    const i = this.find(x)
    if (i < 0) return 0
    return this.before[i] + Math.min(x, this.ends[i] + 1) - this.starts[i]
  }

  /** The member of rank r (0-based). */
  select(r: number): number {
    let lo = 0
    let hi = this.before.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.before[mid] <= r) lo = mid
      else hi = mid - 1
    }
    return this.starts[lo] + r - this.before[lo]
  }

  /** The x-th integer NOT in the set (0-based), i.e. the complement's select. */
  selectOutside(x: number): number {
    // The answer y satisfies y - rank(y) = x and y not in the set: walk the gaps by binary search over ranges.
    let lo = 0
    let hi = this.starts.length - 1
    let at = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      // Integers outside the set below starts[mid]: starts[mid] - before[mid].
      if (this.starts[mid] - this.before[mid] <= x) {
        at = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return at < 0 ? x : x + this.before[at] + (this.ends[at] - this.starts[at] + 1)
  }
}

/**
 * Row ids of a served memory: memory.bin rows <-> `base:{row}` / edit ids, and the log version its rows
 * already hold. For a memory without folded edits every row is `base:{row}` of itself and the version is 0.
 */
export class FoldMap {
  /** Last edit-log version in memory.bin (0: none). */
  readonly version: number
  /** The log epoch the folded versions belong to; undefined when nothing is folded. */
  readonly log: string | undefined
  /** Rows of the base memory (the training build). */
  readonly baseRows: number
  /** Base rows still in memory.bin (they come first). */
  readonly keptRows: number
  /** Rows of memory.bin. */
  readonly rows: number
  private readonly forgotten: RangeSet
  private readonly ids: RangeSet

  constructor(rows: number, edits?: FoldedEdits) {
    this.version = edits?.version ?? 0
    this.log = edits?.log
    this.baseRows = edits?.base.rows ?? rows
    this.forgotten = new RangeSet(edits?.forgotten ?? [])
    this.ids = new RangeSet(edits?.ids ?? [])
    this.keptRows = this.baseRows - this.forgotten.size
    this.rows = this.keptRows + this.ids.size
    if (this.rows !== rows) throw new RangeError(`memory.bin has ${rows} rows, its manifest's folded edits describe ${this.rows} (${this.keptRows} built rows kept + ${this.ids.size} learned)`)
  }

  /** Largest folded edit id (0: none). */
  get lastId(): number {
    return this.ids.size ? this.ids.select(this.ids.size - 1) : 0
  }

  /** memory.bin row of a base row or a folded edit; undefined when memory.bin does not hold it. */
  rowOf(id: MemoryRowId): number | undefined {
    if (id.kind === 'base') {
      if (id.row >= this.baseRows || this.forgotten.has(id.row)) return undefined
      return id.row - this.forgotten.rank(id.row)
    }
    return this.ids.has(id.id) ? this.keptRows + this.ids.rank(id.id) : undefined
  }

  /** The id callers know memory.bin row `row` by. */
  idOf(row: number): MemoryRowId {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) throw new RangeError(`row ${row} is not a row of this memory (${this.rows} rows)`)
    if (row < this.keptRows) return { kind: 'base', row: this.forgotten.selectOutside(row) }
    return { kind: 'edit', id: this.ids.select(row - this.keptRows) }
  }
}

export interface FoldOptions {
  /** The edit log's epoch (manifest.edits.log). */
  log: string
  /** Fold entries up to this version (default: all given). */
  upTo?: number
}

export interface Folded {
  memory: ResidualMemory
  edits: FoldedEdits
  /**
   * Labels that live in the memory at the folded version, in the order added (manifest `memoryLabels`); memory.bin
   * then spans the model's labels and these. Absent when the log added none still live.
   */
  memoryLabels?: string[]
  /** The base memory's SHA-256 goes into edits.base by the caller, which has its bytes. */
  learned: number
  forgottenBase: number
}

/**
 * The memory a log folds into: `base` (the training build, nothing folded) without the forgotten rows, then
 * the rows learned and not forgotten, by id, their stored bytes unchanged and the key scale `base`'s own.
 * Entries must be in version order. `baseSha256` names `base` in the manifest.
 */
export function foldEdits(base: ResidualMemory, ops: readonly EditOp[], baseSha256: string, options: FoldOptions): Folded {
  if (base.keys.dtype !== 'int8' || base.residuals.dtype !== 'int8') throw new RangeError('only an int8 memory (what `resmem build` writes) can fold edits')
  const upTo = options.upTo ?? Infinity
  const learned = new Map<number, StoredRow & { name?: string }>()
  const forgotten = new Set<number>()
  const labels = new LabelSet(base.labels)
  let version = 0
  let previous = 0
  for (const op of ops) {
    if (op.version <= previous) throw new RangeError(`edit log entries must be in version order: ${op.version} after ${previous}`)
    previous = op.version
    if (op.version > upTo) break
    version = op.version
    if (op.op === 'add') {
      if (op.row) learned.set(op.version, { ...op.row, ...(op.label !== undefined ? { name: op.label } : {}) })
    } else if (op.op === 'label') {
      if (op.action === 'add') labels.add(op.label)
      else labels.remove(op.label)
    } else if (op.target.kind === 'edit') learned.delete(op.target.id)
    else if (op.target.row < base.rows) forgotten.add(op.target.row)
  }
  const { dim } = base
  const modelClasses = base.labels.length
  // Live memory labels get the class ids after the model's, in the order added; removed ones leave no gap.
  const memoryLabels = labels.memoryLabels()
  const classes = modelClasses + memoryLabels.length
  const classOf = (id: number, row: StoredRow & { name?: string }) => {
    if (row.name === undefined) return row.label
    const at = memoryLabels.indexOf(row.name)
    if (at < 0) throw new RangeError(`edit ${id}: a row of label ${JSON.stringify(row.name)}, which the log removed without forgetting it`)
    return modelClasses + at
  }
  const kept = Array.from({ length: base.rows }, (_, i) => i).filter((i) => !forgotten.has(i))
  const ids = [...learned.keys()].sort((a, b) => a - b)
  const rows = kept.length + ids.length
  const keys = new Int8Array(rows * dim)
  const residuals = new Int8Array(rows * classes)
  const scales = new Float32Array(rows)
  const rowLabels = new Uint32Array(rows)
  kept.forEach((r, i) => {
    keys.set(base.keys.data.subarray(r * dim, (r + 1) * dim), i * dim)
    // A built row carries nothing for a memory label: zeros after the model's entries.
    residuals.set((base.residuals.data as Int8Array).subarray(r * modelClasses, (r + 1) * modelClasses), i * classes)
    scales[i] = (base.residuals as { scales: Float32Array }).scales[r]
    rowLabels[i] = base.rowLabels[r]
  })
  ids.forEach((id, j) => {
    const row = learned.get(id)!
    const i = kept.length + j
    const label = classOf(id, row)
    if (label < 0 || label >= classes) throw new RangeError(`edit ${id}: label id ${label}, the memory has ${classes} labels`)
    if (row.key.length !== dim || row.residual.length !== residualWidth(label, modelClasses)) throw new RangeError(`edit ${id}: a ${row.key.length}-dim key and ${row.residual.length} residuals, the memory has ${dim} and ${residualWidth(label, modelClasses)} for this label`)
    keys.set(row.key, i * dim)
    // The stored residual, compact for a memory label (row.ts), at its place in the folded width.
    residuals.set(row.residual.subarray(0, modelClasses), i * classes)
    if (label >= modelClasses) residuals[i * classes + label] = row.residual[modelClasses]
    scales[i] = row.residualScale
    rowLabels[i] = label
  })
  const memory: ResidualMemory = {
    ...base,
    labels: [...base.labels, ...memoryLabels],
    rows,
    keys: { dtype: 'int8', data: keys, scale: base.keys.scale },
    residuals: { dtype: 'int8', data: residuals, scales },
    rowLabels,
  }
  const edits: FoldedEdits = {
    version,
    log: options.log,
    base: { rows: base.rows, sha256: baseSha256 },
    forgotten: toRanges([...forgotten].sort((a, b) => a - b)),
    ids: toRanges(ids),
  }
  return { memory, edits, ...(memoryLabels.length ? { memoryLabels } : {}), learned: ids.length, forgottenBase: forgotten.size }
}
