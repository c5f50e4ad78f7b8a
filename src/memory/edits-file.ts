/**
 * edits.jsonl: an edit log as `GET /v1/memory/export` streams it and `resmem memory pull` saves it, read by
 * `resmem build --edits`. This module writes and reads it.
 *
 *   line 1   header {"format": "resmem-edits", "formatVersion": 1, "log", "version", "model", "base", "train",
 *            "labels", "dim", "keyScale", "temperature"}: the log's epoch and last version, and what its rows
 *            were encoded for (model SHA-256, base memory SHA-256 and training file SHA-256, key scale, T)
 *   then     one entry per line, in version order:
 *            {"version", "op": "add", "id", "text", "label", "truncated", "key", "residual", "residualScale",
 *             "model", "token", "at"}   key and residual: the stored int8 bytes, base64
 *            {"version", "op": "forget", "target": "17" | "base:12", "model", "token", "at"}
 *            {"version", "op": "label", "target": "add" | "remove", "label", "model", "token", "at"}  a label that
 *             lives in the memory (src/memory/labels.ts); an add of it stores its residual compact (row.ts)
 *            An entry with "note" (and no key, or no target) was carried over from another model and is not served.
 */
import * as z from 'zod'
import { parseRowId, type EditOp } from './edits.ts'
import { LabelSet } from './labels.ts'
import { residualWidth } from './row.ts'

export const EDITS_FORMAT = 'resmem-edits'
export const EDITS_FORMAT_VERSION = 1

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 as 64 lowercase hex digits')

export const EditsHeader = z.object({
  format: z.literal(EDITS_FORMAT),
  formatVersion: z.literal(EDITS_FORMAT_VERSION),
  log: z.string().min(1),
  version: z.number().int().nonnegative(),
  model: sha256Hex,
  base: sha256Hex,
  train: sha256Hex,
  labels: z.array(z.string().min(1)).min(2),
  dim: z.number().int().positive(),
  keyScale: z.number().positive(),
  temperature: z.number().positive(),
})
export type EditsHeader = z.infer<typeof EditsHeader>

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')

export const EditsEntry = z.object({
  version: z.number().int().positive(),
  op: z.enum(['add', 'forget', 'label']),
  id: z.string().optional(),
  target: z.string().optional(),
  text: z.string().optional(),
  label: z.string().optional(),
  truncated: z.boolean().optional(),
  key: base64.optional(),
  residual: base64.optional(),
  residualScale: z.number().positive().optional(),
  model: sha256Hex,
  token: z.string(),
  at: z.number().int().nonnegative(),
  note: z.string().optional(),
})
export type EditsEntry = z.infer<typeof EditsEntry>

export function toBase64(bytes: Int8Array | Uint8Array): string {
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let s = ''
  for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i])
  return btoa(s)
}

export function fromBase64(text: string): Int8Array {
  const s = atob(text)
  const out = new Int8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = (s.charCodeAt(i) << 24) >> 24
  return out
}

export const formatEditsLine = (value: EditsHeader | EditsEntry): string => JSON.stringify(value) + '\n'

export class EditsFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EditsFileError'
  }
}

export interface EditsFile {
  header: EditsHeader
  entries: EditsEntry[]
  /** The entries as a log replays them (rows decoded, labels as the header's class ids). */
  ops: EditOp[]
}

function parseLine<T>(schema: z.ZodType<T>, line: string, where: string): T {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    throw new EditsFileError(`${where}: not valid JSON (${(err as Error).message})`)
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new EditsFileError(`${where}: field "${issue.path.join('.') || '(root)'}": ${issue.message}`)
  }
  return parsed.data
}

/** Parses and checks an edits.jsonl; errors name the file, the line and the field. */
export function parseEditsFile(text: string, file: string): EditsFile {
  const lines = text.split('\n').map((l, i) => [l, i + 1] as const).filter(([l]) => l.trim() !== '')
  if (lines.length === 0) throw new EditsFileError(`${file}: empty (expected a header line from GET /v1/memory/export)`)
  const header = parseLine(EditsHeader, lines[0][0], `${file}: line ${lines[0][1]}`)
  const labels = new LabelSet(header.labels)
  const entries: EditsEntry[] = []
  const ops: EditOp[] = []
  let previous = 0
  for (const [line, n] of lines.slice(1)) {
    const where = `${file}: line ${n}`
    const e = parseLine(EditsEntry, line, where)
    if (e.version <= previous) throw new EditsFileError(`${where}: field "version": ${e.version} is not after ${previous} (entries must be in version order)`)
    if (e.version > header.version) throw new EditsFileError(`${where}: field "version": ${e.version} is after the header's version ${header.version}`)
    previous = e.version
    entries.push(e)
    if (e.op === 'add') {
      if (e.key === undefined || e.note !== undefined) {
        ops.push({ version: e.version, op: 'add' })
        continue
      }
      if (e.model !== header.model) throw new EditsFileError(`${where}: field "model": encoded by model ${e.model.slice(0, 12)}…, the log's model is ${header.model.slice(0, 12)}…`)
      const label = e.label === undefined ? undefined : labels.idOf(e.label)
      if (label === undefined) throw new EditsFileError(`${where}: field "label": ${JSON.stringify(e.label)} is not one of the log's labels (${labels.list().map((l) => l.label).join(', ')})`)
      if (e.residual === undefined || e.residualScale === undefined) throw new EditsFileError(`${where}: an add with a key needs "residual" and "residualScale"`)
      const key = fromBase64(e.key)
      const residual = fromBase64(e.residual)
      if (key.length !== header.dim) throw new EditsFileError(`${where}: field "key": ${key.length} bytes, the log's keys have ${header.dim}`)
      const width = residualWidth(label, header.labels.length)
      if (residual.length !== width) throw new EditsFileError(`${where}: field "residual": ${residual.length} bytes, a row of label ${JSON.stringify(e.label)} has ${width}`)
      const memoryLabel = label >= header.labels.length ? { label: e.label! } : {}
      ops.push({ version: e.version, op: 'add', row: { label, key, residual, residualScale: e.residualScale }, ...memoryLabel })
    } else if (e.op === 'label') {
      if (e.label === undefined || (e.target !== 'add' && e.target !== 'remove')) throw new EditsFileError(`${where}: a label entry needs "label" and "target": "add" or "remove"`)
      try {
        if (e.target === 'add') labels.add(e.label)
        else labels.remove(e.label)
      } catch (err) {
        throw new EditsFileError(`${where}: field "label": ${(err as Error).message}`)
      }
      ops.push({ version: e.version, op: 'label', label: e.label, action: e.target })
    } else {
      if (e.target === undefined) continue
      const target = parseRowId(e.target)
      if (!target) throw new EditsFileError(`${where}: field "target": ${JSON.stringify(e.target)} is not an id ("17") or a built row ("base:12")`)
      ops.push({ version: e.version, op: 'forget', target })
    }
  }
  return { header, entries, ops }
}
