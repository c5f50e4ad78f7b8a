/**
 * A bench-only bundle: a copy of a real bundle (model, tokenizer, labels, k/sigma/T) whose memory.bin is
 * replaced by `rows` synthetic examples of the same dimension and labels (seeded random unit keys, random
 * logits and labels, quantized by the shipped code), with the model's fingerprint, so the worker loads it
 * like any build. Only the memory-search cost is realistic; its predictions are not.
 *
 * Then both bundles are staged into a bench-only assets folder with workers/scripts/build.ts's stageAssets
 * (the same checks as `npm run build:worker`), so the shared workers/build/assets is never touched.
 */
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { BUNDLE_FILES } from '../../src/bundle/load.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { readMemory } from '../../src/memory/format.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { memoryParts, writeMemoryParts } from '../../src/memory/parts.ts'
import { PROJECTION_FILE, writeProjection, type KeyProjection } from '../../src/memory/projection.ts'
import { sha256Hex } from '../../src/memory/checksum.ts'
import { stageAssets } from '../../workers/scripts/build.ts'

/** mulberry32, then Box-Muller for normals. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297
  }
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}

export interface SyntheticBundle {
  name: string
  dir: string
  rows: number
  dim: number
  /** The memory as one file (its parts together). */
  memoryBytes: number
  /** Files it is written in (one memory.bin when it fits one part). */
  parts: number
}

/** Writes `to/` as a copy of the bundle in `from/` with a synthetic memory of `rows` rows. */
export interface SyntheticOptions {
  seed?: number
  /** Largest memory file (src/memory/parts.ts); default 24 MiB. */
  maxPartBytes?: number
  /** Key dimension, when not the model's: a seeded random projection of the embedding is written with it. */
  dim?: number
  /**
   * Leave out the real build's `locality` (its radius): random keys lie beyond it from every text, so no row would
   * count and `?explain=1` would list none. Benches that time the search of k rows need them all listed.
   */
  withoutLocality?: boolean
}

export async function writeSyntheticBundle(from: string, to: string, rows: number, options: SyntheticOptions = {}): Promise<SyntheticBundle> {
  const manifest = parseManifest(await readFile(join(from, 'manifest.json')))
  // A plain Uint8Array: readMemory copies sections with .slice(), which on a Node Buffer is a view, not a copy.
  const original = await readMemory(new Uint8Array(await readFile(join(from, memoryParts(manifest.memory)[0].file))))
  const { labels } = original
  const modelDim = manifest.model.embedding.dim
  const dim = options.dim ?? modelDim
  const next = gaussian(options.seed ?? 7)
  // Keys of fewer dimensions than the embedding: a random projection (Johnson-Lindenstrauss), as a build's
  // PCA (`--key-dim`) would be stored; only its cost is realistic.
  const projection: KeyProjection | undefined =
    dim === modelDim ? undefined : { from: modelDim, to: dim, mean: new Float32Array(modelDim), matrix: Float32Array.from({ length: dim * modelDim }, () => next() / Math.sqrt(dim)) }
  const projectionBytes = projection ? writeProjection(projection) : undefined
  const embeddings = new Float32Array(rows * dim)
  for (let i = 0; i < embeddings.length; i++) embeddings[i] = next()
  const logits = new Float32Array(rows * labels.length)
  for (let i = 0; i < logits.length; i++) logits[i] = 3 * next()
  const rowLabels = new Uint32Array(rows)
  for (let i = 0; i < rows; i++) rowLabels[i] = Math.floor(Math.abs(next()) * 1e6) % labels.length
  const memory = buildMemory(
    { rows, dim, embeddings, logits, labels: rowLabels },
    { labels, temperature: manifest.resmem.temperature, modelFingerprint: original.modelFingerprint, dtype: 'int8' },
  )
  const written = await writeMemoryParts(memory, options.maxPartBytes)

  await rm(to, { recursive: true, force: true })
  for (const file of [...BUNDLE_FILES.filter((f) => f !== 'manifest.json'), manifest.model.file]) {
    await mkdir(dirname(join(to, file)), { recursive: true })
    await copyFile(join(from, file), join(to, file))
  }
  for (const [file, bytes] of Object.entries(written.files)) await writeFile(join(to, file), bytes)
  if (projectionBytes) await writeFile(join(to, PROJECTION_FILE), projectionBytes)
  const scales = memory.residuals.dtype === 'int8' ? memory.residuals.scales : new Float32Array([0])
  const name = basename(to)
  const updated = {
    ...manifest,
    ...(options.withoutLocality ? { locality: undefined } : {}),
    name,
    memory: {
      ...manifest.memory,
      ...written.manifest,
      rows,
      dim,
      ...(projection ? { projection: { file: PROJECTION_FILE, sha256: await sha256Hex(projectionBytes!), from: modelDim, to: dim, method: 'random (bench)' } } : { projection: undefined }),
      quantization: {
        ...manifest.memory.quantization,
        keyScale: memory.keys.dtype === 'int8' ? memory.keys.scale : 1,
        residualErrorBound: scales.reduce((a, b) => Math.max(a, b), 0) / 2,
      },
    },
  }
  await writeFile(join(to, 'manifest.json'), JSON.stringify(parseManifest(updated), null, 2) + '\n')
  return { name, dir: to, rows, dim, memoryBytes: written.manifest.bytes, parts: written.manifest.parts?.length ?? 1 }
}

export interface BenchAssets {
  /** The assets folder holding both bundles. */
  assets: string
  /** Folder name of the synthetic bundle, e.g. `spam-100k`. */
  syntheticModel: string
  synthetic: SyntheticBundle
}

/**
 * `work/artifacts/{<model>, <model>-<rows/1000>k}` and their staged `work/assets/`. A memory over 24 MiB is
 * written in parts (src/memory/parts.ts): each part is a Workers Static Asset of its own.
 */
export async function prepareBenchAssets(artifactsDir: string, model: string, work: string, rows: number): Promise<BenchAssets> {
  // Absolute paths: stageAssets checks that each file stays inside its bundle folder by prefix.
  const artifacts = resolve(work, 'artifacts')
  const realDir = join(artifactsDir, model)
  const manifest = parseManifest(await readFile(join(realDir, 'manifest.json')))
  // A copy of the real bundle, so this assets folder holds exactly the two bundles measured.
  await rm(join(artifacts, model), { recursive: true, force: true })
  for (const file of [...BUNDLE_FILES, manifest.model.file, ...memoryParts(manifest.memory).map((p) => p.file)]) {
    await mkdir(dirname(join(artifacts, model, file)), { recursive: true })
    await copyFile(join(realDir, file), join(artifacts, model, file))
  }
  const syntheticModel = `${model}-${Math.round(rows / 1000)}k`
  // Only the two bundles of this run: a synthetic one of an earlier run (other rows) would be staged too.
  for (const entry of await readdir(artifacts)) if (entry !== model && entry !== syntheticModel) await rm(join(artifacts, entry), { recursive: true, force: true })
  const synthetic = await writeSyntheticBundle(realDir, join(artifacts, syntheticModel), rows)
  const assets = resolve(work, 'assets')
  const { staged, skipped } = await stageAssets(artifacts, assets)
  for (const name of [model, syntheticModel]) {
    if (!staged.some((b) => b.name === name)) throw new Error(`staging ${name} failed: ${skipped.find((s) => s.name === name)?.reason ?? 'not found'}`)
  }
  return { assets, syntheticModel, synthetic }
}
