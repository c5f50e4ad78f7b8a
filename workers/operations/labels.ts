/**
 * Labels that live in the memory: the one path behind /v1/labels. Writes need the bearer token as memory writes
 * do (403 while API_TOKEN is unset); the list is what classify answers with now.
 */
import type { ServedLabel } from '../../src/memory/labels.ts'
import type { LabelWritten, Writer } from '../memory/index.ts'
import type { OperationContext } from './context.ts'
import { requireMemoryAccess, servedMemory } from './memory.ts'

/** The served labels: the model's in its order, then the memory's in the order added (after a sync). */
export async function listLabels(ctx: OperationContext): Promise<ServedLabel[]> {
  const model = await ctx.model()
  if (ctx.settings.apiTokens) await model.memory?.current(ctx.background)
  return model.memory ? model.memory.classifier.servedLabels() : model.served().labels
}

export async function addMemoryLabel(ctx: OperationContext, label: string, writer: Writer): Promise<LabelWritten & { labels: ServedLabel[] }> {
  requireMemoryAccess(ctx.settings)
  const memory = await servedMemory(ctx)
  const written = await memory.addLabel(label, writer, ctx.settings.maxMemoryLabels, ctx.background)
  return { ...written, labels: memory.classifier.servedLabels() }
}

export async function removeMemoryLabel(ctx: OperationContext, label: string, writer: Writer): Promise<LabelWritten> {
  requireMemoryAccess(ctx.settings)
  const memory = await servedMemory(ctx)
  return memory.removeLabel(label, writer, ctx.background)
}
