/**
 * The module Web Worker that holds the classifier, driven by the page through comlink (see protocol.ts).
 * Everything heavy happens here: choosing the device, reading the bundle through the Cache API, starting
 * onnxruntime-web, tokenizing, running the model and searching the memory.
 */
import * as Comlink from 'comlink'
import { loadBundle } from '../bundle/load.ts'
import { ResMemClassifier } from '../classifier.ts'
import { cacheKey, cacheWritesSettled, cachedBundleSource, openCache, readThrough, settledWithin, type FileProgress } from './cache.ts'
import { chooseDevice, jspiSupported, type DeviceEnvironment } from './device.ts'
import { KNN_WASM, browserIndex } from './knn.ts'
import { loadOrt } from './ort.ts'
import type { Embeddings, LoadInfo, LoadProgress, WorkerApi, WorkerLoadOptions } from './protocol.ts'

let classifier: ResMemClassifier | undefined
let loading: Promise<LoadInfo> | undefined

/** How long a load waits, once the model answers, for the Cache API's copies and clean-up. */
const CACHE_WAIT_MS = 10_000

/** Download progress at most every 1% (or 1 MB): each report is a postMessage to the page. */
function throttled(report: (p: LoadProgress) => void): (p: FileProgress) => void {
  const last = new Map<string, number>()
  return (p) => {
    const step = p.total ? Math.max(p.total / 100, 65536) : 1 << 20
    const prev = last.get(p.url)
    if (prev !== undefined && p.loaded - prev < step && p.loaded !== p.total) return
    last.set(p.url, p.loaded)
    report({ stage: 'download', ...p })
  }
}

async function load(options: WorkerLoadOptions, onProgress?: (p: LoadProgress) => void): Promise<LoadInfo> {
  const started = performance.now()
  const report = (p: LoadProgress) => void Promise.resolve(onProgress?.(p)).catch(() => undefined)
  const progress = throttled(report)
  const runtimeUrl = options.runtimeUrl ?? new URL('./', import.meta.url).href

  const { device, reason } = await chooseDevice(options.device, { navigator: self.navigator as DeviceEnvironment['navigator'], jspi: jspiSupported() })
  report({ stage: 'device', device, reason })

  const bundleFiles = cachedBundleSource(options.modelUrl, { memoryUrl: options.memoryUrl, cache: options.cache, headers: options.headers, onProgress: progress })
  const runtimeFiles = { network: [] as string[], cache: [] as string[] }
  const cache = await openCache({ cache: options.cache })
  const readWasm = async (url: string, version: string) => {
    const { bytes, cached } = await readThrough(cache, url, cacheKey(url, `ort-${version}`), url, { onProgress: progress })
    ;(cached ? runtimeFiles.cache : runtimeFiles.network).push(url)
    return bytes
  }

  report({ stage: 'init', step: 'onnxruntime' })
  const [runtime, bundle, index] = await Promise.all([
    loadOrt(device, { ortUrl: new URL('ort/', runtimeUrl).href, readWasm }),
    loadBundle(bundleFiles.source),
    browserIndex(new URL(KNN_WASM, runtimeUrl).href),
  ])
  report({ stage: 'init', step: 'session' })
  classifier = await ResMemClassifier.create(bundle, { ort: runtime.ort, sessionOptions: runtime.sessionOptions, createIndex: index.createIndex })
  runtime.started()
  // The copies for the next page load, then older builds' files (which only take space now that this one loaded):
  // bounded, as a stuck Cache API must not keep the model from answering.
  if (await cacheWritesSettled(CACHE_WAIT_MS)) await settledWithin(bundleFiles.prune(), CACHE_WAIT_MS)

  const info: LoadInfo = {
    device,
    deviceReason: reason,
    model: bundle.manifest.name,
    labels: [...classifier.labels],
    params: { ...classifier.params },
    memoryRows: bundle.memory.rows,
    onnxruntime: runtime.description,
    knn: index.kernel,
    ...(index.reason ? { knnReason: index.reason } : {}),
    loadMs: Math.round(performance.now() - started),
    files: {
      network: [...runtimeFiles.network, ...bundleFiles.stats.network],
      cache: [...runtimeFiles.cache, ...bundleFiles.stats.cache],
    },
  }
  report({ stage: 'ready', info })
  // The page's callback is a comlink proxy (a MessagePort): loading is over, let both ends close it.
  ;(onProgress as Partial<Comlink.Remote<object>> | undefined)?.[Comlink.releaseProxy]?.()
  return info
}

function ready(): ResMemClassifier {
  if (!classifier) throw new Error('the classifier is not loaded yet: call load() first')
  return classifier
}

const api: WorkerApi = {
  load(options, onProgress) {
    // One classifier per worker; a second load() gets the first one's outcome.
    loading ??= load(options, onProgress)
    return loading
  },
  async classify(texts, options) {
    return ready().classify(texts, options)
  },
  async learn(examples) {
    return ready().learn(examples)
  },
  async forget(ids) {
    return ready().forget(ids)
  },
  async addLabel(label) {
    return ready().addLabel(label)
  },
  async removeLabel(label) {
    return ready().removeLabel(label)
  },
  async labels() {
    return ready().servedLabels()
  },
  async embed(texts) {
    const { outputs } = await ready().embed(texts)
    const count = outputs.reduce((n, o) => n + o.batch, 0)
    const dim = outputs[0]?.dim ?? 0
    const classes = outputs[0]?.classes ?? 0
    const result: Embeddings = { count, dim, classes, embeddings: new Float32Array(count * dim), logits: new Float32Array(count * classes) }
    let row = 0
    for (const o of outputs) {
      result.embeddings.set(o.embedding.subarray(0, o.batch * dim), row * dim)
      result.logits.set(o.logits.subarray(0, o.batch * classes), row * classes)
      row += o.batch
    }
    return Comlink.transfer(result, [result.embeddings.buffer, result.logits.buffer])
  },
}

Comlink.expose(api)
