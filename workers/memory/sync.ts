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
 * (import.ts); meanwhile the built memory serves alone and writes answer 503.
 */
import type { ResMemClassifier } from '../../src/classifier.ts'
import { MemoryEditError, parseRowId, type EditOp } from '../../src/memory/edits.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import type { Example } from '../../src/types.ts'
import { lineageName, logName, type EditLog, type LogEntry, type LogModel, type LogStatus } from '../objects/edit-log.ts'
import type { Background } from './background.ts'
import { MemoryUnavailableError, unavailable } from './errors.ts'
import { exportLog, listLog, type LogPage } from './export.ts'
import { importRun, importStep } from './import.ts'
import { addLabel, removeLabel, type LabelWritten } from './labels.ts'
import { forget, learn, type Written } from './writes.ts'
import type { Writer } from './writer.ts'

export type EditLogNamespace = DurableObjectNamespace<EditLog>

/** How fresh the served copy is: `staleMs` over 0 when the log could not be reached and an older copy serves. */
export interface Freshness {
  staleMs: number
  /** Why the copy could not be brought up to date. */
  reason?: string
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
  /** How old a copy may serve while the log cannot be reached (MEMORY_MAX_STALE_MS); default 60000. */
  maxStaleMs?: number
  /** Longest wait on the log, joined pulls included (MEMORY_LOG_TIMEOUT_MS); default 5000. */
  logTimeoutMs?: number
  now?: () => number
}

export class MemorySync {
  /** The Durable Object name of this memory's log. */
  readonly name: string
  readonly model: LogModel
  readonly pageSize: number
  readonly importBatch: number
  private readonly importBudgetMs: number
  readonly now: () => number
  /** Last log version the classifier's copy holds. */
  private version: number
  private epoch: string | undefined
  /** Start time of the last complete pull (the copy holds every write acknowledged before it). */
  private lastPull = -Infinity
  private pulling: { done: Promise<void>; started: number } | undefined
  private opening: Promise<LogStatus> | undefined
  private importing: { done: Promise<void>; started: number } | undefined
  /** The last version this isolate wrote: its copy may not serve stale below it (read-your-writes). */
  private owed = 0
  /** While importing: built rows the previous log hid are hidden here too, read after this version of `source`. */
  private hiddenFrom: { source: string; after: number } | undefined
  private readonly maxStaleMs: number
  private readonly logTimeoutMs: number
  /** The log's state at the last pull. */
  state: LogStatus['state'] | undefined

  constructor(
    readonly classifier: ResMemClassifier,
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
    this.maxStaleMs = options.maxStaleMs ?? 60_000
    this.logTimeoutMs = options.logTimeoutMs ?? 5000
  }

