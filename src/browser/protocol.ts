/**
 * What the page and the classifier's Web Worker say to each other through comlink: the worker's API and
 * the shapes crossing the boundary. Types only, so the page's bundle never pulls in the worker's code.
 */
import type { ClassifyOptions } from '../classifier.ts'
import type { ServedLabel } from '../memory/labels.ts'
import type { ResMemParams } from '../resmem/search.ts'
import type { Answer, Example } from '../types.ts'
import type { Device, DevicePreference } from './device.ts'

export interface WorkerLoadOptions {
  /** Absolute URL of the bundle folder (the one holding manifest.json). */
  modelUrl: string
  /** Absolute URL of the memory file, when it is not beside the model. */
  memoryUrl?: string
  device: DevicePreference
  /** Absolute URL of the folder with ort/*.wasm and knn-simd.wasm; default: the worker script's folder. */
  runtimeUrl?: string
  /** Cache Storage name, or false to always use the network. */
  cache: string | false
  /** Headers of the bundle's requests (not the runtime's): an Authorization header behind an API token. */
  headers?: Record<string, string>
}

/** What loading is doing, for a progress bar. */
export type LoadProgress =
  | { stage: 'device'; device: Device; reason: string }
  | { stage: 'download'; url: string; loaded: number; total?: number; cached: boolean }
  | { stage: 'init'; step: 'onnxruntime' | 'session' }
  | { stage: 'ready'; info: LoadInfo }

/** How the classifier was loaded and runs. */
export interface LoadInfo {
  device: Device
  /** Why this device (for 'auto', why WebGPU was or was not used). */
  deviceReason: string
  /** The bundle's name (manifest.json). */
  model: string
  labels: string[]
  params: ResMemParams
  memoryRows: number
  /** onnxruntime-web version and build. */
  onnxruntime: string
  /** The k-NN kernel: the SIMD wasm one, or the TypeScript reference where SIMD wasm is unavailable. */
  knn: 'simd' | 'reference'
  knnReason?: string
  loadMs: number
  /** Bundle and runtime file URLs, by where their bytes came from on this load. */
  files: { network: string[]; cache: string[] }
}

/** Model outputs for many texts: row-major, `count` rows. */
export interface Embeddings {
  count: number
  dim: number
  classes: number
  /** count x dim: the input of the model's classifier layer, the ResMem key before normalisation. */
  embeddings: Float32Array
  /** count x classes. */
  logits: Float32Array
}

export interface WorkerApi {
  load(options: WorkerLoadOptions, onProgress?: (p: LoadProgress) => void): Promise<LoadInfo>
  classify(texts: string[], options?: ClassifyOptions): Promise<Answer[]>
  /** Transferred, not copied. */
  embed(texts: string[]): Promise<Embeddings>
  /** Learns examples in this worker's memory (until the page closes); returns their ids. */
  learn(examples: Example[]): Promise<string[]>
  /** Forgets learned examples or built rows ("base:{row}"). */
  forget(ids: string[]): Promise<void>
  /** Adds a label that lives in this worker's memory (taught by learn with it); answers the served labels. */
  addLabel(label: string): Promise<ServedLabel[]>
  /** Removes a memory label and forgets its learned rows. */
  removeLabel(label: string): Promise<{ label: string; forgotten: number }>
  /** The model's labels, then the memory's. */
  labels(): Promise<ServedLabel[]>
}
