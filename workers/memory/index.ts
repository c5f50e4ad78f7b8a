/** The served memory's edits per isolate: the copy (sync), writes, the import on a model change, the log read out. */
export { background, type Background } from './background.ts'
export { MemoryUnavailableError, MemoryWriteError } from './errors.ts'
export { exportEntry, type LogPage } from './export.ts'
export { tokenFingerprint } from './fingerprint.ts'
export { MemorySync, type EditLogNamespace, type Freshness, type MemorySyncOptions } from './sync.ts'
export type { Written } from './writes.ts'
export type { LabelWritten } from './labels.ts'
export { IdempotencyKeyError, writerOf, type Writer } from './writer.ts'