  /** `work`, or a MemoryUnavailableError once the log has kept us waiting past MEMORY_LOG_TIMEOUT_MS. */
  deadline<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MemoryUnavailableError(`the edit log did not answer ${what} within MEMORY_LOG_TIMEOUT_MS (${this.logTimeoutMs} ms)`)), this.logTimeoutMs)
    })
    return Promise.race([work, late]).finally(() => clearTimeout(timer))
  }

  /** The log object named `name` (this memory's log by default). */
  log(name = this.name): DurableObjectStub<EditLog> {
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

  /**
   * Brings the copy up to date when it is older than MEMORY_SYNC_MS (before a classification). When the log
   * cannot be reached, the copy serves if it is at most MEMORY_MAX_STALE_MS old and holds this isolate's own
   * writes (Freshness says how stale); past that, MemoryUnavailableError (503).
   */
  async current(background: Background): Promise<Freshness> {
    try {
      await this.deadline(this.open(), 'opening the log')
      const due = this.now() - this.options.syncMs
      // A pull joined while running may have started before `due`: then one more (one started now ends the loop).
      while (this.lastPull < due) await this.deadline(this.pull(background), 'a pull')
      return { staleMs: 0 }
    } catch (err) {
      const e = unavailable(err)
      const age = this.now() - this.lastPull
      if (!(e instanceof MemoryUnavailableError) || this.owed > this.version || !(age <= this.maxStaleMs)) throw e
      return { staleMs: Math.max(1, Math.round(age)), reason: e.message }
    }
  }

  /** Brings the copy up to at least `version` (after this isolate's own write). */
  async atLeast(version: number, background: Background): Promise<void> {
    while (this.version < version && this.state !== 'importing') await this.deadline(this.pull(background), 'a pull')
  }

  /**
   * After this isolate's own committed write: the copy catches up now, or (the log unreachable) at the next
   * classification, which answers 503 rather than serve a copy without the write.
   */
  async settle(version: number, background: Background): Promise<void> {
    this.owed = Math.max(this.owed, version)
    try {
      await this.atLeast(version, background)
    } catch (err) {
      this.lastPull = -Infinity
      console.error(`resmem: a committed write (version ${version}) is not in this isolate's copy yet: ${(err as Error).message}`)
    }
  }

  /**
   * One pull at a time per isolate; callers arriving meanwhile wait for it. A pull started by a request that
   * went away may never settle (its I/O is cancelled with it): after MEMORY_LOG_TIMEOUT_MS a caller starts its own.
   */
  private pull(background: Background): Promise<void> {
    if (this.pulling && this.now() - this.pulling.started < this.logTimeoutMs) return this.pulling.done
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
        await this.hidePredecessorsForgets(status)
        break
      }
      if (fold.log !== undefined && fold.log !== status.epoch) {
        throw new MemoryUnavailableError(`the bundle folds in edits of edit log ${fold.log}, but this deployment's log is ${status.epoch} (was the log recreated?): rebuild from a fresh \`resmem memory pull\``, 60)
      }
      if (this.epoch !== undefined && status.epoch !== this.epoch) {
        // A log created anew (its storage was deleted): start the copy over.
        this.classifier.resetEdits()
        this.version = fold.version
        this.owed = 0
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

  /**
   * While this log imports, its predecessors' hidden built rows stay hidden: forgets need no re-embedding, so
   * they serve at once (read from the ready log at the end of the chain, which holds every entry of it).
   */
  private async hidePredecessorsForgets(status: LogStatus): Promise<void> {
    let name = status.predecessor
    let source = name === undefined ? undefined : await this.log(name).getStatus()
    while (source?.state === 'importing' && source.predecessor) {
      name = source.predecessor
      source = await this.log(name).getStatus()
    }
    if (!name || !source || source.model.train !== this.model.train) return
    if (this.hiddenFrom?.source !== name) this.hiddenFrom = { source: name, after: 0 }
    for (;;) {
      const { entries, more } = await this.log(name).read(this.hiddenFrom.after, this.pageSize)
      const ops: EditOp[] = []
      for (const e of entries) {
        const target = e.op === 'forget' && e.target?.startsWith('base:') ? parseRowId(e.target) : undefined
        if (target) ops.push({ version: e.version, op: 'forget', target })
      }
      // Hiding is idempotent: the same forgets replayed once the import ends change nothing.
      if (ops.length) this.classifier.applyEdits(ops, 0)
      if (entries.length) this.hiddenFrom.after = entries[entries.length - 1].version
      if (!more) break
    }
  }

  /** Log entries as the classifier replays them (rows with this model's class ids). */
  private opsOf(entries: readonly LogEntry[]): EditOp[] {
    const labels = this.classifier.labels
    const ops: EditOp[] = []
    for (const e of entries) {
      if (e.op === 'add') {
        const label = e.label === undefined ? -1 : labels.indexOf(e.label)
        // Only rows this model encoded: keys of two models never meet in one memory.
        const ours = e.model === this.model.model && e.label !== undefined
        const row = ours && e.key && e.residual && e.residualScale !== undefined ? { label, key: e.key, residual: e.residual, residualScale: e.residualScale } : undefined
        // A memory label's class id is known when the entry is replayed, after the label entries before it.
        ops.push({ version: e.version, op: 'add', row, ...(label < 0 && e.label !== undefined ? { label: e.label } : {}) })
      } else if (e.op === 'label') {
        if (e.label !== undefined && (e.target === 'add' || e.target === 'remove')) ops.push({ version: e.version, op: 'label', label: e.label, action: e.target })
      } else {
        const target = e.target === undefined ? undefined : parseRowId(e.target)
        if (target) ops.push({ version: e.version, op: 'forget', target })
      }
    }
    return ops
  }

  /** Pulls now, whatever MEMORY_SYNC_MS says (a write naming a label this copy does not know yet). */
  async refresh(background: Background): Promise<void> {
    await this.deadline(this.open(), 'opening the log')
    await this.deadline(this.pull(background), 'a pull')
  }

  addLabel(label: string, writer: Writer, maxLabels: number, background: Background): Promise<LabelWritten> {
    return addLabel(this, label, writer, maxLabels, background)
  }

  removeLabel(label: string, writer: Writer, background: Background): Promise<LabelWritten> {
    return removeLabel(this, label, writer, background)
  }

  learn(examples: readonly Example[], writer: Writer, background: Background): Promise<Written> {
    return learn(this, examples, writer, background)
  }

  forget(value: string, writer: Writer, background: Background): Promise<{ version: number; replayed?: boolean }> {
    return forget(this, value, writer, background)
  }

  list(after: number, limit: number): Promise<LogPage> {
    return listLog(this, after, limit)
  }

  export(): Promise<ReadableStream<Uint8Array>> {
    return exportLog(this)
  }

  /**
   * Starts (once at a time per isolate) re-embedding the predecessor's entries; the work continues past the
   * response. A run cut off with its request may never settle: past its budget another starts (the cursor's
   * compare-and-set keeps two runs from writing one batch twice).
   */
  private startImport(background: Background): void {
    if (this.importing && this.now() - this.importing.started < this.importBudgetMs + this.logTimeoutMs) return
    const done: Promise<void> = importRun(this, this.importBudgetMs)
      .catch((err: unknown) => console.error(`resmem: re-embedding the previous model's edits stopped (the next request resumes it): ${(err as Error).message}`))
      .finally(() => {
        if (this.importing?.done === done) this.importing = undefined
      })
    this.importing = { done, started: this.now() }
    background(done)
  }

  importRun(): Promise<void> {
    return importRun(this, this.importBudgetMs)
  }

  importStep(): Promise<boolean> {
    return importStep(this)
  }
}
