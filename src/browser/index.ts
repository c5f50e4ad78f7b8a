/**
 * ResMem in a web page: the classifier runs in a module Web Worker (onnxruntime-web on WebGPU where the
 * browser has it, WASM otherwise), driven through comlink. Results have the shape of the worker's
 * POST /v1/classify answers.
 *
 * @example
 * import { createClassifier } from './resmem.js'
 * const classifier = await createClassifier({ modelUrl: '/v1/model/files/', onProgress: console.log })
 * const result = await classifier.classify('WIN a FREE cruise, click now', { explain: true })
 * console.log(classifier.device, result.label, result.scores, result.neighbors)
 */
import * as Comlink from 'comlink'
import type { ClassifyOptions } from '../classifier.ts'
import type { ServedLabel } from '../memory/labels.ts'
import type { Answer, Classification } from '../types.ts'
import { DEFAULT_CACHE } from './cache.ts'
import type { Device, DevicePreference } from './device.ts'
import type { Embeddings, LoadInfo, LoadProgress, WorkerApi } from './protocol.ts'

export type { Answer, Classification, LabelScore, Neighbor, BasePrediction, Example } from '../types.ts'
import type { Example } from '../types.ts'
export type { ClassifyOptions } from '../classifier.ts'
export type { ServedLabel } from '../memory/labels.ts'
export type { Device, DevicePreference } from './device.ts'
export type { Embeddings, LoadInfo, LoadProgress } from './protocol.ts'

export interface CreateClassifierOptions {
  /** The bundle folder (manifest.json, config.json, tokenizer*.json, onnx/model.onnx, memory.bin), relative to the page or absolute. */
  modelUrl: string | URL
  /** The memory file, when it is served from elsewhere than the bundle folder. */
  memoryUrl?: string | URL
  /** 'auto' (default): WebGPU when the browser gives an adapter, else WASM. 'webgpu' fails where it cannot. */
  device?: DevicePreference
  /** Loading progress: device chosen, bytes downloaded (or read from the cache), runtime steps, ready. */
  onProgress?: (progress: LoadProgress) => void
  /** Cache Storage name for the model and runtime files; false to always download. Default "resmem". */
  cache?: string | false
  /** The folder with ort/*.wasm and knn-simd.wasm. Default: the worker script's folder. */
  runtimeUrl?: string | URL
  /** The worker script. Default: worker.js beside this module (as `npm run build:web` lays them out). */
  workerUrl?: string | URL
  /**
   * Headers of the bundle's requests, e.g. `{ authorization: 'Bearer <token>' }` for a worker whose API_TOKEN
   * guards /v1/model/files/.
   */
  headers?: Record<string, string>
}

export interface BrowserClassifier {
  /** Where the model runs. */
  readonly device: Device
  readonly info: LoadInfo
  classify(text: string, options?: ClassifyOptions & { abstain?: false }): Promise<Classification>
  classify(texts: readonly string[], options?: ClassifyOptions & { abstain?: false }): Promise<Classification[]>
  /** With `abstain`: label and score null, and `abstained`, for an unfamiliar text or a set of other than one label. */
  classify(text: string, options?: ClassifyOptions): Promise<Answer>
  classify(texts: readonly string[], options?: ClassifyOptions): Promise<Answer[]>
  /** The model's logits and embeddings (the ResMem keys before normalisation), transferred from the worker. */
  embed(texts: readonly string[]): Promise<Embeddings>
  /**
   * Learns labelled examples in this page's memory, without retraining (kept until the page closes; a worker
   * deployment keeps them with POST /v1/memory). Returns their ids.
   */
  learn(examples: readonly Example[]): Promise<string[]>
  /** Forgets learned examples (ids from learn) or built rows ("base:{row}"). */
  forget(ids: readonly string[]): Promise<void>
  /**
   * Adds a label the model does not have, living in this page's memory: teach it with learn(). Answers every
   * served label; an invalid or existing name, or more than 32 such labels, rejects with the reason.
   * @example
   * await classifier.addLabel('meeting')
   * await classifier.learn([{ text: 'Can we move our meeting to Thursday?', label: 'meeting' }])
   */
  addLabel(label: string): Promise<ServedLabel[]>
  /** Removes a label added with addLabel and forgets its learned rows. */
  removeLabel(label: string): Promise<{ label: string; forgotten: number }>
  /** The model's labels, then those added to the memory. */
  labels(): Promise<ServedLabel[]>
  /** Stops the worker. */
  dispose(): void
}

