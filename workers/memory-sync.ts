/**
 * The served memory's edits, per isolate: the classifier's overlay (and hidden built rows) is a copy of the
 * edit log (workers/objects/edit-log.ts) at a known version, brought up to date
 *  - before a classification, when the copy is older than MEMORY_SYNC_MS (a pull started at time s holds every
 *    write acknowledged before s, so an answer at time t holds every write acknowledged before t - MEMORY_SYNC_MS);
 *  - right after this isolate's own writes, up to the version the write returned (read-your-writes).
 * A pull asks the log for the entries after the copy's version (a delta), in pages.
 *
 * When the served model (or its base memory) is new, its log continues the one served before under the same
 * bundle name: the entries are re-embedded with this model in batches, resumably, before they serve
 * (importStep); meanwhile the built memory serves alone and writes answer 503.
 */
import type { ResMemClassifier } from '../src/classifier.ts'
import { MemoryEditError, formatRowId, parseRowId, type EditOp, type MemoryRowId } from '../src/memory/edits.ts'
import { EDITS_FORMAT, EDITS_FORMAT_VERSION, formatEditsLine, toBase64, type EditsEntry, type EditsHeader } from '../src/memory/edits-file.ts'
import type { Manifest } from '../src/memory/manifest.ts'
import type { Example } from '../src/types.ts'
import { lineageName, logName, type EditLog, type LogEntry, type LogModel, type LogStatus, type NewEdit, type Refusal } from './objects/edit-log.ts'

export type EditLogNamespace = DurableObjectNamespace<EditLog>

/** How long a caller waits on another request's pull before it pulls itself. */
const STALLED_MS = 5000

/** Work that may outlive the request (ctx.waitUntil where the runtime gives one). */
export type Background = (work: Promise<unknown>) => void

/** The edit log cannot be read now: classifications and writes answer 503 rather than a stale memory. */
export class MemoryUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfter = 1,
  ) {
    super(message)
    this.name = 'MemoryUnavailableError'
  }
}

/** The log refused a write: `code` says why (full -> 409, importing -> 503, sealed -> 409, not_found -> 404). */
export class MemoryWriteError extends Error {
  constructor(
    readonly code: Refusal['code'],
    message: string,
  ) {
    super(message)
    this.name = 'MemoryWriteError'
  }
}

export interface MemorySyncOptions {
  /** The bundle name served (MODEL): logs that served it succeed one another. */
  bundle: string
  /** Copies older than this pull before answering. */
  syncMs: number
  /** Entries per page of a pull. */
  pageSize?: number
  /** Examples re-embedded per import step. */
  importBatch?: number
  /** Milliseconds one import run may take before it leaves the rest to the next request. */
  importBudgetMs?: number
  now?: () => number
}

export interface Written {
  ids: string[]
  version: number
  truncated: boolean[]
}

/** A page of the log as GET /v1/memory lists it. */
export interface LogPage {
  status: LogStatus
  entries: LogEntry[]
  /** Whether entries after these remain. */
  more: boolean
}

export class MemorySync {
  /** The Durable Object name of this memory's log. */
  readonly name: string
  readonly model: LogModel
  private readonly pageSize: number
  private readonly importBatch: number
  private readonly importBudgetMs: number
  private readonly now: () => number
  /** Last log version the classifier's copy holds. */
  private version: number
  private epoch: string | undefined
  /** Start time of the last complete pull (the copy holds every write acknowledged before it). */
  private lastPull = -Infinity
  private pulling: { done: Promise<void>; started: number } | undefined
  private opening: Promise<LogStatus> | undefined
  private importing: Promise<void> | undefined
  /** The log's state at the last pull. */
  state: LogStatus['state'] | undefined

