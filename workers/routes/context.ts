/** An HTTP request as an operation's context (workers/operations). */
import type { Context } from 'hono'
import type { AppEnv } from '../app-env.ts'
import { background } from '../memory/index.ts'
import type { OperationContext } from '../operations/index.ts'

export function operationContext(c: Context<AppEnv>): OperationContext {
  return { env: c.env, settings: c.var.settings, model: c.var.model, background: background(c) }
}
