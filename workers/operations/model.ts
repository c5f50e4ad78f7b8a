/** The served model: the one path behind GET /v1/model and RPC `model`. */
import type { Manifest } from '../../src/memory/manifest.ts'
import type { ServedState } from '../../src/classifier.ts'
import type { OperationContext } from './context.ts'

/** The bundle's manifest and `served`: what answers now (built memory on or off, k, radius, learned rows, ...). */
export type ModelInfo = Manifest & { served: ServedState }

export async function modelInfo(ctx: OperationContext): Promise<ModelInfo> {
  const model = await ctx.model()
  // Learned rows written elsewhere since this isolate's copy count too (workers/memory/sync.ts); without
  // API_TOKEN nothing can be learned, so the log is not read (as classify).
  if (ctx.settings.apiTokens) await model.memory?.current(ctx.background)
  return { ...model.manifest, served: model.served() }
}