function absolute(url: string | URL | undefined): string | undefined {
  if (url === undefined) return undefined
  // The worker resolves against its own script URL, so relative URLs are fixed here, against the page.
  const base = typeof document !== 'undefined' ? document.baseURI : self.location.href
  return new URL(String(url), base).href
}

/**
 * A module worker from `url`. Browsers only start workers from the page's own origin; for a script on
 * another origin (this module imported from the server that hosts the model), a same-origin blob module
 * imports it instead, which needs only CORS on the script.
 */
function startWorker(url: string): Worker {
  const here = typeof location !== 'undefined' ? location.origin : undefined
  if (new URL(url).origin === here) return new Worker(url, { type: 'module', name: 'resmem' })
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url)}\n`], { type: 'text/javascript' }))
  const worker = new Worker(shim, { type: 'module', name: 'resmem' })
  // The worker has fetched the blob by the time it reports anything; until then the URL must live.
  worker.addEventListener('message', () => URL.revokeObjectURL(shim), { once: true })
  return worker
}

/** Rejects when the worker script fails to load or throws at top level (comlink would wait forever). */
function workerFailure(worker: Worker): Promise<never> {
  return new Promise((_, reject) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault()
      reject(new Error(`the ResMem worker failed to start: ${event.message || 'its script could not be loaded'}`))
    })
  })
}

/** Starts a Web Worker, loads the bundle into it and resolves once it can classify. */
export async function createClassifier(options: CreateClassifierOptions): Promise<BrowserClassifier> {
  if (!options?.modelUrl) throw new TypeError('createClassifier: modelUrl is required')
  const worker = startWorker(absolute(options.workerUrl) ?? new URL('./worker.js', import.meta.url).href)
  const remote = Comlink.wrap<WorkerApi>(worker)
  const failed = workerFailure(worker)
  // Observed by every call; this keeps a failure between calls from being an unhandled rejection.
  failed.catch(() => undefined)
  const onProgress = options.onProgress ? Comlink.proxy(options.onProgress) : undefined

  let info: LoadInfo
  try {
    info = await Promise.race([
      remote.load(
        {
          modelUrl: absolute(options.modelUrl)!,
          memoryUrl: absolute(options.memoryUrl),
          runtimeUrl: absolute(options.runtimeUrl),
          ...(options.headers ? { headers: options.headers } : {}),
          device: options.device ?? 'auto',
          cache: options.cache ?? DEFAULT_CACHE,
        },
        onProgress,
      ),
      failed,
    ])
  } catch (err) {
    worker.terminate()
    throw err
  }

  const classify = async (input: string | readonly string[], opts?: ClassifyOptions) => {
    const texts = typeof input === 'string' ? [input] : [...input]
    const results = await Promise.race([remote.classify(texts, opts), failed])
    return typeof input === 'string' ? results[0] : results
  }

  return {
    device: info.device,
    info,
    classify: classify as BrowserClassifier['classify'],
    embed: (texts) => Promise.race([remote.embed([...texts]), failed]),
    learn: (examples) => Promise.race([remote.learn(examples.map(({ text, label }) => ({ text, label }))), failed]),
    forget: (ids) => Promise.race([remote.forget([...ids]), failed]),
    addLabel: (label) => Promise.race([remote.addLabel(label), failed]),
    removeLabel: (label) => Promise.race([remote.removeLabel(label), failed]),
    labels: () => Promise.race([remote.labels(), failed]),
    dispose() {
      remote[Comlink.releaseProxy]()
      worker.terminate()
    },
  }
}
