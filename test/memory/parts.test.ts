// A memory in parts (src/memory/parts.ts written, src/bundle/memory-parts.ts read): any split reads back as
// the memory it came from, whole or any row range, into fresh arrays or a caller's key storage; a part that is
// missing, changed or inconsistent with the others is refused naming it.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readMemoryRows } from '../../src/bundle/memory-parts.ts'
import { ArtifactError, type FileSource } from '../../src/bundle/source.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { memoryByteLength, writeMemory, type ResidualMemory } from '../../src/memory/format.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import { memoryParts, sliceMemory, writeMemoryParts } from '../../src/memory/parts.ts'

const LABELS = ['ham', 'spam', 'other']

function sample(rows: number, dim: number, dtype: 'int8' | 'float32' = 'int8'): ResidualMemory {
  let s = 7
  const rand = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1
  return buildMemory(
    {
      rows,
      dim,
      embeddings: Float32Array.from({ length: rows * dim }, rand),
      logits: Float32Array.from({ length: rows * LABELS.length }, () => 3 * rand()),
      labels: Uint32Array.from({ length: rows }, (_, i) => (i * 7) % LABELS.length),
    },
    { labels: LABELS, temperature: 2, modelFingerprint: 'cd'.repeat(32), dtype },
  )
}

async function written(memory: ResidualMemory, maxPartBytes: number) {
  const { files, manifest } = await writeMemoryParts(memory, maxPartBytes)
  const m = {
    labels: LABELS,
    model: { sha256: memory.modelFingerprint },
    memory: { ...manifest, rows: memory.rows, dim: memory.dim, formatVersion: 1, quantization: { keys: memory.keys.dtype, residuals: memory.residuals.dtype, keyScale: memory.keys.dtype === 'int8' ? memory.keys.scale : 1, residualErrorBound: 0 } },
  } as unknown as Manifest
  const map = new Map(Object.entries(files))
  const source: FileSource = async (path) => {
    const bytes = map.get(path)
    if (!bytes) throw new ArtifactError('missing_file', `${path}: no such file`)
    return bytes
  }
  return { manifest: m, files: map, source }
}

const plain = (m: ResidualMemory) => JSON.parse(JSON.stringify(m, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int8Array) : v)))

describe('a memory in parts', () => {
  it('fits one part: one memory.bin, no parts listed, the same bytes as writeMemory', async () => {
    const m = sample(20, 8)
    const { files, manifest } = await writeMemoryParts(m)
    expect(Object.keys(files)).toEqual(['memory.bin'])
    expect(manifest.parts).toBeUndefined()
    expect(files['memory.bin']).toEqual(await writeMemory(m))
  })

  it('any split and any row range read back exactly, whole or into given key storage', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom('int8', 'float32'), fc.integer({ min: 1, max: 12 }), fc.nat(), fc.nat(), async (rows, dim, dtype, perPart, a, b) => {
          const m = sample(rows, dim, dtype as 'int8' | 'float32')
          const { manifest, files, source } = await written(m, memoryByteLength(perPart, dim, LABELS, m.keys.dtype, m.residuals.dtype))
          const parts = memoryParts(manifest.memory)
          expect(parts.length).toBe(perPart >= rows ? 1 : Math.ceil(rows / perPart))
          for (const p of parts) expect(files.get(p.file)!.length).toBe(p.bytes)
          expect(plain(await readMemoryRows(source, manifest))).toEqual(plain(m))
          const [first, end] = [a % (rows + 1), b % (rows + 1)].sort((x, y) => x - y)
          let storage: Int8Array | undefined
          const range = await readMemoryRows(source, manifest, { first, end, keysInto: (n, d) => (storage = new Int8Array(n * d)) })
          expect(plain(range)).toEqual(plain(sliceMemory(m, first, end)))
          if (dtype === 'int8' && end > first) expect(range.keys.data.buffer).toBe(storage!.buffer)
        }),
      { seed: 9, numRuns: 40 },
    )
  })

  it('reads only the parts its rows are in', async () => {
    const m = sample(40, 4)
    const { manifest, source } = await written(m, memoryByteLength(10, 4, LABELS, 'int8', 'int8'))
    const read: string[] = []
    await readMemoryRows(async (path) => (read.push(path), source(path)), manifest, { first: 12, end: 25 })
    expect(read.sort()).toEqual(['memory.part-001.bin', 'memory.part-002.bin'])
  })

  it('a missing, changed or inconsistent part is refused, naming it', async () => {
    const m = sample(40, 4)
    const { manifest, files, source } = await written(m, memoryByteLength(10, 4, LABELS, 'int8', 'int8'))
    const fails = (read: FileSource, man = manifest) => readMemoryRows(read, man).then(() => undefined, (e: ArtifactError) => `${e.code}: ${e.message}`)
    expect(await fails(async (p) => (p === 'memory.part-003.bin' ? Promise.reject(new ArtifactError('missing_file', `${p}: no such file`)) : source(p)))).toBe('missing_file: memory.part-003.bin: no such file')
    const flipped = Uint8Array.from(files.get('memory.part-001.bin')!)
    flipped[100] ^= 4
    expect(await fails(async (p) => (p === 'memory.part-001.bin' ? flipped : source(p)))).toMatch(/^corrupt: memory\.part-001\.bin: checksum mismatch/)
    // A part from another memory, listed with its own SHA-256: intact, but not of this memory.
    const other = await writeMemoryParts({ ...sample(40, 4), modelFingerprint: 'ef'.repeat(32) }, memoryByteLength(10, 4, LABELS, 'int8', 'int8'))
    const swapped = structuredClone(manifest)
    swapped.memory.parts![2].sha256 = other.manifest.parts![2].sha256
    expect(await fails(async (p) => (p === 'memory.part-002.bin' ? other.files[p] : source(p)), swapped)).toMatch(/^corrupt: memory\.part-002\.bin: labels, model/)
  })
})
