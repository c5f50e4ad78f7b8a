// Smaller keys (src/memory/projection.ts): PCA finds the axes the training keys vary along, in order, as unit
// vectors at right angles; the file round-trips; a classifier applies the projection to every query (a bundle
// listing one loads, a changed file or a wrong size is refused).
import { describe, expect, it } from 'vitest'
import { loadBundle } from '../../src/bundle/load.ts'
import { ArtifactError, type FileSource } from '../../src/bundle/source.ts'
import { sha256Hex } from '../../src/memory/checksum.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { writeMemory } from '../../src/memory/format.ts'
import { fitPca, projectKey, readProjection, writeProjection } from '../../src/memory/projection.ts'
import { bundleFiles, enc } from '../helpers/bundle.ts'

/** Points spread 10, 3 and 1 along three orthogonal directions of 6-d space, plus a constant offset. */
function cloud(rows: number): Float32Array {
  let s = 3
  const rand = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1
  const out = new Float32Array(rows * 6)
  for (let r = 0; r < rows; r++) {
    const [a, b, c] = [10 * rand(), 3 * rand(), rand()]
    // Axes: e0+e1, e2-e3, e4; offset along e5 keeps the points off the origin (they are normalised first).
    out.set([a + 50, a + 50, b, -b, c, 100], r * 6)
  }
  return out
}

describe('key projection', () => {
  it('PCA: orthonormal axes by variance, deterministic', () => {
    const p = fitPca(cloud(400), 400, 6, 3)
    const row = (j: number) => p.matrix.subarray(j * 6, (j + 1) * 6)
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      const dot = row(i).reduce((acc, x, k) => acc + x * row(j)[k], 0)
      expect(dot).toBeCloseTo(i === j ? 1 : 0, 5)
    }
    // The first axis is (e0 + e1)/sqrt(2) up to the normalisation's tilt towards e5, signed positive.
    expect(Math.abs(row(0)[0] - row(0)[1])).toBeLessThan(1e-4)
    expect(row(0)[0]).toBeGreaterThan(0.5)
    expect(Math.abs(row(1)[2] + row(1)[3])).toBeLessThan(1e-4)
    expect(fitPca(cloud(400), 400, 6, 3)).toEqual(p)
    expect(() => fitPca(cloud(10), 10, 6, 7)).toThrow(/1\.\.6/)
  })

  it('round-trips through its file; projects to `to` dimensions', () => {
    const p = fitPca(cloud(100), 100, 6, 2)
    expect(readProjection(writeProjection(p), 6, 2)).toEqual(p)
    expect(() => readProjection(writeProjection(p), 6, 3)).toThrow(/bytes/)
    expect(projectKey(p, Float32Array.from([1, 2, 3, 4, 5, 6])).length).toBe(2)
  })

  it('a bundle with a projection loads it; a changed projection file is refused', async () => {
    const files = await bundleFiles()
    const manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json')))
    // Keys of 2 dimensions from the 4-d embedding.
    const p = fitPca(Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7)), 10, 4, 2)
    const memory = await writeMemory(
      buildMemory(
        { rows: 3, dim: 2, embeddings: Float32Array.from([1, 0, 0, 1, 1, 1]), logits: Float32Array.from([2, -1, 0, 1, -3, 3]), labels: Uint32Array.from([0, 1, 1]) },
        { labels: manifest.labels, temperature: 1, modelFingerprint: manifest.model.sha256, dtype: 'int8' },
      ),
    )
    const bytes = writeProjection(p)
    manifest.memory = { ...manifest.memory, dim: 2, sha256: await sha256Hex(memory), bytes: memory.length, projection: { file: 'key-projection.bin', sha256: await sha256Hex(bytes), from: 4, to: 2, method: 'pca' } }
    files.set('memory.bin', memory).set('key-projection.bin', bytes).set('manifest.json', enc(manifest))
    const source = (map: Map<string, Uint8Array>): FileSource => async (path) => map.get(path) ?? Promise.reject(new ArtifactError('missing_file', path))
    const bundle = await loadBundle(source(files))
    expect(bundle.projection).toEqual(p)
    const changed = Uint8Array.from(bytes)
    changed[0] ^= 1
    await expect(loadBundle(source(new Map(files).set('key-projection.bin', changed)))).rejects.toMatchObject({ code: 'corrupt', message: expect.stringMatching(/^key-projection\.bin: SHA-256/) })
  })
})
