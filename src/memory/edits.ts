/**
 * Edits of a memory as callers see them: the ids (an added example is its edit id, "17"; a built row is
 * "base:{row}", a row of memory.bin), the checks on examples to learn and the error both raise. One module
 * for the worker's routes and the libraries.
 */
export type MemoryRowId = { kind: 'edit'; id: number } | { kind: 'base'; row: number }

const EDIT = /^[1-9]\d{0,15}$/
const BASE = /^base:(0|[1-9]\d{0,9})$/

/** Parses "17" or "base:12"; undefined for anything else. */
export function parseRowId(value: string): MemoryRowId | undefined {
  if (EDIT.test(value)) {
    const id = Number(value)
    return Number.isSafeInteger(id) ? { kind: 'edit', id } : undefined
  }
  const base = BASE.exec(value)
  return base ? { kind: 'base', row: Number(base[1]) } : undefined
}

export function formatRowId(row: MemoryRowId): string {
  return row.kind === 'edit' ? String(row.id) : `base:${row.row}`
}

import { LabelSet } from './labels.ts'
import { CodedError } from '../errors.ts'

export type MemoryEditErrorCode = 'invalid_example' | 'not_found' | 'unsupported'

/** A learn or forget the memory refuses; nothing was changed. `code` is stable for callers (HTTP answers). */
export class MemoryEditError extends CodedError<MemoryEditErrorCode> {
  override readonly name = 'MemoryEditError'
}

/**
 * Class ids of examples to learn; throws naming the first bad one (and the served labels: the model's, then
 * the memory's, src/memory/labels.ts) before any is learned.
 */
export function exampleLabelIds(examples: readonly { text: string; label: string }[], labels: readonly string[] | LabelSet): number[] {
  const set = Array.isArray(labels) ? new LabelSet(labels) : (labels as LabelSet)
  return examples.map((e, i) => {
    if (typeof e?.text !== 'string' || !/\S/.test(e.text)) throw new MemoryEditError('invalid_example', `examples.${i}.text: must contain a non-whitespace character`)
    const id = typeof e.label === 'string' ? set.idOf(e.label) : undefined
    if (id === undefined) {
      const names = set.list().map((l) => l.label)
      const model = set.memoryLabels().length ? 'a label of the model or of the memory' : 'a label of the model'
      throw new MemoryEditError('invalid_example', `examples.${i}.label: ${JSON.stringify(e.label)} is not ${model} (labels: ${names.join(', ')}); POST /v1/labels or addLabel() adds a label`)
    }
    return id
  })
}

/** A learned row as an edit log stores it: the encoded row (row.ts) without its clamp count. */
export interface StoredRow {
  label: number
  key: Int8Array
  residual: Int8Array
  residualScale: number
}

/**
 * One entry of an edit log, in the log's order (`version` ascending). An add's id is its version; a forget
 * names an added example ("17") or a built row ("base:12", a row of the memory of the training file alone).
 * An add without a row is one that could not be carried over to another model (its label is not the new
 * model's): it holds its id but is not served.
 */
export type EditOp =
  /** `label`: the row's label by name, resolved when replayed (a memory label's id is known only then). */
  | { version: number; op: 'add'; row?: StoredRow; label?: string }
  | { version: number; op: 'forget'; target: MemoryRowId }
  /** A memory label added or removed (src/memory/labels.ts); a removal comes after forgets of each of its rows. */
  | { version: number; op: 'label'; label: string; action: 'add' | 'remove' }
