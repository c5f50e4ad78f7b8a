/**
 * A bundle's files in memory, and edits that keep them consistent with each other (or deliberately not):
 * the broken-artefact tests (artifacts.test.ts in workerd, test/workers-node/integrity.test.ts) and the
 * synthetic 100k-row bundle of the load test (test/load). No runtime imports: workerd and Node alike.
 */
import { ArtifactError, type FileSource } from '../../src/bundle/source.ts'
import { sha256, sha256Hex } from '../../src/memory/checksum.ts'
import { readMemory, writeMemory, type ResidualMemory } from '../../src/memory/format.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import { writeMemoryParts } from '../../src/memory/parts.ts'

export type BundleFiles = Map<string, Uint8Array>

/** Every file of a built bundle but the model, whose path manifest.json names (src/bundle/load.ts reads these). */
export const FILES = ['manifest.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'memory.bin'] as const

/** Reads the files of a bundle from wherever they are (the ASSETS binding, a folder), the model where the manifest says. */
export async function readFiles(read: (path: string) => Promise<Uint8Array>): Promise<BundleFiles> {
  const manifest = await read('manifest.json')
  const model = (JSON.parse(new TextDecoder().decode(manifest)) as Manifest).model.file
  return new Map(await Promise.all([...FILES, model].map(async (path) => [path, path === 'manifest.json' ? manifest : await read(path)] as const)))
}

/** A FileSource over the map; a file that is not there is a missing_file, as from any real source. */
export function sourceOf(files: BundleFiles): FileSource {
  return async (path) => {
    const bytes = files.get(path)
    if (!bytes) throw new ArtifactError('missing_file', `${path}: not in the bundle`)
    return bytes
  }
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2))

export function manifestOf(files: BundleFiles): Manifest {
  return JSON.parse(new TextDecoder().decode(files.get('manifest.json'))) as Manifest
}

/** A copy with one JSON file edited (`edit` changes the parsed value in place). */
export function editJson<T = Record<string, unknown>>(files: BundleFiles, path: string, edit: (value: T) => void): BundleFiles {
  const value = JSON.parse(new TextDecoder().decode(files.get(path))) as T
  edit(value)
  return new Map(files).set(path, encode(value))
}

/** A copy with another memory.bin, the manifest updated to list it (sha256, bytes, rows, dim, key scale). */
export async function withMemory(files: BundleFiles, memory: ResidualMemory): Promise<BundleFiles> {
  const bytes = await writeMemory(memory)
  const sha = await sha256Hex(bytes)
  return editJson<Manifest>(new Map(files).set('memory.bin', bytes), 'manifest.json', (m) => {
    m.memory.sha256 = sha
    m.memory.bytes = bytes.length
    m.memory.rows = memory.rows
    m.memory.dim = memory.dim
    if (memory.keys.dtype === 'int8') m.memory.quantization.keyScale = memory.keys.scale
    delete m.memory.parts
  })
}

/** A copy whose memory.bin is replaced by parts of at most `maxPartBytes` (src/memory/parts.ts), listed in the manifest. */
export async function withParts(files: BundleFiles, maxPartBytes: number): Promise<BundleFiles> {
  const written = await writeMemoryParts(await readMemory(files.get('memory.bin')!), maxPartBytes)
  const out = new Map(files)
  out.delete('memory.bin')
  for (const [file, bytes] of Object.entries(written.files)) out.set(file, bytes)
  return editJson<Manifest>(out, 'manifest.json', (m) => {
    m.memory = { ...m.memory, ...written.manifest }
  })
}

/** A copy with another model file that every other file agrees with: manifest fingerprint and memory fingerprint. */
export async function withModel(files: BundleFiles, model: Uint8Array): Promise<BundleFiles> {
  const sha = await sha256Hex(model)
  const memory = await readMemory(files.get('memory.bin')!)
  const next = editJson<Manifest>(new Map(files).set(manifestOf(files).model.file, model), 'manifest.json', (m) => {
    m.model.sha256 = sha
    m.model.bytes = model.length
  })
  return withMemory(next, { ...memory, modelFingerprint: sha })
}

/** memory.bin bytes with their trailing SHA-256 recomputed: a file as a buggy writer would leave it. */
export async function rechecksum(bytes: Uint8Array): Promise<Uint8Array> {
  const out = Uint8Array.from(bytes)
  if (out.length < 32) return out
  out.set(await sha256(out.subarray(0, out.length - 32)), out.length - 32)
  return out
}
