/**
 * A copy of a built bundle whose memory.bin holds `rows` synthetic rows: random unit keys of the model's
 * embedding dimension quantized to int8 exactly as the build does (one global scale), random labels and
 * logits turned into residuals, written by src/memory/format.ts with the model's fingerprint, and the
 * manifest updated to list it. The worker loads it like any bundle; only the memory's contents are made up.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { buildMemory } from '../../src/memory/build.ts'
import { FILES, manifestOf, readFiles, withMemory } from '../workers/bundle-files.ts'
import { mulberry32 } from '../../scripts/data/random.ts'


export interface SyntheticBundle {
  dir: string
  rows: number
  dim: number
  memoryBytes: number
}

/** Writes `from` (a bundle folder) with a synthetic `rows`-row memory into `to`. */
export async function writeSyntheticBundle(from: string, to: string, rows: number, seed = 1): Promise<SyntheticBundle> {
  const files = await readFiles(async (path) => new Uint8Array(readFileSync(join(from, path))))
  const manifest = manifestOf(files)
  const { dim } = manifest.model.embedding
  const classes = manifest.labels.length
  const next = mulberry32(seed)
  // Gaussian components (Box-Muller) give directions uniform on the sphere once normalised (buildMemory does).
  const embeddings = new Float32Array(rows * dim)
  for (let i = 0; i < embeddings.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next()))
    const t = 2 * Math.PI * next()
    embeddings[i] = r * Math.cos(t)
    if (i + 1 < embeddings.length) embeddings[i + 1] = r * Math.sin(t)
  }
  const logits = Float32Array.from({ length: rows * classes }, () => 8 * next() - 4)
  const labels = Uint32Array.from({ length: rows }, () => Math.floor(next() * classes))
  const memory = buildMemory(
    { rows, dim, embeddings, logits, labels },
    { labels: manifest.labels, temperature: manifest.resmem.temperature, modelFingerprint: manifest.model.sha256, dtype: 'int8' },
  )
  const out = await withMemory(files, memory)
  for (const path of FILES) {
    mkdirSync(dirname(join(to, path)), { recursive: true })
    writeFileSync(join(to, path), out.get(path)!)
  }
  return { dir: to, rows, dim, memoryBytes: out.get('memory.bin')!.length }
}
