/** Errors of the served memory's edits, mapped to HTTP by workers/errors.ts. */
import type { Refusal } from '../objects/edit-log.ts'
import { CodedError } from '../../src/errors.ts'

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

/**
 * The log refused a write: `code` says why (full -> 409, importing -> 503, sealed -> 409, not_found -> 404,
 * rate_limited -> 429 with Retry-After, idempotency_mismatch -> 422).
 */
export class MemoryWriteError extends CodedError<Refusal['code']> {
  override readonly name = 'MemoryWriteError'
  constructor(
    code: Refusal['code'],
    message: string,
    readonly retryAfter?: number,
  ) {
    super(code, message)
  }
}

/** Any failure to reach the log, as a 503 with the reason. */
export function unavailable(err: unknown): Error {
  if (err instanceof MemoryUnavailableError || err instanceof MemoryWriteError) return err
  return new MemoryUnavailableError(`the edit log could not be reached: ${(err as Error)?.message ?? String(err)}`)
}
