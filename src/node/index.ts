/**
 * The Node edge: onnxruntime-node (native; a peer dependency, imported on first use) for the model, the SIMD
 * wasm kernel for the memory search (the TypeScript reference where the kernel has not been built), bundles
 * from a folder, a URL or a hub.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadBundle, type Bundle } from '../bundle/load.ts'
import { fetchSource, hubSource, type FileSource, type HubOptions } from '../bundle/source.ts'
import { ResMemClassifier } from '../classifier.ts'
import { createReferenceIndex, createWasmIndex, simdSupported, type KnnIndex } from '../knn/index.ts'
import { nodeOrt } from './ort.ts'
import { dirSource } from './source.ts'

export { dirSource }
export { nodeOrt, loadNodeOrt, MissingRuntimeError, NODE_ORT_PACKAGE } from './ort.ts'

export type KernelChoice = 'auto' | 'simd' | 'scalar' | 'reference'

const wasmPath = (kind: 'simd' | 'scalar') => fileURLToPath(new URL(`../../wasm/build/knn-${kind}.wasm`, import.meta.url))
const modules = new Map<string, WebAssembly.Module>()

function wasmModule(kind: 'simd' | 'scalar'): WebAssembly.Module {
  let m = modules.get(kind)
  if (!m) {
    m = new WebAssembly.Module(readFileSync(wasmPath(kind)))
    modules.set(kind, m)
  }
  return m
}

/** k-NN index factory for Node: SIMD wasm when built and supported, else the TypeScript reference. */
export function nodeIndexFactory(kernel: KernelChoice = 'auto'): (keys: Int8Array, rows: number, dim: number) => KnnIndex {
  return (keys, rows, dim) => {
    if (kernel === 'reference') return createReferenceIndex(keys, rows, dim)
    if (kernel === 'auto' && (!simdSupported() || !existsSync(wasmPath('simd')))) return createReferenceIndex(keys, rows, dim)
    const kind = kernel === 'scalar' ? 'scalar' : 'simd'
    return createWasmIndex(wasmModule(kind), keys, rows, dim, kind)
  }
}

/** `./dir`, `https://host/path/` or `hf:owner/name` (a Hugging Face style hub). */
export function sourceFor(location: string, hub: HubOptions = {}): FileSource {
  if (location.startsWith('hf:')) return hubSource(location.slice(3), hub)
  if (/^https?:\/\//.test(location)) return fetchSource(location, hub)
  return dirSource(location)
}

export interface NodeClassifierOptions {
  kernel?: KernelChoice
  hub?: HubOptions
  batchSize?: number
  /** onnxruntime-node session options, e.g. { intraOpNumThreads: 2 }. */
  sessionOptions?: object
}

export async function loadNodeBundle(location: string, hub?: HubOptions): Promise<Bundle> {
  return loadBundle(sourceFor(location, hub))
}

/**
 * Loads a ResMem build (the output folder of `resmem build`) for Node.
 * @example
 * const classifier = await loadClassifier('artifacts/spam')
 * const [result] = await classifier.classify(['WIN a FREE cruise, click now'])
 */
export async function loadClassifier(location: string, options: NodeClassifierOptions = {}): Promise<ResMemClassifier> {
  const bundle = await loadNodeBundle(location, options.hub)
  return ResMemClassifier.create(bundle, {
    ort: nodeOrt,
    createIndex: nodeIndexFactory(options.kernel),
    batchSize: options.batchSize,
    sessionOptions: options.sessionOptions,
  })
}
