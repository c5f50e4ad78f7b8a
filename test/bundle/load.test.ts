import { describe, expect, it } from 'vitest'
import { loadBundle } from '../../src/bundle/load.ts'
import { ArtifactError, type FileSource } from '../../src/bundle/source.ts'
import { bundleFiles, enc, LABELS } from '../helpers/bundle.ts'

const source = (files: Map<string, Uint8Array>): FileSource => async (path) => {
  const f = files.get(path)
  if (!f) throw new ArtifactError('missing_file', `${path}: no such file`)
  return f
}

async function failure(files: Map<string, Uint8Array>): Promise<ArtifactError> {
  const err = await loadBundle(source(files)).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ArtifactError)
  return err as ArtifactError
}

describe('loadBundle refuses mismatched artefacts', () => {
  it('loads a consistent bundle', async () => {
    const b = await loadBundle(source(await bundleFiles()))
    expect(b.config.labels).toEqual(LABELS)
    expect(b.memory.rows).toBe(3)
  })

  it('a missing file', async () => {
    const files = await bundleFiles()
    files.delete('memory.bin')
    expect((await failure(files)).code).toBe('missing_file')
  })

  it('a model file other than the one the manifest names', async () => {
    const files = await bundleFiles()
    files.set('onnx/model.onnx', new TextEncoder().encode('another model'))
    const err = await failure(files)
    expect(err.code).toBe('model_mismatch')
    expect(err.message).toMatch(/onnx\/model\.onnx/)
  })

  it('a memory built for another model', async () => {
    const err = await failure(await bundleFiles({ fingerprintOf: new TextEncoder().encode('other') }))
    expect(err.code).toBe('model_mismatch')
    expect(err.message).toMatch(/memory\.bin: built for model/)
  })

  it('a memory whose key dimension is not the embedding dimension', async () => {
    expect((await failure(await bundleFiles({ dim: 5 }))).code).toBe('dimension_mismatch')
  })

  it('label sets that disagree', async () => {
    const err = await failure(await bundleFiles({ memoryLabels: ['spam', 'ham'] }))
    expect(err.code).toBe('label_mismatch')
    expect(err.message).toMatch(/labels disagree/)
  })

  it('a manifest promising more tokens than the model takes', async () => {
    const files = await bundleFiles()
    const manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json')))
    manifest.model.maxLength = 17
    files.set('manifest.json', enc(manifest))
    const err = await failure(files)
    expect(err.code).toBe('corrupt')
    expect(err.message).toMatch(/model\.maxLength 17 is over the 16 tokens/)
  })

  it('a truncated memory and a corrupt manifest', async () => {
    const files = await bundleFiles()
    const mem = files.get('memory.bin')!
    files.set('memory.bin', mem.subarray(0, mem.length - 10))
    const truncated = await failure(files)
    expect(truncated.code).toBe('corrupt')
    expect(truncated.message).toMatch(/memory\.bin: .*header promises/)
    const files2 = await bundleFiles()
    files2.set('manifest.json', new TextEncoder().encode('{"format": "resmem-manifest"'))
    const err = await failure(files2)
    expect(err.code).toBe('corrupt')
    expect(err.message).toMatch(/manifest\.json: not valid JSON/)
    const files3 = await bundleFiles()
    files3.set('manifest.json', enc({ format: 'resmem-manifest', version: 1 }))
    expect((await failure(files3)).message).toMatch(/manifest\.json: field "name"/)
  })
})
