/** Classify texts: the one path behind POST /v1/classify, the compatible routes and RPC `classify`. */
import type { ClassifyOptions } from '../../src/classifier.ts'
import type { Answer, Classification } from '../../src/types.ts'
import { invalidRequest } from '../errors.ts'
import type { OperationContext } from './context.ts'

export interface ClassifyCall {
  texts: readonly string[]
  explain?: boolean
  /** Neighbours searched; 0 answers with the base model alone; default: the served k. */
  k?: number
  /** Miscoverage of the prediction set `set`; default: CONFORMAL_ALPHA, else the manifest's. */
  alpha?: number
  /** Answer `label: null` when the text is unfamiliar or the set does not hold exactly one label. */
  abstain?: boolean
  /** The request field that held the texts, for the MAX_BATCH message (`texts`, `inputs`, `input`). */
  field?: string
}

export interface Classified {
  results: Answer[]
  /** How old the edits served are, when the log could not be reached (served up to MEMORY_MAX_STALE_MS). */
  staleMs?: number
}

/** The answers and how fresh the edits behind them are (HTTP says it in a `Memory-Stale-Ms` header). */
export async function classifyFresh(ctx: OperationContext, call: ClassifyCall): Promise<Classified> {
  const { maxBatch, apiTokens } = ctx.settings
  if (call.texts.length > maxBatch) throw invalidRequest([{ path: call.field ?? 'texts', message: `at most ${maxBatch} texts per request, got ${call.texts.length}` }])
  const model = await ctx.model()
  // Edits written elsewhere since this isolate's copy: at most MEMORY_SYNC_MS old (workers/memory/sync.ts),
  // or up to MEMORY_MAX_STALE_MS while the log cannot be reached. Without API_TOKEN nothing can be written: no log.
  const fresh = apiTokens ? await model.memory?.current(ctx.background) : undefined
  const options: ClassifyOptions = {
    explain: call.explain ?? false,
    params: call.k === undefined ? undefined : { k: call.k },
    ...(call.alpha === undefined ? {} : { alpha: call.alpha }),
    abstain: call.abstain ?? false,
  }
  return { results: await model.classify(call.texts, options), staleMs: fresh?.staleMs || undefined }
}

/** Answers that never abstain (a label each), for the doors whose shapes have no "no answer". */
export async function classifyTexts(ctx: OperationContext, call: Omit<ClassifyCall, 'abstain'>): Promise<Classification[]> {
  return (await classifyFresh(ctx, { ...call, abstain: false })).results as Classification[]
}
