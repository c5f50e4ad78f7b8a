/**
 * EditLog: the edit log of one served memory, a Durable Object with SQLite storage. One object per model
 * fingerprint and base memory (idFromName(logName(...))): what it holds are rows encoded by that model at that
 * memory's key scale and T, so keys of two models never meet in one log.
 *
 * The log is append-only: each entry has a version (its SQLite rowid, 1, 2, ...); an add's version is the
 * id of the example it learned, a forget names an added example ("17") or a built row ("base:12"). Writes run
 * in one synchronous transaction each (transactionSync) and answer the new version: the object is the one
 * writer, so the version it hands out is the order of truth. An acknowledged write is committed to SQLite
 * before the RPC answers (Durable Objects' output gate), so it survives eviction and restarts.
 *
 * Model changes: the log of a newly served model starts in state "importing" with its predecessor's log
 * named; the worker re-embeds the predecessor's entries in batches (importBatch, resumable: a cursor with
 * compare-and-set) and the log serves only once complete (finishImport). The predecessor is sealed first, so
 * it acknowledges no write that the import could miss.
 *
 * A rollback (or roll-forward) to a log served before: its lineage entry moves last and the log reopens in state
 * "importing" from the log that sealed it, at its own last version, so the writes acknowledged meanwhile carry
 * back (re-embedded with its model) and nothing acknowledged is lost.
 *
 * Labels that live in the memory (src/memory/labels.ts) are entries of the same log: `op = 'label'`, `label` the
 * name, `target` 'add' or 'remove'. A removal writes a forget of each of the label's live rows first, in the same
 * transaction, so counts, exports, folds and replays need nothing new to forget them.
 *
 * Writes also carry an idempotency key (kept IDEMPOTENCY_TTL_MS per token: a retry answers the first answer
 * and writes nothing) and a per-token rate (a token bucket here, in the one writer: exact, no extra hop).
 *
 * The object named `lineage:{MODEL}` plays one more role: it records which logs served that bundle name, in
 * order (succeed), so a new deployment finds the log it continues.
 */
import { DurableObject } from 'cloudflare:workers'

/** What a log's rows were encoded for; the worker that opens a log states it. */
export interface LogModel {
  /** SHA-256 of the ONNX model that embedded the rows. */
  model: string
  /** SHA-256 of the memory of the training file alone, whose rows `base:{row}` names (sets key scale and T). */
  base: string
  /** SHA-256 of the training file (a base row of two builds of one file is the same example). */
  train: string
  labels: string[]
  dim: number
  keyScale: number
  temperature: number
}

export type LogState = 'ready' | 'importing'

export interface LogStatus {
  /** Random id given when the log was created: versions are versions of this log. */
  epoch: string
  /** Last version written (0: empty). */
  version: number
  state: LogState
  /** Learned examples held (adds not forgotten). */
  live: number
  /** Built rows hidden (forgets of `base:{row}`): they count toward MAX_MEMORY_EDITS with `live`. */
  hidden?: number
  model: LogModel
  /** The log this one continues (imported while state is "importing"). */
  predecessor?: string
  /** The log that continues this one: it takes no more writes. */
  successor?: string
  /** Import progress: the predecessor's last version carried over. */
  cursor: number
  /** Random secret that salts token fingerprints (workers/memory/fingerprint.ts); never sent to clients. */
  salt?: string
  /** Labels added to the memory and not removed, in the order added (absent: none ever). */
  memoryLabels?: string[]
}

/** One log entry. Rows (key, residual) only where asked for; text only where asked for. */
export interface LogEntry {
  version: number
  op: 'add' | 'forget' | 'label'
  /** forget: "17" or "base:12"; label: "add" or "remove". */
  target?: string
  text?: string
  label?: string
  truncated?: boolean
  key?: Int8Array
  residual?: Int8Array
  residualScale?: number
  /** SHA-256 of the model that encoded the row. */
  model: string
  /** Fingerprint of the bearer token that wrote it (never the token). */
  token: string
  /** ms since the epoch. */
  at: number
  /** Why an entry carried over from another model is not served (its row is then absent). */
  note?: string
}

export interface NewEdit {
  text: string
  label: string
  truncated: boolean
  key: Int8Array
  residual: Int8Array
  residualScale: number
}

