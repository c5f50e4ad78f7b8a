/** Writes: learn and forget, committed to the log, then in this isolate's copy before the answer (read-your-writes). */
import { formatRowId, parseRowId, type MemoryRowId } from '../../src/memory/edits.ts'
import type { Example } from '../../src/types.ts'
import type { NewEdit, Refusal } from '../objects/edit-log.ts'
import type { Background } from './background.ts'
import { MemoryUnavailableError, MemoryWriteError, unavailable } from './errors.ts'
import type { MemorySync } from './sync.ts'
import { writeOptions, type Writer } from './writer.ts'

export interface Written {
  ids: string[]
  version: number
  truncated: boolean[]
  /** The first answer to this Idempotency-Key, given again: nothing was written this time. */
  replayed?: boolean
}

/** Learns examples: embedded here with the served model, written to the log, in this isolate's copy at once. */
export async function learn(memory: MemorySync, examples: readonly Example[], writer: Writer, background: Background): Promise<Written> {
  const { salt } = await memory.deadline(memory.open(), 'opening the log')
  const options = await writeOptions(writer, salt!, JSON.stringify(['learn', examples.map((e) => [e.text, e.label])]))
  // A label added through another isolate since this copy's last pull: catch up before encoding.
  const labels = memory.classifier.labelSet
  if (examples.some((e) => typeof e?.label === 'string' && labels.idOf(e.label) === undefined)) await memory.refresh(background).catch(() => undefined)
  const rows = await memory.classifier.encode(examples)
  const edits: NewEdit[] = rows.map((r, i) => ({ text: examples[i].text, label: examples[i].label, truncated: r.truncated, key: r.key, residual: r.residual, residualScale: r.residualScale }))
  // Past the deadline the write may still commit: a retry with the same Idempotency-Key finds its answer.
  const result = await write(() => memory.deadline(memory.log().add(edits, options), 'a write'))
  // Committed: from here the answer is a success, even when this isolate's copy cannot catch up now.
  await memory.settle(result.version, background)
  const written: Written = { ids: result.ids.map((id) => formatRowId({ kind: 'edit', id })), version: result.version, truncated: rows.map((r) => r.truncated) }
  return result.replayed ? { ...written, replayed: true } : written
}

/** Forgets an added example or hides a built row; MemoryWriteError('not_found') for an id the memory does not hold. */
export async function forget(memory: MemorySync, value: string, writer: Writer, background: Background): Promise<{ version: number; replayed?: boolean }> {
  const { salt } = await memory.deadline(memory.open(), 'opening the log')
  const id = parseRowId(value)
  const notFound = () => new MemoryWriteError('not_found', `${JSON.stringify(value)} is not a row of this memory (an id from POST /v1/memory, or base:{row} of a built row not yet forgotten)`)
  if (!id) throw notFound()
  // A replayed forget names a row already hidden: only rows outside the memory are refused here, the log decides the rest.
  if (id.kind === 'base' && (id.row >= memory.classifier.fold.baseRows || (writer.idempotencyKey === undefined && !holdsBase(memory, id)))) throw notFound()
  const options = await writeOptions(writer, salt!, JSON.stringify(['forget', formatRowId(id)]))
  const result = await write(() => memory.deadline(memory.log().forget(formatRowId(id), options), 'a write'))
  await memory.settle(result.version, background)
  return result.replayed ? { version: result.version, replayed: true } : { version: result.version }
}

/** A built row this copy still serves (a stale copy may still show a row another isolate hid: the log decides). */
function holdsBase(memory: MemorySync, id: MemoryRowId): boolean {
  return memory.classifier.fold.rowOf(id) !== undefined
}

export async function write<T extends { ok: true }>(call: () => Promise<T | Refusal>): Promise<T> {
  let result: T | Refusal
  try {
    result = await call()
  } catch (err) {
    throw unavailable(err)
  }
  if (!result.ok) {
    if (result.code === 'importing') throw new MemoryUnavailableError(result.message, 5)
    throw new MemoryWriteError(result.code, result.message, result.retryAfter)
  }
  return result
}
