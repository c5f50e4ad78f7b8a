/** Input checked by the same zod schemas the HTTP routes validate with, for doors without a validator (RPC). */
import type { z } from '@hono/zod-openapi'
import { invalidRequest, issues } from '../errors.ts'

/** The parsed value, or a 400 `invalid_request` naming each bad field under `root` (`body`, `id`). */
export function validate<S extends z.ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw invalidRequest(issues(parsed.error, root))
  return parsed.data
}
