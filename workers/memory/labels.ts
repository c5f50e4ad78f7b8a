/** Label writes: add and remove labels that live in the memory, committed to the log, then in this isolate's copy. */
import { LabelError, labelNameProblem } from '../../src/memory/labels.ts'
import type { Background } from './background.ts'
import type { MemorySync } from './sync.ts'
import { write } from './writes.ts'
import { writeOptions, type Writer } from './writer.ts'

export interface LabelWritten {
  label: string
  version: number
  /** A removal: the label's learned rows forgotten with it. */
  forgotten?: number
  replayed?: boolean
}

/** Adds a memory label; LabelError for a bad name, MemoryWriteError (label_exists, labels_full, ...) from the log. */
export async function addLabel(memory: MemorySync, label: string, writer: Writer, maxLabels: number, background: Background): Promise<LabelWritten> {
  const problem = labelNameProblem(label)
  if (problem) throw new LabelError('invalid_label', `label: ${problem}`)
  const { salt } = await memory.deadline(memory.open(), 'opening the log')
  const options = await writeOptions(writer, salt!, JSON.stringify(['label', 'add', label]))
  const result = await write(() => memory.deadline(memory.log().addLabel(label, maxLabels, options), 'a write'))
  await memory.settle(result.version, background)
  return { label, version: result.version, ...(result.replayed ? { replayed: true } : {}) }
}

/** Removes a memory label and forgets its learned rows (the log writes a forget of each first). */
export async function removeLabel(memory: MemorySync, label: string, writer: Writer, background: Background): Promise<LabelWritten> {
  const { salt } = await memory.deadline(memory.open(), 'opening the log')
  const options = await writeOptions(writer, salt!, JSON.stringify(['label', 'remove', label]))
  const result = await write(() => memory.deadline(memory.log().removeLabel(label, options), 'a write'))
  await memory.settle(result.version, background)
  return { label, version: result.version, forgotten: result.forgotten ?? 0, ...(result.replayed ? { replayed: true } : {}) }
}
