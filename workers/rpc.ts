/**
 * ResMem over Worker RPC: a WorkerEntrypoint another Worker calls through a service binding
 * (`services = [{ binding = "RESMEM", service = "resmem-edge", entrypoint = "ResMem" }]`), no HTTP in between.
 * Each method runs the same operation as its HTTP route (workers/operations): the same schemas, MAX_BATCH,
 * errors and memory decision. Trust: a service binding can only be wired by someone who deploys to the account,
 * so RPC asks for no bearer token; API_TOKEN still decides whether the memory is open (learn and forget answer
 * 403 while it is unset, as over HTTP), and RPC writes are stored with the writer "rpc".
 * Errors: workerd hands the caller an Error with only the message kept, `ResMemError: <code> (<status>): <message>`
 * (the HTTP error's code, status and message; parseResMemError reads them back).
 */
// First: zod schemas made before @hono/zod-openapi extends zod lack .openapi() (schemas.ts needs it).
import { z } from '@hono/zod-openapi'
import { WorkerEntrypoint } from 'cloudflare:workers'
import type { Classification, Example } from '../src/types.ts'
import { lazyModel, loadFromBundleSource, type ModelLoader } from './classifier.ts'
import { checkWorkersAiModel, WorkersAiInput, workersAiLabels, type WorkersAiLabelScore } from './compat/workers-ai.ts'
import { settings, type Bindings } from './env.ts'
import { errorReply, type Issue } from './errors.ts'
import type { ServedLabel } from '../src/memory/labels.ts'
import { addMemoryLabel, classifyTexts, forgetRow, learnExamples, listLabels, modelInfo, removeMemoryLabel, validate, type ModelInfo, type OperationContext } from './operations/index.ts'
import { AddLabelRequest, ClassifyOptions, ClassifyRequest, LabelParam, LearnRequest, MemoryIdParam } from './schemas.ts'
import { writerOf, type Writer, type Written } from './memory/index.ts'

/** The token an RPC write is stored under (its salted fingerprint, as an HTTP write's bearer token): RPC callers share one write-rate budget. */
export const RPC_WRITER = 'rpc'

/** An RPC write's writer: the deployment's limits, no Idempotency-Key (an RPC retry is the caller's to make safe). */
const rpcWriter = (ctx: OperationContext): Writer => writerOf(ctx.settings, RPC_WRITER, undefined)

/** What an RPC caller catches: the HTTP error's status, code and message (and the bad fields for a 400). */
export class ResMemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Issue[],
  ) {
    super(`${code} (${status}): ${message}`)
    this.name = 'ResMemError'
  }
}

/** The code, status and message of an error a ResMem RPC call threw, from its message; undefined for other errors. */
export function parseResMemError(err: unknown): { code: string; status: number; message: string } | undefined {
  const m = err instanceof Error ? /^(?:ResMemError: )?(\w+) \((\d{3})\): ([\s\S]*)$/.exec(err.message) : null
  return m ? { code: m[1], status: Number(m[2]), message: m[3] } : undefined
}

export interface ClassifyRpcOptions {
  /** Add the memorized neighbours that moved each decision. */
  explain?: boolean
  /** Neighbours searched (0..256); 0 answers with the base model alone. */
  k?: number
}

const Id = z.string()

/**
 * The entrypoint class, serving the isolate's default model (its own lazyModel of loadFromBundleSource);
 * resmemEntrypoint(model) makes one that shares the HTTP app's model.
 * @example
 * // The ResMem worker's main module
 * import { createApp, lazyModel, loadFromBundleSource, resmemEntrypoint } from 'resmem-edge/workers'
 * const model = lazyModel(loadFromBundleSource) // one model per isolate for HTTP and RPC
 * export default createApp({ sharedModel: model })
 * export const ResMem = resmemEntrypoint(model)
 *
 * // A caller's wrangler.toml: services = [{ binding = "RESMEM", service = "resmem-edge", entrypoint = "ResMem" }]
 * const { label, score } = await env.RESMEM.classify({ text: 'WIN a FREE cruise!' })
 */
export class ResMemEntrypoint extends WorkerEntrypoint<Bindings> {
  /** The model the methods run (static: workerd constructs the class per call). */
  static servedModel: ModelLoader = lazyModel(loadFromBundleSource)

