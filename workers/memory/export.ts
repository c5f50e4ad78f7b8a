/** Reading the log out: a page for GET /v1/memory, the whole log as edits.jsonl for GET /v1/memory/export. */
import { EDITS_FORMAT, EDITS_FORMAT_VERSION, formatEditsLine, toBase64, type EditsEntry, type EditsHeader } from '../../src/memory/edits-file.ts'
import type { LogEntry, LogStatus } from '../objects/edit-log.ts'
import { MemoryUnavailableError, unavailable } from './errors.ts'
import type { MemorySync } from './sync.ts'

/** A page of the log as GET /v1/memory lists it. */
export interface LogPage {
  status: LogStatus
  entries: LogEntry[]
  /** Whether entries after these remain. */
  more: boolean
}

/** A page of the log: entries after `after`, with text, without the encoded rows. */
export async function listLog(memory: MemorySync, after: number, limit: number): Promise<LogPage> {
  await memory.deadline(memory.open(), 'opening the log')
  try {
    return await memory.deadline(memory.log().read(after, limit, { text: true }), 'a read')
  } catch (err) {
    throw unavailable(err)
  }
}

/** The whole log as edits.jsonl (src/memory/edits-file.ts), read page by page as the stream is consumed. */
export async function exportLog(memory: MemorySync): Promise<ReadableStream<Uint8Array>> {
  const status = await memory.open().then(() => memory.log().getStatus())
  if (!status) throw new MemoryUnavailableError('the edit log is not open')
  if (status.state === 'importing') throw new MemoryUnavailableError(`the edits of the previous model are being re-embedded (${status.cursor} entries done); export when done`, 5)
  const header: EditsHeader = {
    format: EDITS_FORMAT,
    formatVersion: EDITS_FORMAT_VERSION,
    log: status.epoch,
    version: status.version,
    model: status.model.model,
    base: status.model.base,
    train: status.model.train,
    labels: status.model.labels,
    dim: status.model.dim,
    keyScale: status.model.keyScale,
    temperature: status.model.temperature,
  }
  const encoder = new TextEncoder()
  const log = memory.log()
  let after = 0
  let sentHeader = false
  const pageSize = Math.min(memory.pageSize, 500)
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (!sentHeader) {
        sentHeader = true
        controller.enqueue(encoder.encode(formatEditsLine(header)))
        return
      }
      // Entries up to the header's version only: a write arriving meanwhile belongs to the next export.
      const { entries, more } = await log.read(after, pageSize, { rows: true, text: true })
      const lines = entries.filter((e) => e.version <= header.version).map((e) => formatEditsLine(exportEntry(e)))
      if (lines.length) controller.enqueue(encoder.encode(lines.join('')))
      after = entries.length ? entries[entries.length - 1].version : after
      if (!more || after >= header.version) controller.close()
    },
  })
}

/** A log entry as a line of edits.jsonl. */
export function exportEntry(e: LogEntry): EditsEntry {
  const out: EditsEntry = { version: e.version, op: e.op, model: e.model, token: e.token, at: e.at }
  if (e.op === 'add') out.id = String(e.version)
  if (e.target !== undefined) out.target = e.target
  if (e.text !== undefined) out.text = e.text
  if (e.label !== undefined) out.label = e.label
  if (e.truncated !== undefined) out.truncated = e.truncated
  if (e.key && e.residual && e.residualScale !== undefined) {
    out.key = toBase64(e.key)
    out.residual = toBase64(e.residual)
    out.residualScale = e.residualScale
  }
  if (e.note !== undefined) out.note = e.note
  return out
}