export type Refusal = {
  ok: false
  code: 'full' | 'importing' | 'sealed' | 'not_found' | 'stale_cursor' | 'wrong_model' | 'rate_limited' | 'idempotency_mismatch' | 'label_exists' | 'labels_full' | 'model_label' | 'unknown_label'
  message: string
  status: LogStatus
  /** rate_limited: seconds until the write would be taken. */
  retryAfter?: number
}
/** `replayed`: the answer first given to this idempotency key; nothing was written this time. */
export type AddResult = { ok: true; ids: number[]; version: number; replayed?: boolean } | Refusal
export type ForgetResult = { ok: true; version: number; replayed?: boolean } | Refusal
/** A label added or removed; `forgotten`: the removed label's rows forgotten with it. */
export type LabelResult = { ok: true; version: number; label: string; memoryLabels: string[]; forgotten?: number; replayed?: boolean } | Refusal

/** How long an idempotency key's first answer is kept (Stripe keeps them 24 hours too). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000

/** What every write states besides its content. */
export interface WriteOptions {
  /** Fingerprint of the bearer token (never the token). */
  token: string
  /** Most learned examples plus hidden built rows (MAX_MEMORY_EDITS). */
  maxEdits: number
  /** Writes per minute per token (bucket of that size, refilled evenly); 0: no limit. */
  writesPerMinute?: number
  /** Idempotency-Key and a digest of what was asked: a retry with the same key answers the first answer. */
  idempotency?: { key: string; request: string }
}

/** The object name of a served memory's log. */
export function logName(model: string, base: string): string {
  return `log:${model}:${base}`
}

export const lineageName = (bundle: string) => `lineage:${bundle}`

type Row = Record<string, SqlStorageValue>

/** About the most bytes one read answers (Durable Object RPC messages are limited to 32 MiB). */
const PAGE_BYTES = 8 << 20

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS entries (
     version INTEGER PRIMARY KEY,
     op TEXT NOT NULL CHECK (op IN ('add', 'forget', 'label')),
     target TEXT,
     text TEXT,
     label TEXT,
     truncated INTEGER,
     key BLOB,
     residual BLOB,
     residual_scale REAL,
     model TEXT NOT NULL,
     token TEXT NOT NULL,
     at INTEGER NOT NULL,
     note TEXT
   )`,
  // A row is forgotten once: a second forget of it is refused by the index, whatever races the callers run.
  `CREATE UNIQUE INDEX IF NOT EXISTS forgets ON entries (target) WHERE op = 'forget'`,
  `CREATE TABLE IF NOT EXISTS lineage (seq INTEGER PRIMARY KEY, log TEXT NOT NULL UNIQUE, predecessor TEXT, at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS idempotency (token TEXT NOT NULL, key TEXT NOT NULL, request TEXT NOT NULL, answer TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (token, key))`,
  `CREATE INDEX IF NOT EXISTS idempotency_at ON idempotency (at)`,
]

/** Logs created before memory labels: their entries table takes 'label' entries once rebuilt (SQLite cannot alter a CHECK). */
function widenOps(storage: DurableObjectStorage): void {
  const table = storage.sql.exec<{ sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'entries'`).toArray()[0]
  if (!table || table.sql.includes("'label'")) return
  storage.transactionSync(() => {
    storage.sql.exec(`ALTER TABLE entries RENAME TO entries_before_labels`)
    storage.sql.exec(SCHEMA[1])
    storage.sql.exec(`INSERT INTO entries SELECT * FROM entries_before_labels`)
    storage.sql.exec(`DROP TABLE entries_before_labels`)
    storage.sql.exec(SCHEMA[2])
  })
}

const randomSalt = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')

const bytes = (value: SqlStorageValue | undefined): Int8Array | undefined => (value instanceof ArrayBuffer ? new Int8Array(value) : undefined)

