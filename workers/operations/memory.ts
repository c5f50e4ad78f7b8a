/**
 * Learn and forget: the one path behind POST/DELETE /v1/memory and RPC `learn` / `forget`. The memory's write
 * path itself (the edit log, sync) is workers/memory/; this file only decides who may reach it and with what.
 */
import { parseRowId } from '../../src/memory/edits.ts'
import type { Example } from '../../src/types.ts'
import type { Settings } from '../env.ts'
import { ApiError, invalidRequest } from '../errors.ts'
import type { MemorySync, Writer, Written } from '../memory/index.ts'
import type { OperationContext } from './context.ts'

export const FORBIDDEN_MESSAGE =
  'the memory API needs a bearer token (the edit log holds user text) and API_TOKEN is not set: set one with `npx wrangler secret put API_TOKEN` (for `wrangler dev`: API_TOKEN=<token> in .dev.vars), then send `Authorization: Bearer <token>`'

/** The edit log is open only once API_TOKEN is set (it holds user text): 403 before, whoever asks. */
export function requireMemoryAccess(settings: Settings): void {
  if (!settings.apiTokens) throw new ApiError(403, 'forbidden', FORBIDDEN_MESSAGE)
}

/** The served memory's edits, or 501 when this deployment cannot learn. */
export async function servedMemory(ctx: OperationContext): Promise<MemorySync> {
  if (!ctx.env.EDIT_LOG) throw new ApiError(501, 'not_implemented', 'the EDIT_LOG Durable Object binding is missing (wrangler.toml [[durable_objects.bindings]] name = "EDIT_LOG", class_name = "EditLog")')
  const model = await ctx.model()
  if (!model.memory) throw new ApiError(501, 'unsupported', 'this memory cannot learn: only an int8 memory (what `resmem build` writes) can')
  return model.memory
}

/** `writer`: who writes, under which limits and Idempotency-Key (workers/memory/writer.ts `writerOf`). */
export async function learnExamples(ctx: OperationContext, examples: readonly Example[], writer: Writer): Promise<Written> {
  requireMemoryAccess(ctx.settings)
  const { maxBatch } = ctx.settings
  if (examples.length > maxBatch) throw invalidRequest([{ path: 'examples', message: `at most ${maxBatch} examples per request, got ${examples.length}` }])
  const memory = await servedMemory(ctx)
  return memory.learn(examples, writer, ctx.background)
}

export async function forgetRow(ctx: OperationContext, id: string, writer: Writer): Promise<{ version: number; replayed?: boolean }> {
  requireMemoryAccess(ctx.settings)
  if (!parseRowId(id)) throw invalidRequest([{ path: 'id', message: `"${id}" is neither an example id ("17") nor a built row ("base:12")` }])
  const memory = await servedMemory(ctx)
  return memory.forget(id, writer, ctx.background)
}
