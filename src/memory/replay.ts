/**
 * An edit log replayed onto a served memory: adds join the overlay under their version as id, forgets take
 * a learned row out of the overlay or hide a built row (by its memory.bin row, through the FoldMap, so a
 * folded memory answers like the unfolded one). Entries the memory already holds (version <= the folded
 * version) are skipped: nothing is counted twice.
 */
import type { EditOp } from './edits.ts'
import type { FoldMap } from './fold.ts'
import type { LabelSet } from './labels.ts'
import type { EditOverlay, EditRow } from './segments/index.ts'

export interface ReplayTarget {
  overlay: EditOverlay
  /** Hidden memory.bin rows (SegmentedMemory.forgotten). */
  forgotten: Set<number>
  fold: FoldMap
  /** Served labels: label entries add and remove memory labels (a log without them needs none). */
  labels?: LabelSet
}

/** Applies entries in version order; returns the last version seen (or `after` when there were none). */
export function replayEdits(target: ReplayTarget, ops: readonly EditOp[], after = 0): number {
  let version = after
  let adds: EditRow[] = []
  // Adds are applied in batches: the overlay reindexes once per batch, not once per row.
  const flush = () => {
    if (adds.length) target.overlay.add(adds)
    adds = []
  }
  for (const op of ops) {
    if (op.version <= version) throw new RangeError(`edit log entries must come in version order: ${op.version} after ${version}`)
    version = op.version
    if (op.version <= target.fold.version) continue
    if (op.op === 'add') {
      const label = op.label === undefined || !target.labels ? op.row?.label : target.labels.idOf(op.label)
      if (op.row && label !== undefined) adds.push({ ...op.row, label, id: op.version })
      continue
    }
    flush()
    if (op.op === 'label') {
      if (!target.labels) throw new RangeError(`edit ${op.version}: a label entry, and no label set to apply it to`)
      // Its rows were forgotten by the entries before it; a label given again starts a new, empty slot.
      if (op.action === 'add') target.labels.ensure(op.label)
      else if (target.labels.isMemoryLabel(op.label)) target.labels.remove(op.label)
      continue
    }
    const row = target.fold.rowOf(op.target)
    if (row !== undefined) target.forgotten.add(row)
    else if (op.target.kind === 'edit') target.overlay.remove([op.target.id])
  }
  flush()
  return version
}