  constructor(
    private readonly classifier: ResMemClassifier,
    manifest: Manifest,
    private readonly namespace: EditLogNamespace,
    private readonly options: MemorySyncOptions,
  ) {
    if (!classifier.edits) throw new MemoryEditError('unsupported', 'this memory has float32 keys: only an int8 memory (what `resmem build` writes) can learn')
    const base = manifest.edits?.base.sha256 ?? manifest.memory.sha256
    this.model = {
      model: manifest.model.sha256,
      base,
      train: manifest.data.train.sha256,
      labels: [...manifest.labels],
      dim: manifest.memory.dim,
      keyScale: classifier.edits.keyScale,
      temperature: classifier.params.temperature,
    }
    this.name = logName(this.model.model, base)
    this.version = classifier.fold.version
    this.pageSize = options.pageSize ?? 2000
    this.importBatch = options.importBatch ?? 16
    this.importBudgetMs = options.importBudgetMs ?? 20_000
    this.now = options.now ?? Date.now
  }

  private log(name = this.name): DurableObjectStub<EditLog> {
    return this.namespace.get(this.namespace.idFromName(name))
  }

  /** Opens the log once per isolate, naming the log it continues (from the bundle's lineage). */
  open(): Promise<LogStatus> {
    this.opening ??= (async () => {
      const { predecessor } = await this.namespace.get(this.namespace.idFromName(lineageName(this.options.bundle))).succeed(this.name)
      const status = await this.log().open(this.model, predecessor)
      if ('ok' in status) throw new MemoryUnavailableError(status.message, 60)
      return status
    })().catch((err: unknown) => {
      this.opening = undefined
      throw unavailable(err)
    })
    return this.opening
  }

  /** Brings the copy up to date when it is older than MEMORY_SYNC_MS (before a classification). */
  async current(background: Background): Promise<void> {
    await this.open()
    const due = this.now() - this.options.syncMs
    // A pull joined while running may have started before `due`: then one more (one started now ends the loop).
    while (this.lastPull < due) await this.pull(background)
  }

  /** Brings the copy up to at least `version` (after this isolate's own write). */
  async atLeast(version: number, background: Background): Promise<void> {
    while (this.version < version && this.state !== 'importing') await this.pull(background)
  }

  /**
   * One pull at a time per isolate; callers arriving meanwhile wait for it. A pull started by a request that
   * went away may never settle (its I/O is cancelled with it): after STALLED_MS a caller starts its own.
   */
  private pull(background: Background): Promise<void> {
    if (this.pulling && this.now() - this.pulling.started < STALLED_MS) return this.pulling.done
    const done: Promise<void> = this.pullOnce(background).finally(() => {
      if (this.pulling?.done === done) this.pulling = undefined
    })
    this.pulling = { done, started: this.now() }
    return done
  }

  private async pullOnce(background: Background): Promise<void> {
    const started = this.now()
    const log = this.log()
    const fold = this.classifier.fold
    for (;;) {
      let page: { status: LogStatus; entries: LogEntry[]; more: boolean }
      try {
        page = await log.read(this.version, this.pageSize, { rows: true })
      } catch (err) {
        throw unavailable(err)
      }
      const { status, entries, more } = page
      this.state = status.state
      if (status.state === 'importing') {
        this.startImport(background)
        break
      }
      if (fold.log !== undefined && fold.log !== status.epoch) {
        throw new MemoryUnavailableError(`the bundle folds in edits of edit log ${fold.log}, but this deployment's log is ${status.epoch} (was the log recreated?): rebuild from a fresh \`resmem memory pull\``, 60)
      }
      if (this.epoch !== undefined && status.epoch !== this.epoch) {
        // A log created anew (its storage was deleted): start the copy over.
        this.classifier.resetEdits()
        this.version = fold.version
        this.epoch = status.epoch
        continue
      }
      this.epoch = status.epoch
      // A pull running beside this one (after a stall) may have applied some of these already.
      const unseen = entries.filter((e) => e.version > this.version)
      if (unseen.length) {
        this.classifier.applyEdits(this.opsOf(unseen), this.version)
        this.version = unseen[unseen.length - 1].version
      }
      if (!more) break
    }
    this.lastPull = Math.max(this.lastPull, started)
  }

