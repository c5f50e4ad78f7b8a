/** Classify texts: the one path behind POST /v1/classify, the compatible routes and RPC `classify`. */
import type { ClassifyOptions } from '../../src/classifier.ts'
import type { Classification } from '../../src/types.ts'
import { invalidRequest } from '../errors.ts'
import type { OperationContext } from './context.ts'

export interface ClassifyCall {
  texts: readonly string[]
  explain?: boolean
  /** Neighbours searched; 0 answers with the base model alone; default: the served k. */
  k?: number
  /** The request field that held the texts, for the MAX_BATCH message (`texts`, `inputs`, `input`). */
  field?: string
}

export async function classifyTexts(ctx: OperationContext, call: ClassifyCall): Promise<Classification[]> {
  const { maxBatch } = ctx.settings
  if (call.texts.length > maxBatch) throw invalidRequest([{ path: call.field ?? 'texts', message: `at most ${maxBatch} texts per request, got ${call.texts.length}` }])
  const model = await ctx.model()
  // Edits written elsewhere since this isolate's copy: at most MEMORY_SYNC_MS old (memory-sync.ts).
  await model.memory?.current(ctx.background)
  const options: ClassifyOptions = { explain: call.explain ?? false, params: call.k === undefined ? undefined : { k: call.k } }
  return model.classify(call.texts, options)
}