export class EditLog extends DurableObject<unknown> {
  private status: LogStatus | undefined
  /** Per-token write buckets: in memory (a restart refills them, which only ever lets writes through). */
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env)
    // Before the first call: the schema exists and the status is read once (later writes keep it current).
    void ctx.blockConcurrencyWhile(async () => {
      for (const statement of SCHEMA) ctx.storage.sql.exec(statement)
      widenOps(ctx.storage)
      const row = ctx.storage.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'status'`).toArray()[0]
      this.status = row ? (JSON.parse(row.value) as LogStatus) : undefined
      // Logs written before hidden rows were counted: count them once.
      if (this.status && this.status.hidden === undefined) this.status.hidden = ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM entries WHERE op = 'forget' AND target LIKE 'base:%'`).one().n
    })
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql
  }

  private save(status: LogStatus): void {
    this.sql.exec(`INSERT INTO meta (key, value) VALUES ('status', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, JSON.stringify(status))
  }

  /** Applies `change` to a copy of the status inside a transaction; the copy replaces the status once committed. */
  private write<T>(change: (next: LogStatus) => T): T {
    const next = structuredClone(this.required())
    const out = this.ctx.storage.transactionSync(() => {
      const result = change(next)
      this.save(next)
      return result
    })
    this.status = next
    return out
  }

  private required(): LogStatus {
    if (!this.status) throw new Error('edit log not opened: call open() first')
    return this.status
  }

  private refuse(code: Refusal['code'], message: string): Refusal {
    return { ok: false, code, message, status: this.required() }
  }

  /**
   * Creates the log on first use (state "ready", or "importing" when it continues `predecessor`); later calls
   * answer its status. A log is never reused for rows of another model or base memory.
   */
  open(model: LogModel, predecessor?: string): LogStatus | Refusal {
    if (!this.status) {
      const status: LogStatus = { epoch: crypto.randomUUID(), version: 0, state: predecessor ? 'importing' : 'ready', live: 0, hidden: 0, salt: randomSalt(), model, cursor: 0, ...(predecessor ? { predecessor } : {}) }
      this.ctx.storage.transactionSync(() => this.save(status))
      this.status = status
    }
    if (this.status.model.model !== model.model || this.status.model.base !== model.base) {
      return this.refuse('wrong_model', `this log holds rows of model ${this.status.model.model.slice(0, 12)}… / memory ${this.status.model.base.slice(0, 12)}…, not of ${model.model.slice(0, 12)}… / ${model.base.slice(0, 12)}…`)
    }
    // Logs created before fingerprints were salted get their salt on first open.
    if (this.status.salt === undefined) this.write((next) => void (next.salt = randomSalt()))
    // Served again after a newer log sealed it (a rollback): carry back what that log acknowledged since.
    if (this.status.successor !== undefined && predecessor !== undefined && predecessor !== this.name()) {
      this.write((next) => {
        delete next.successor
        next.state = 'importing'
        next.predecessor = predecessor
        next.cursor = next.version
      })
    }
    return this.status!
  }

  /** This object's name as logName() gave it (from the status, which every log has once opened). */
  private name(): string {
    const { model } = this.required()
    return logName(model.model, model.base)
  }

  getStatus(): LogStatus | undefined {
    return this.status
  }

  /**
   * Learns examples: one entry each, in one transaction. Refused whole when the log is full, sealed, importing
   * or the token over its rate; a known idempotency key answers its first answer.
   */
  add(edits: NewEdit[], options: WriteOptions): AddResult {
    const replay = this.replay<AddResult>(options)
    if (replay) return replay
    // A memory label removed since the isolate encoded the rows: nothing is learned under a label that is gone.
    const served = new Set([...this.required().model.labels, ...(this.required().memoryLabels ?? [])])
    const gone = edits.find((e) => !served.has(e.label))
    if (gone) return this.refuse('unknown_label', `${JSON.stringify(gone.label)} is not a label of the model or of the memory (it was removed)`)
    const refused = this.admit(options, edits.length)
    if (refused) return refused
    const at = Date.now()
    return this.remember(options, (next) => {
      const ids: number[] = []
      for (const e of edits) {
        const version = ++next.version
        this.sql.exec(
          `INSERT INTO entries (version, op, text, label, truncated, key, residual, residual_scale, model, token, at) VALUES (?, 'add', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          version, e.text, e.label, e.truncated ? 1 : 0, new Uint8Array(e.key.buffer, e.key.byteOffset, e.key.byteLength), new Uint8Array(e.residual.buffer, e.residual.byteOffset, e.residual.byteLength), e.residualScale, next.model.model, options.token, at,
        )
        ids.push(version)
      }
      next.live += edits.length
      return { ok: true as const, ids, version: next.version }
    })
  }

  /** The first answer to this token's idempotency key, or a refusal when the key came with another request. */
  private replay<T extends AddResult | ForgetResult>(options: WriteOptions): T | Refusal | undefined {
    if (!options.idempotency) return undefined
    this.sql.exec(`DELETE FROM idempotency WHERE at < ?`, Date.now() - IDEMPOTENCY_TTL_MS)
    const known = this.sql.exec<{ request: string; answer: string }>(`SELECT request, answer FROM idempotency WHERE token = ? AND key = ?`, options.token, options.idempotency.key).toArray()[0]
    if (!known) return undefined
    if (known.request !== options.idempotency.request) {
      return this.refuse('idempotency_mismatch', `Idempotency-Key ${JSON.stringify(options.idempotency.key)} was used with another request within the last ${IDEMPOTENCY_TTL_MS / 3_600_000} hours: send a new key for a new request`)
    }
    return { ...(JSON.parse(known.answer) as T), replayed: true }
  }

  /** A write's change, committed with its idempotency key's answer in one transaction. */
  private remember<T extends { ok: true }>(options: WriteOptions, change: (next: LogStatus) => T): T {
    return this.write((next) => {
      const answer = change(next)
      if (options.idempotency) this.sql.exec(`INSERT INTO idempotency (token, key, request, answer, at) VALUES (?, ?, ?, ?, ?)`, options.token, options.idempotency.key, options.idempotency.request, JSON.stringify(answer), Date.now())
      return answer
    })
  }

  /** Whether a write of `rows` more rows may go in now: the log's state, MAX_MEMORY_EDITS, the token's rate. */
  private admit(options: WriteOptions, rows: number): Refusal | undefined {
    const status = this.required()
    if (status.state === 'importing') return this.refuse('importing', `the edits of the previous model are being re-embedded (${status.cursor} of its entries done); try again shortly`)
    if (status.successor) return this.refuse('sealed', `a newer deployment (log ${status.successor}) continues this memory's edits; this one takes no more writes`)
    const held = status.live + (status.hidden ?? 0)
    if (held + rows > options.maxEdits) {
      // Folding the edits into a build frees nothing: the build keeps this log, and the log keeps its entries.
      return this.refuse('full', `the memory holds ${status.live} learned examples and ${status.hidden ?? 0} hidden built rows, and MAX_MEMORY_EDITS is ${options.maxEdits}: ${rows} more do not fit (forget learned examples you no longer need, or raise MAX_MEMORY_EDITS)`)
    }
    return this.take(options)
  }

  /** One write from the token's bucket (writesPerMinute big, refilled evenly), or a refusal with Retry-After. */
  private take(options: WriteOptions): Refusal | undefined {
    const perMinute = options.writesPerMinute ?? 0
    if (perMinute <= 0) return undefined
    const now = Date.now()
    const bucket = this.buckets.get(options.token) ?? { tokens: perMinute, at: now }
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.at) * perMinute) / 60_000)
    bucket.at = now
    this.buckets.set(options.token, bucket)
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / perMinute))
      return { ...this.refuse('rate_limited', `this token wrote more than MEMORY_WRITES_PER_MINUTE (${perMinute}) times in the last minute: try again in ${retryAfter} s (a bulk load can raise MEMORY_WRITES_PER_MINUTE)`), retryAfter }
    }
    bucket.tokens -= 1
    return undefined
  }

  /** Forgets an added example ("17") or hides a built row ("base:12"; the worker checks the row exists). */
  forget(target: string, options: WriteOptions): ForgetResult {
    const replay = this.replay<ForgetResult>(options)
    if (replay) return replay
    const edit = /^\d+$/.test(target)
    // Forgetting a learned example frees a place; hiding a built row takes one.
    const refused = this.admit(options, edit ? 0 : 1)
    if (refused) return refused
    if (edit && this.sql.exec(`SELECT 1 AS found FROM entries WHERE version = ? AND op = 'add'`, Number(target)).toArray().length === 0) return this.refuse('not_found', `${target} is not an example learned by this memory`)
    if (this.sql.exec(`SELECT 1 AS found FROM entries WHERE op = 'forget' AND target = ?`, target).toArray().length > 0) return this.refuse('not_found', `${target} is already forgotten`)
    return this.remember(options, (next) => {
      const version = ++next.version
      this.sql.exec(`INSERT INTO entries (version, op, target, model, token, at) VALUES (?, 'forget', ?, ?, ?, ?)`, version, target, next.model.model, options.token, Date.now())
      if (edit) next.live--
      else next.hidden = (next.hidden ?? 0) + 1
      return { ok: true as const, version }
    })
  }

  /** Adds a label that lives in the memory; refused when it exists (model or memory) or `maxLabels` are live. */
  addLabel(label: string, maxLabels: number, options: WriteOptions): LabelResult {
    const replay = this.replay<LabelResult>(options)
    if (replay) return replay
    const status = this.required()
    const live = status.memoryLabels ?? []
    if (status.model.labels.includes(label) || live.includes(label)) return this.refuse('label_exists', `${JSON.stringify(label)} is already a ${status.model.labels.includes(label) ? 'model' : 'memory'} label`)
    if (live.length >= maxLabels) return this.refuse('labels_full', `the memory holds ${live.length} labels of its own and MEMORY_MAX_LABELS is ${maxLabels}: remove one first (or raise MEMORY_MAX_LABELS)`)
    const refused = this.admit(options, 0)
    if (refused) return refused
    return this.remember(options, (next) => {
      const version = ++next.version
      this.sql.exec(`INSERT INTO entries (version, op, target, label, model, token, at) VALUES (?, 'label', 'add', ?, ?, ?, ?)`, version, label, next.model.model, options.token, Date.now())
      next.memoryLabels = [...(next.memoryLabels ?? []), label]
      return { ok: true as const, version, label, memoryLabels: next.memoryLabels }
    })
  }

  /** Removes a memory label: a forget of each of its live rows, then the label entry, in one transaction. */
  removeLabel(label: string, options: WriteOptions): LabelResult {
    const replay = this.replay<LabelResult>(options)
    if (replay) return replay
    const status = this.required()
    if (status.model.labels.includes(label)) return this.refuse('model_label', `${JSON.stringify(label)} is a label of the model: only labels added to the memory can be removed`)
    if (!(status.memoryLabels ?? []).includes(label)) return this.refuse('not_found', `${JSON.stringify(label)} is not a label of this memory`)
    const refused = this.admit(options, 0)
    if (refused) return refused
    return this.remember(options, (next) => {
      const rows = this.sql
        .exec<{ version: number }>(`SELECT version FROM entries e WHERE op = 'add' AND label = ? AND NOT EXISTS (SELECT 1 FROM entries f WHERE f.op = 'forget' AND f.target = CAST(e.version AS TEXT)) ORDER BY version`, label)
        .toArray()
      const at = Date.now()
      for (const { version: row } of rows) {
        this.sql.exec(`INSERT INTO entries (version, op, target, model, token, at) VALUES (?, 'forget', ?, ?, ?, ?)`, ++next.version, String(row), next.model.model, options.token, at)
      }
      next.live -= rows.length
      const version = ++next.version
      this.sql.exec(`INSERT INTO entries (version, op, target, label, model, token, at) VALUES (?, 'label', 'remove', ?, ?, ?, ?)`, version, label, next.model.model, options.token, at)
      next.memoryLabels = (next.memoryLabels ?? []).filter((l) => l !== label)
      return { ok: true as const, version, label, memoryLabels: next.memoryLabels, forgotten: rows.length }
    })
  }

  /**
   * Entries after `after`, in version order, at most `limit`. `rows`: with key and residual (what a replica
   * needs); `text`: with text and label (what a person or a re-embedding needs). While importing, a log lists
   * nothing: what it holds is not complete yet.
   */
  read(after: number, limit: number, include: { rows?: boolean; text?: boolean } = {}): { status: LogStatus; entries: LogEntry[]; more: boolean } {
    const status = this.required()
    if (status.state === 'importing') return { status, entries: [], more: false }
    const entries = this.select(after, limit, include)
    return { status, entries, more: entries.length > 0 && entries[entries.length - 1].version < status.version }
  }

  private select(after: number, limit: number, include: { rows?: boolean; text?: boolean }): LogEntry[] {
    const columns = ['version', 'op', 'target', 'label', 'truncated', 'model', 'token', 'at', 'note', ...(include.rows ? ['key', 'residual', 'residual_scale'] : []), ...(include.text ? ['text'] : [])]
    const cursor = this.sql.exec<Row>(`SELECT ${columns.join(', ')} FROM entries WHERE version > ? ORDER BY version LIMIT ?`, after, Math.max(0, Math.floor(limit)))
    // A page stops past PAGE_BYTES of text and rows (texts may be up to a request body each): RPC answers stay small.
    const rows: Row[] = []
    let size = 0
    for (const r of cursor) {
      rows.push(r)
      size += (typeof r.text === 'string' ? r.text.length * 3 : 0) + (r.key instanceof ArrayBuffer ? r.key.byteLength : 0) + 200
      if (size > PAGE_BYTES) break
    }
    return rows.map((r) => {
      const e: LogEntry = { version: r.version as number, op: r.op as LogEntry['op'], model: r.model as string, token: r.token as string, at: r.at as number }
      if (r.target !== null) e.target = r.target as string
      if (r.label !== null) e.label = r.label as string
      if (r.truncated !== null) e.truncated = r.truncated === 1
      if (r.note !== null) e.note = r.note as string
      if (include.text && r.text !== null) e.text = r.text as string
      if (include.rows && r.key !== null) {
        e.key = bytes(r.key)
        e.residual = bytes(r.residual)
        e.residualScale = r.residual_scale as number
      }
      return e
    })
  }

  /** Takes no more writes: `successor` (a newer model's log) continues it. Reads go on. */
  seal(successor: string): LogStatus {
    const status = this.required()
    if (status.successor === undefined) this.write((next) => void (next.successor = successor))
    return this.required()
  }

  /**
   * Entries of the predecessor's log, re-encoded for this one, carried over under their own versions.
   * Compare-and-set on the cursor: a batch meant for another cursor (a second isolate got there first) is refused.
   */
  importBatch(cursor: number, entries: LogEntry[], nextCursor: number): { ok: true; status: LogStatus } | Refusal {
    const status = this.required()
    if (status.state !== 'importing' || status.cursor !== cursor) return this.refuse('stale_cursor', `the import is at ${status.cursor} (${status.state}), not ${cursor}`)
    this.write((next) => {
      for (const e of entries) {
        if (e.version <= next.version) throw new RangeError(`imported entry ${e.version} is not after version ${next.version}`)
        this.sql.exec(
          `INSERT INTO entries (version, op, target, text, label, truncated, key, residual, residual_scale, model, token, at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          e.version, e.op, e.target ?? null, e.text ?? null, e.label ?? null, e.truncated === undefined ? null : e.truncated ? 1 : 0,
          e.key ? new Uint8Array(e.key.buffer, e.key.byteOffset, e.key.byteLength) : null,
          e.residual ? new Uint8Array(e.residual.buffer, e.residual.byteOffset, e.residual.byteLength) : null,
          e.residualScale ?? null, e.model, e.token, e.at, e.note ?? null,
        )
        next.version = e.version
        if (e.op === 'add') next.live++
        else if (e.op === 'label') next.memoryLabels = e.target === 'add' ? [...(next.memoryLabels ?? []), e.label!] : (next.memoryLabels ?? []).filter((l) => l !== e.label)
        else if (e.target && /^\d+$/.test(e.target)) next.live--
        else if (e.target) next.hidden = (next.hidden ?? 0) + 1
      }
      next.cursor = nextCursor
    })
    return { ok: true, status: this.required() }
  }

  /** The import is complete at `cursor` (the sealed predecessor has nothing after it): the log serves. */
  finishImport(cursor: number): { ok: true; status: LogStatus } | Refusal {
    const status = this.required()
    if (status.state === 'ready') return { ok: true, status }
    if (status.cursor !== cursor) return this.refuse('stale_cursor', `the import is at ${status.cursor}, not ${cursor}`)
    this.write((next) => {
      next.state = 'ready'
      // Versions continue after the predecessor's, so ids stay unique across models.
      next.version = Math.max(next.version, cursor)
    })
    return { ok: true, status: this.required() }
  }

  /**
   * Lineage role (the object `lineage:{MODEL}`): records that `log` serves the bundle now and answers the
   * log it continues (the one recorded before it), or none for the first. Asking again answers the same.
   */
  succeed(log: string): { predecessor?: string } {
    const last = this.sql.exec<{ log: string; predecessor: string | null }>(`SELECT log, predecessor FROM lineage ORDER BY seq DESC LIMIT 1`).toArray()[0]
    if (last?.log === log) return last.predecessor ? { predecessor: last.predecessor } : {}
    // A log served before and again now (a rollback) moves last: it continues the one served until now.
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(`DELETE FROM lineage WHERE log = ?`, log)
      this.sql.exec(`INSERT INTO lineage (log, predecessor, at) VALUES (?, ?, ?)`, log, last?.log ?? null, Date.now())
    })
    return last ? { predecessor: last.log } : {}
  }
}
