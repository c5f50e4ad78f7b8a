import type { FillableIndexFactory, KnnIndex } from '../knn/types.ts'
import { sha256Hex } from '../memory/checksum.ts'
import type { ResidualMemory } from '../memory/format.ts'
import { readProjection, type KeyProjection } from '../memory/projection.ts'
import { parseManifest, type Manifest } from '../memory/manifest.ts'
import { parseModelConfig, type ModelConfig } from '../model/config.ts'
import { readMemoryRows } from './memory-parts.ts'
import { ArtifactError, type FileSource } from './source.ts'

/** Every file of a ResMem build, parsed and checked against each other. */
export interface Bundle {
  manifest: Manifest
  config: ModelConfig
  tokenizerJson: object
  tokenizerConfig: object
  model: Uint8Array
  /** The memory's rows loaded (all of them, a shard's range, or none when it is served from shards). */
  memory: ResidualMemory
  /** The k-NN index over memory's int8 keys, when `keyIndex` built it (its memory holds the keys). */
  index?: KnnIndex
  /** Maps the model's embedding to a key (`resmem build --key-dim`); keys are the embedding itself without it. */
  projection?: KeyProjection
}

export interface LoadBundleOptions {
  /**
   * Makes the k-NN index whose own storage the int8 keys are copied into straight from the fetched files, so
   * the keys are held once (`bundle.memory.keys` then views that storage, a view a later growth of the kernel's
   * memory detaches: search through `bundle.index`).
   */
  keyIndex?: FillableIndexFactory
  /** Only rows [first, end) of the memory: a shard's; first = end loads none (the memory is served by shards). */
  rows?: { first: number; end: number }
}

export const BUNDLE_FILES = ['manifest.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json'] as const

async function read(source: FileSource, path: string): Promise<Uint8Array> {
  try {
    return await source(path)
  } catch (err) {
    if (err instanceof ArtifactError) throw err
    throw new ArtifactError('missing_file', `${path}: cannot be read (${(err as Error).message})`)
  }
}

function json(path: string, bytes: Uint8Array): object {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    if (typeof value !== 'object' || value === null) throw new Error('not a JSON object')
    return value
  } catch (err) {
    throw new ArtifactError('corrupt', `${path}: not valid JSON (${(err as Error).message})`)
  }
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/**
 * Loads and cross-checks a bundle: the model file must be the one the manifest and the memory were built
 * for, the memory's key dimension must be the model's embedding dimension and all label lists must agree.
 */
export async function loadBundle(source: FileSource, options: LoadBundleOptions = {}): Promise<Bundle> {
  const [manifestBytes, configBytes, tokenizerBytes, tokenizerConfigBytes] = await Promise.all(BUNDLE_FILES.map((p) => read(source, p)))
  let manifest: Manifest
  try {
    manifest = parseManifest(manifestBytes)
  } catch (err) {
    throw new ArtifactError('corrupt', (err as Error).message)
  }
  const tokenizerJson = json('tokenizer.json', tokenizerBytes)
  const tokenizerConfig = json('tokenizer_config.json', tokenizerConfigBytes)
  let config: ModelConfig
  try {
    config = parseModelConfig(json('config.json', configBytes), tokenizerConfig)
  } catch (err) {
    throw new ArtifactError('corrupt', (err as Error).message)
  }
  // A manifest promising more tokens than the model has positions would load, then fail every long text.
  if (manifest.model.maxLength > config.maxLength) {
    throw new ArtifactError('corrupt', `manifest.json: model.maxLength ${manifest.model.maxLength} is over the ${config.maxLength} tokens the model takes (config.json)`)
  }
  let index: KnnIndex | undefined
  const { keyIndex } = options
  const keysInto = keyIndex
    ? (rows: number, dim: number) => {
        const made = keyIndex(rows, dim)
        index = made.index
        return made.keys
      }
    : undefined
  const [model, memory] = await Promise.all([read(source, manifest.model.file), readMemoryRows(source, manifest, { ...options.rows, keysInto })])

  const modelHash = await sha256Hex(model)
  if (modelHash !== manifest.model.sha256) {
    throw new ArtifactError('model_mismatch', `${manifest.model.file}: SHA-256 ${modelHash.slice(0, 12)}… is not the ${manifest.model.sha256.slice(0, 12)}… the manifest was built for`)
  }
  if (memory.modelFingerprint !== modelHash) {
    throw new ArtifactError('model_mismatch', `${manifest.memory.file}: built for model ${memory.modelFingerprint.slice(0, 12)}…, this model is ${modelHash.slice(0, 12)}…`)
  }
  const projection = await loadProjection(source, manifest)
  const keyDim = projection ? projection.to : manifest.model.embedding.dim
  if (projection && projection.from !== manifest.model.embedding.dim) {
    throw new ArtifactError('dimension_mismatch', `${manifest.memory.projection!.file}: projects ${projection.from} dimensions, the model's embedding has ${manifest.model.embedding.dim}`)
  }
  if (memory.dim !== keyDim || manifest.memory.dim !== keyDim) {
    throw new ArtifactError('dimension_mismatch', `${manifest.memory.file}: keys have ${memory.dim} dimensions, the model's embedding has ${manifest.model.embedding.dim}${projection ? ` projected to ${projection.to}` : ''}`)
  }
  // memory.bin spans the model's labels, then those that live in the memory (manifest memoryLabels).
  if (!sameLabels(memory.labels, [...config.labels, ...(manifest.memoryLabels ?? [])]) || !sameLabels(manifest.labels, config.labels)) {
    throw new ArtifactError('label_mismatch', `labels disagree: config.json [${config.labels.join(', ')}], ${manifest.memory.file} [${memory.labels.join(', ')}], manifest.json [${manifest.labels.join(', ')}]`)
  }
  return { manifest, config, tokenizerJson, tokenizerConfig, model, memory, ...(index ? { index } : {}), ...(projection ? { projection } : {}) }
}

async function loadProjection(source: FileSource, manifest: Manifest): Promise<KeyProjection | undefined> {
  const listed = manifest.memory.projection
  if (!listed) return undefined
  const bytes = await read(source, listed.file)
  const sha = await sha256Hex(bytes)
  if (sha !== listed.sha256) throw new ArtifactError('corrupt', `${listed.file}: SHA-256 ${sha.slice(0, 12)}… is not the ${listed.sha256.slice(0, 12)}… the manifest lists`)
  try {
    return readProjection(bytes, listed.from, listed.to)
  } catch (err) {
    throw new ArtifactError('corrupt', `${listed.file}: ${(err as Error).message}`)
  }
}
