/**
 * An error that callers tell apart by its stable `code` (HTTP answers, tests, retries); the message is for people
 * and may change. The bundle, memory.bin, edit and label errors share this shape; each keeps its own class so
 * `instanceof` still says which layer refused, and the worker maps each to its HTTP status (workers/errors.ts).
 */
export class CodedError<Code extends string> extends Error {
  readonly code: Code
  constructor(code: Code, message: string) {
    super(message)
    this.code = code
  }
}
