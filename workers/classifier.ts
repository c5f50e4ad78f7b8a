/**
 * The classifier, loaded lazily once per isolate: the first request that needs it starts the load (bundle
 * from the assets, ORT session, k-NN index) and every request arriving meanwhile awaits the same promise.
 * A failed load is remembered with its reason for `retryMs` (those requests get 503 at once, so a broken
 * deployment cannot turn every request into a 10 MB asset read), then the next request tries again.
 */
import { loadBundle } from '../src/bundle/load.ts'
import { ResMemClassifier, type ClassifyOptions, type ServedState } from '../src/classifier.ts'
import type { Manifest } from '../src/memory/manifest.ts'
import type { Answer } from '../src/types.ts'
import type { FileSource } from '../src/bundle/source.ts'
import { assetsSource } from './assets.ts'
import { bundleSource } from './bundle-source.ts'
import { ConfigError, type Bindings, type Settings } from './env.ts'
import { KNN_KERNEL, simdIndex, simdKeyIndex } from './knn.ts'
import { shardSegments } from './memory-shards.ts'
import { MemorySync } from './memory/index.ts'
import { ORT_VERSION, workerdOrt } from './ort.ts'
import { ORT_BATCH } from './ort-batch.ts'

/** What the routes need from a loaded model. */
export interface ServedModel {
  readonly manifest: Manifest
  /** How the model runs here, for /healthz. */
  readonly runtime: { onnxruntime: string; knn: string; loadMs: number }
  /** The memory's edits (POST/DELETE /v1/memory); absent without the EDIT_LOG binding or for a float32 memory. */
  readonly memory?: MemorySync
  classify(texts: readonly string[], options?: ClassifyOptions): Promise<Answer[]>
  /** What answers now (GET /v1/model `served`). */
  served(): ServedState
}

export type ModelLoader = (env: Bindings, settings: Settings) => Promise<ServedModel>

/** The model could not be loaded (now, or recently and not yet retried). */
export class ModelUnavailableError extends Error {
  constructor(
    message: string,
    /** Seconds until the next load attempt. */
    readonly retryAfter: number,
  ) {
    super(message)
    this.name = 'ModelUnavailableError'
  }
}

export { ORT_BATCH } from './ort-batch.ts'

/** Loads a bundle from `source` and runs it with onnxruntime-web; its edits live in env.EDIT_LOG. */
export async function loadServedModel(source: FileSource, env: Bindings, settings: Settings): Promise<ServedModel> {
  const started = Date.now()
  const shards = settings.memoryShards
  if (shards > 0 && !env.MEMORY_SHARD) throw new ConfigError(`MEMORY_SHARDS is ${shards} but the MEMORY_SHARD Durable Object binding is missing (wrangler.toml)`)
  // Sharded, the isolate loads none of the memory's rows: the shard objects hold them.
  const bundle = await loadBundle(source, shards > 0 ? { rows: { first: 0, end: 0 } } : { keyIndex: simdKeyIndex })
  const builtSegments = shards > 0 ? shardSegments(env.MEMORY_SHARD!, bundle.manifest, { model: settings.model, count: shards, timeoutMs: settings.memoryShardTimeoutMs }) : undefined
  const classifier = await ResMemClassifier.create(bundle, { ort: workerdOrt, createIndex: simdIndex, batchSize: ORT_BATCH, releaseModelBytes: true, builtSegments, microBatch: settings.microBatch, novelty: settings.novelty, alpha: settings.alpha })
  const knn = shards > 0 ? `${KNN_KERNEL} in ${shards} Durable Object shards` : KNN_KERNEL
  const runtime = { onnxruntime: `onnxruntime-web ${ORT_VERSION} (wasm, 1 thread)`, knn, loadMs: Date.now() - started }
  const memory = env.EDIT_LOG && classifier.edits ? new MemorySync(classifier, bundle.manifest, env.EDIT_LOG, { bundle: settings.model, syncMs: settings.memorySyncMs, maxStaleMs: settings.memoryMaxStaleMs, logTimeoutMs: settings.memoryLogTimeoutMs }) : undefined
  return {
    manifest: bundle.manifest,
    runtime,
    memory,
    classify: (texts, options) => classifier.classify(texts, options),
    served: () => classifier.servedState(),
  }
}

/** Loads `settings.model` from Workers Static Assets and runs it with onnxruntime-web. */
export const loadFromAssets: ModelLoader = (env, settings) => loadServedModel(assetsSource(env.ASSETS, settings.model), env, settings)

/** Loads `settings.model` from where BUNDLE_SOURCE says (assets or the BUNDLES R2 bucket): the worker's default. */
export const loadFromBundleSource: ModelLoader = (env, settings) => loadServedModel(bundleSource(env, settings.bundleSource, settings.model), env, settings)

export interface LazyModelOptions {
  /** Clock, for tests. */
  now?: () => number
}

/**
 * Wraps a loader so it runs once (per isolate, for the first settings seen) and shares its promise.
 * @example
 * const model = lazyModel(loadFromAssets)
 * app.get('/healthz', async (c) => c.json((await model(c.env, settings(c.env))).manifest))
 */
export function lazyModel(load: ModelLoader, options: LazyModelOptions = {}): ModelLoader {
  const now = options.now ?? Date.now
  let pending: Promise<ServedModel> | undefined
  let failed: { reason: string; at: number } | undefined

  return function model(env, settings) {
    if (pending) return pending
    if (failed) {
      const wait = failed.at + settings.loadRetryMs - now()
      if (wait > 0) return Promise.reject(new ModelUnavailableError(failed.reason, Math.ceil(wait / 1000)))
    }
    pending = load(env, settings).then(
      (served) => {
        failed = undefined
        return served
      },
      (err: unknown) => {
        pending = undefined
        failed = { reason: describe(err), at: now() }
        throw new ModelUnavailableError(failed.reason, Math.ceil(settings.loadRetryMs / 1000))
      },
    )
    return pending
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? `${err.name} (${code}): ${err.message}` : `${err.name}: ${err.message}`
}
