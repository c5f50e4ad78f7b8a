/**
 * A model change: the log of a newly served model continues the one served before under the same bundle name.
 * Its entries are re-embedded with this model in batches, resumably (a cursor with compare-and-set), before
 * the new log serves; the predecessor is sealed first, so it acknowledges nothing the import could miss.
 */
import { LabelSet } from '../../src/memory/labels.ts'
import type { LogEntry, LogModel } from '../objects/edit-log.ts'
import type { MemorySync } from './sync.ts'

/** Import steps until the log serves, or until `budgetMs` is spent (the next request resumes at the cursor). */
export async function importRun(memory: MemorySync, budgetMs: number): Promise<void> {
  const deadline = memory.now() + budgetMs
  while (!(await importStep(memory))) if (memory.now() > deadline) return
}

/**
 * One batch of the import: the predecessor (sealed first) is read after the cursor; adds are re-embedded with
 * this model, forgets carried over; the batch is written under compare-and-set on the cursor. Answers true
 * once the log serves.
 */
export async function importStep(memory: MemorySync): Promise<boolean> {
  const log = memory.log()
  const status = await log.getStatus()
  if (!status || status.state !== 'importing') return true
  // A predecessor still importing itself holds a prefix of its own predecessor's entries, under the same versions.
  let source = status.predecessor!
  let from = memory.log(source)
  let sourceStatus = await from.seal(memory.name)
  while (sourceStatus.state === 'importing' && sourceStatus.predecessor) {
    source = sourceStatus.predecessor
    from = memory.log(source)
    sourceStatus = await from.seal(memory.name)
  }
  const { entries } = await from.read(status.cursor, memory.importBatch, { text: true })
  if (entries.length === 0) {
    const done = await log.finishImport(status.cursor)
    return done.ok || done.status.state === 'ready'
  }
  const carried = await reencode(memory, entries, sourceStatus.model, status.memoryLabels ?? [])
  const result = await log.importBatch(status.cursor, carried, entries[entries.length - 1].version)
  if (!result.ok && result.code !== 'stale_cursor') throw new Error(result.message)
  return false
}

/**
 * Entries of another model's log, for this one: texts embedded again, rows of another training file dropped.
 * Memory labels (`memoryLabels`: those live in this log at the cursor) carry over with their entries, and so do
 * their rows; a memory label the new model has as its own teaches that label.
 */
async function reencode(memory: MemorySync, entries: readonly LogEntry[], from: LogModel, memoryLabels: readonly string[]): Promise<LogEntry[]> {
  // `live`: the labels at each entry; `known`: every label seen (a row encodes alike whenever its label lived).
  const live = new LabelSet(memory.classifier.labels)
  const known = new LabelSet(memory.classifier.labels)
  for (const name of memoryLabels) [live, known].forEach((set) => set.ensure(name))
  const servedAt = new Map<number, boolean>()
  for (const e of entries) {
    if (e.op === 'label' && e.label !== undefined) {
      if (e.target === 'add') [live, known].forEach((set) => set.ensure(e.label!))
      else if (e.target === 'remove' && live.isMemoryLabel(e.label)) live.remove(e.label)
    }
    if (e.op === 'add' && e.label !== undefined) servedAt.set(e.version, live.idOf(e.label) !== undefined)
  }
  const toEmbed = entries.filter((e) => e.op === 'add' && e.note === undefined && e.text !== undefined && servedAt.get(e.version))
  const rows = toEmbed.length ? await memory.classifier.encode(toEmbed.map((e) => ({ text: e.text!, label: e.label! })), known) : []
  const encoded = new Map(toEmbed.map((e, i) => [e.version, rows[i]]))
  return entries.map((e): LogEntry => {
    const { key: _k, residual: _r, residualScale: _s, ...kept } = e
    if (e.op === 'add') {
      const row = encoded.get(e.version)
      if (row) return { ...kept, truncated: row.truncated, key: row.key, residual: row.residual, residualScale: row.residualScale, model: memory.model.model }
      return { ...kept, note: e.note ?? `label ${JSON.stringify(e.label)} is not a label of model ${memory.model.model.slice(0, 12)}… (labels: ${memory.classifier.labels.join(', ')})` }
    }
    if (e.target?.startsWith('base:') && from.train !== memory.model.train) {
      const { target: _t, ...rest } = kept
      return { ...rest, note: `forgot built row ${e.target} of another training file (${from.train.slice(0, 12)}…)` }
    }
    return kept
  })
}
