/**
 * Who writes and under which limits: what a route (or an RPC method) states for each write, checked here once.
 * The log enforces them (workers/objects/edit-log.ts): MAX_MEMORY_EDITS, MEMORY_WRITES_PER_MINUTE per token,
 * and the idempotency key's first answer.
 */
import type { Settings } from '../env.ts'
import type { WriteOptions } from '../objects/edit-log.ts'
import { tokenFingerprint } from './fingerprint.ts'

/** An Idempotency-Key: 1 to 255 visible ASCII characters (Stripe allows 255). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

export interface Writer {
  /** The bearer token (kept in memory for this request only: the log stores its salted fingerprint). */
  token: string
  maxEdits: number
  writesPerMinute: number
  idempotencyKey?: string
}

/** An invalid Idempotency-Key (a 400 naming it). */
export class IdempotencyKeyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'IdempotencyKeyError'
  }
}

/** The writer of a request: its bearer token, the deployment's limits, its Idempotency-Key (validated). */
export function writerOf(settings: Pick<Settings, 'maxMemoryEdits' | 'memoryWritesPerMinute'>, token: string, idempotencyKey: string | undefined): Writer {
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new IdempotencyKeyError(`Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good key), got ${JSON.stringify(idempotencyKey.slice(0, 300))}`)
  }
  return { token, maxEdits: settings.maxMemoryEdits, writesPerMinute: settings.memoryWritesPerMinute, idempotencyKey }
}

/**
 * The log's options for one write: the token as the log's salted fingerprint; `request` becomes a digest of
 * what was asked, so a reused key with another request is refused.
 */
export async function writeOptions(writer: Writer, salt: string, request: string): Promise<WriteOptions> {
  const { maxEdits, writesPerMinute, idempotencyKey } = writer
  const token = await tokenFingerprint(writer.token, salt)
  if (idempotencyKey === undefined) return { token, maxEdits, writesPerMinute }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(request)))
  return { token, maxEdits, writesPerMinute, idempotency: { key: idempotencyKey, request: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') } }
}
