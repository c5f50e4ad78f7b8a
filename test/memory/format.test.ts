import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildMemory } from '../../src/memory/build.ts'
import { MemoryFormatError, readMemory, readMemoryHeader, writeMemory, type ResidualMemory } from '../../src/memory/format.ts'

const FINGERPRINT = 'ab'.repeat(32)

function sampleMemory(rows = 7, dim = 5, dtype: 'int8' | 'float32' = 'int8'): ResidualMemory {
  const labels = ['ham', 'spam', 'other']
  let s = 1
  const rand = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1
  return buildMemory(
    {
      rows,
      dim,
      embeddings: Float32Array.from({ length: rows * dim }, rand),
      logits: Float32Array.from({ length: rows * labels.length }, () => 3 * rand()),
      labels: Uint32Array.from({ length: rows }, (_, i) => i % labels.length),
    },
    { labels, temperature: 2, modelFingerprint: FINGERPRINT, dtype },
  )
}

async function rejects(bytes: Uint8Array, code: MemoryFormatError['code']): Promise<void> {
  const err = await readMemory(bytes).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(MemoryFormatError)
  expect((err as MemoryFormatError).code).toBe(code)
  expect((err as Error).message).toMatch(/^memory\.bin: /)
}

describe('memory.bin', () => {
  for (const dtype of ['int8', 'float32'] as const) {
    it(`round-trips a ${dtype} memory exactly`, async () => {
      const m = sampleMemory(7, 5, dtype)
      const bytes = await writeMemory(m)
      const back = await readMemory(bytes)
      expect(back).toEqual(m)
      // Deterministic: same memory, same bytes.
      expect(await writeMemory(back)).toEqual(bytes)
    })
  }

  it('reads from an unaligned view of a larger buffer', async () => {
    const bytes = await writeMemory(sampleMemory())
    const shifted = new Uint8Array(bytes.length + 3)
    shifted.set(bytes, 3)
    expect(await readMemory(shifted.subarray(3))).toEqual(await readMemory(bytes))
  })

  it('reads a Node Buffer (whose slice() is a view) as it reads a Uint8Array', async () => {
    const bytes = await writeMemory(sampleMemory())
    const pooled = Buffer.alloc(bytes.length + 5)
    pooled.set(bytes, 5)
    expect(await readMemory(pooled.subarray(5))).toEqual(await readMemory(bytes))
  })

  it('exposes the header without reading the rest', async () => {
    const bytes = await writeMemory(sampleMemory(7, 5))
    expect(readMemoryHeader(bytes)).toMatchObject({ version: 1, rows: 7, dim: 5, classes: 3, keyDtype: 'int8', residualDtype: 'int8', modelFingerprint: FINGERPRINT })
  })

  it('an empty memory (0 rows) is valid', async () => {
    const m = sampleMemory(0, 4)
    expect((await readMemory(await writeMemory(m))).rows).toBe(0)
  })

  it('rejects each kind of corruption with its own code', async () => {
    const good = await writeMemory(sampleMemory())
    await rejects(good.subarray(0, 10), 'truncated')
    await rejects(good.subarray(0, good.length - 1), 'truncated')
    const magic = good.slice()
    magic[0] = 0x58
    await rejects(magic, 'bad_magic')
    const version = good.slice()
    version[4] = 9
    await rejects(version, 'unsupported_version')
    const flipped = good.slice()
    flipped[good.length - 40] ^= 0x01
    await rejects(flipped, 'checksum_mismatch')
    const trailing = new Uint8Array(good.length + 8)
    trailing.set(good)
    await rejects(trailing, 'corrupt')
    const huge = good.slice()
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true) // rows
    await rejects(huge, 'corrupt')
    const dtype = good.slice()
    dtype[6] = 7
    await rejects(dtype, 'corrupt')
  })

  it('random byte mutations never crash the reader: intact or a MemoryFormatError', async () => {
    const good = await writeMemory(sampleMemory())
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length), async (edits, cut) => {
        const bytes = good.slice(0, Math.max(cut, 1))
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value
        try {
          await readMemory(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(MemoryFormatError)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('refuses to write inconsistent shapes', async () => {
    const m = sampleMemory()
    await expect(writeMemory({ ...m, rows: m.rows + 1 })).rejects.toThrow(/keys: expected/)
    await expect(writeMemory({ ...m, labels: ['a', 'a', 'b'] })).rejects.toThrow(/distinct/)
    await expect(writeMemory({ ...m, modelFingerprint: 'xyz' })).rejects.toThrow(/fingerprint/)
  })
})