  /** `{text}` answers one Classification, `{texts}` answers `{results}` in input order, as POST /v1/classify. */
  async classify(input: { text: string }, options?: ClassifyRpcOptions): Promise<Classification>
  async classify(input: { texts: string[] }, options?: ClassifyRpcOptions): Promise<{ results: Classification[] }>
  async classify(input: { text?: string; texts?: string[] }, options: ClassifyRpcOptions = {}): Promise<Classification | { results: Classification[] }> {
    return this.#call(async (ctx) => {
      const body = validate(ClassifyRequest, input, 'body')
      const { explain, k } = validate(ClassifyOptions, options ?? {}, 'options')
      const results = await classifyTexts(ctx, { texts: body.texts ?? [body.text as string], explain, k })
      return body.texts ? { results } : results[0]
    })
  }

  /** Learns labelled examples (POST /v1/memory): their ids, the log version, which texts were cut. */
  async learn(examples: Example[]): Promise<Written> {
    return this.#call(async (ctx) => learnExamples(ctx, validate(LearnRequest, { examples }, 'body').examples, rpcWriter(ctx)))
  }

  /** Forgets a learned example (its id) or hides a built row (`base:{row}`), as DELETE /v1/memory/{id}. */
  async forget(id: string): Promise<{ version: number }> {
    return this.#call(async (ctx) => forgetRow(ctx, validate(MemoryIdParam, { id: validate(Id, id, 'id') }, 'id').id, rpcWriter(ctx)))
  }

  /** Adds a label that lives in the memory, as POST /v1/labels: the served labels after it. */
  async addLabel(label: string): Promise<{ label: string; source: 'memory'; labels: ServedLabel[] }> {
    return this.#call(async (ctx) => {
      const added = await addMemoryLabel(ctx, validate(AddLabelRequest, { label }, 'body').label, rpcWriter(ctx))
      return { label: added.label, source: 'memory' as const, labels: added.labels }
    })
  }

  /** Removes a memory label and forgets its rows, as DELETE /v1/labels/{label}. */
  async removeLabel(label: string): Promise<{ label: string; forgotten: number }> {
    return this.#call(async (ctx) => {
      const removed = await removeMemoryLabel(ctx, validate(LabelParam, { label }, 'label').label, rpcWriter(ctx))
      return { label: removed.label, forgotten: removed.forgotten ?? 0 }
    })
  }

  /** The served labels, as GET /v1/labels. */
  async labels(): Promise<{ labels: ServedLabel[] }> {
    return this.#call(async (ctx) => ({ labels: await listLabels(ctx) }))
  }

  /** The served bundle's manifest, as GET /v1/model. */
  async model(): Promise<ModelInfo> {
    return this.#call(async (ctx) => modelInfo(ctx))
  }

  /** Workers AI's `env.AI.run(model, {text})` for text classification: a caller swaps the AI binding for this one. */
  async run(modelName: string, input: { text: string }): Promise<WorkersAiLabelScore[]> {
    return this.#call(async (ctx) => {
      checkWorkersAiModel(ctx.settings, validate(Id, modelName, 'model'))
      const { text } = validate(WorkersAiInput, input, 'body')
      const [result] = await classifyTexts(ctx, { texts: [text], field: 'text' })
      return workersAiLabels(result)
    })
  }

  // A #private method: workerd exposes an entrypoint's prototype methods over RPC, and this one hands env to a callback.
  async #call<T>(operation: (ctx: OperationContext) => Promise<T>): Promise<T> {
    try {
      const s = settings(this.env)
      const model = (this.constructor as typeof ResMemEntrypoint).servedModel
      const ctx: OperationContext = { env: this.env, settings: s, model: () => model(this.env, s), background: (work) => this.ctx.waitUntil(work) }
      return await operation(ctx)
    } catch (err) {
      const { status, body } = errorReply(err)
      throw new ResMemError(status, body.error.code, body.error.message, body.error.details)
    }
  }
}

/** An entrypoint class over `model` (share the HTTP app's: createApp({ sharedModel: model })). */
export function resmemEntrypoint(model: ModelLoader = lazyModel(loadFromBundleSource)): typeof ResMemEntrypoint {
  return class ResMem extends ResMemEntrypoint {
    static override servedModel = model
  }
}