  /** Log entries as the classifier replays them (rows with this model's class ids). */
  private opsOf(entries: readonly LogEntry[]): EditOp[] {
    const labels = this.classifier.labels
    const ops: EditOp[] = []
    for (const e of entries) {
      if (e.op === 'add') {
        const label = e.label === undefined ? -1 : labels.indexOf(e.label)
        // Only rows this model encoded: keys of two models never meet in one memory.
        const ours = e.model === this.model.model && label >= 0
        const row = ours && e.key && e.residual && e.residualScale !== undefined ? { label, key: e.key, residual: e.residual, residualScale: e.residualScale } : undefined
        ops.push({ version: e.version, op: 'add', row })
      } else {
        const target = e.target === undefined ? undefined : parseRowId(e.target)
        if (target) ops.push({ version: e.version, op: 'forget', target })
      }
    }
    return ops
  }

  /** Learns examples: embedded here with the served model, written to the log, in this isolate's copy at once. */
  async learn(examples: readonly Example[], token: string, maxEdits: number, background: Background): Promise<Written> {
    await this.open()
    const rows = await this.classifier.encode(examples)
    const edits: NewEdit[] = rows.map((r, i) => ({ text: examples[i].text, label: examples[i].label, truncated: r.truncated, key: r.key, residual: r.residual, residualScale: r.residualScale }))
    const result = await this.write(() => this.log().add(edits, { maxEdits, token }))
    await this.atLeast(result.version, background)
    return { ids: result.ids.map((id) => formatRowId({ kind: 'edit', id })), version: result.version, truncated: rows.map((r) => r.truncated) }
  }

  /** Forgets an added example or hides a built row; MemoryWriteError('not_found') for an id the memory does not hold. */
  async forget(value: string, token: string, background: Background): Promise<{ version: number }> {
    await this.open()
    const id = parseRowId(value)
    const notFound = () => new MemoryWriteError('not_found', `${JSON.stringify(value)} is not a row of this memory (an id from POST /v1/memory, or base:{row} of a built row not yet forgotten)`)
    if (!id) throw notFound()
    if (id.kind === 'base' && (id.row >= this.classifier.fold.baseRows || !this.holdsBase(id))) throw notFound()
    const result = await this.write(() => this.log().forget(formatRowId(id), { token }))
    await this.atLeast(result.version, background)
    return { version: result.version }
  }

  /** A built row this copy still serves (a stale copy may still show a row another isolate hid: the log decides). */
  private holdsBase(id: MemoryRowId): boolean {
    return this.classifier.fold.rowOf(id) !== undefined
  }

  private async write<T extends { ok: true }>(call: () => Promise<T | Refusal>): Promise<T> {
    let result: T | Refusal
    try {
      result = await call()
    } catch (err) {
      throw unavailable(err)
    }
    if (!result.ok) {
      if (result.code === 'importing') throw new MemoryUnavailableError(result.message, 5)
      throw new MemoryWriteError(result.code, result.message)
    }
    return result
  }

  /** A page of the log: entries after `after`, with text, without the encoded rows. */
  async list(after: number, limit: number): Promise<LogPage> {
    await this.open()
    try {
      return await this.log().read(after, limit, { text: true })
    } catch (err) {
      throw unavailable(err)
    }
  }

  /** The whole log as edits.jsonl (src/memory/edits-file.ts), read page by page as the stream is consumed. */
  async export(): Promise<ReadableStream<Uint8Array>> {
    const status = await this.open().then(() => this.log().getStatus())
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
    const log = this.log()
    let after = 0
    let sentHeader = false
    const pageSize = Math.min(this.pageSize, 500)
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

  /** Starts (once per isolate) re-embedding the predecessor's entries; the work continues past the response. */
  private startImport(background: Background): void {
    if (this.importing) return
    this.importing = this.importRun()
      .catch((err: unknown) => console.error(`resmem: re-embedding the previous model's edits stopped (the next request resumes it): ${(err as Error).message}`))
      .finally(() => {
        this.importing = undefined
      })
    background(this.importing)
  }

  /** Import steps until the log serves, or until the budget is spent (the next request resumes at the cursor). */
  async importRun(): Promise<void> {
    const deadline = this.now() + this.importBudgetMs
    while (!(await this.importStep())) if (this.now() > deadline) return
  }

  /**
   * One batch of the import: the predecessor (sealed first, so it acknowledges nothing the import could miss)
   * is read after the cursor; adds are re-embedded with this model, forgets carried over; the batch is written
   * under compare-and-set on the cursor. Answers true once the log serves.
   */
  async importStep(): Promise<boolean> {
    const log = this.log()
    const status = await log.getStatus()
    if (!status || status.state !== 'importing') return true
    // A predecessor still importing itself holds a prefix of its own predecessor's entries, under the same versions.
    let source = status.predecessor!
    let from = this.log(source)
    let sourceStatus = await from.seal(this.name)
    while (sourceStatus.state === 'importing' && sourceStatus.predecessor) {
      source = sourceStatus.predecessor
      from = this.log(source)
      sourceStatus = await from.seal(this.name)
    }
    const { entries } = await from.read(status.cursor, this.importBatch, { text: true })
    if (entries.length === 0) {
      const done = await log.finishImport(status.cursor)
      return done.ok || done.status.state === 'ready'
    }
    const carried = await this.reencode(entries, sourceStatus.model)
    const result = await log.importBatch(status.cursor, carried, entries[entries.length - 1].version)
    if (!result.ok && result.code !== 'stale_cursor') throw new Error(result.message)
    return false
  }

  /** Entries of another model's log, for this one: texts embedded again, rows of another training file dropped. */
  private async reencode(entries: readonly LogEntry[], from: LogModel): Promise<LogEntry[]> {
    const labels = new Set(this.classifier.labels)
    const toEmbed = entries.filter((e) => e.op === 'add' && e.note === undefined && e.text !== undefined && e.label !== undefined && labels.has(e.label))
    const rows = toEmbed.length ? await this.classifier.encode(toEmbed.map((e) => ({ text: e.text!, label: e.label! }))) : []
    const encoded = new Map(toEmbed.map((e, i) => [e.version, rows[i]]))
    return entries.map((e): LogEntry => {
      const { key: _k, residual: _r, residualScale: _s, ...kept } = e
      if (e.op === 'add') {
        const row = encoded.get(e.version)
        if (row) return { ...kept, truncated: row.truncated, key: row.key, residual: row.residual, residualScale: row.residualScale, model: this.model.model }
        return { ...kept, note: e.note ?? `label ${JSON.stringify(e.label)} is not a label of model ${this.model.model.slice(0, 12)}… (labels: ${this.classifier.labels.join(', ')})` }
      }
      if (e.target?.startsWith('base:') && from.train !== this.model.train) {
        const { target: _t, ...rest } = kept
        return { ...rest, note: `forgot built row ${e.target} of another training file (${from.train.slice(0, 12)}…)` }
      }
      return kept
    })
  }
}

/** Any failure to reach the log, as a 503 with the reason. */
function unavailable(err: unknown): Error {
  if (err instanceof MemoryUnavailableError || err instanceof MemoryWriteError) return err
  return new MemoryUnavailableError(`the edit log could not be reached: ${(err as Error)?.message ?? String(err)}`)
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

/** A token's fingerprint for the log: the first 16 hex digits of its SHA-256 (the token itself is never stored). */
export async function tokenFingerprint(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)))
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('')
}

/** `ctx.waitUntil` of the request where the runtime gives one (an in-process `app.request` has none). */
export function background(c: { executionCtx: { waitUntil(p: Promise<unknown>): void } }): Background {
  try {
    const ctx = c.executionCtx
    return (work) => ctx.waitUntil(work)
  } catch {
    return (work) => void work.catch(() => undefined)
  }
}
