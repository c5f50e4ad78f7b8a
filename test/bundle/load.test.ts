import { describe, expect, it } from 'vitest'
import { loadBundle } from '../../src/bundle/load.ts'
import { ArtifactError, type FileSource } from '../../src/bundle/source.ts'
import { sha256Hex } from '../../src/memory/checksum.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { writeMemory } from '../../src/memory/format.ts'
import { MANIFEST_FORMAT, MANIFEST_VERSION } from '../../src/memory/manifest.ts'

const LABELS = ['ham', 'spam']
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))

/** A consistent bundle whose "model" is opaque bytes: loadBundle checks fingerprints, not the graph. */
async function bundleFiles(opts: { dim?: number; memoryLabels?: string[]; fingerprintOf?: Uint8Array } = {}): Promise<Map<string, Uint8Array>> {
  const dim = opts.dim ?? 4
  const model = new TextEncoder().encode('not really onnx, but bytes with a hash')
  const fingerprint = await sha256Hex(opts.fingerprintOf ?? model)
  const memory = await writeMemory(
    buildMemory(
      { rows: 3, dim, embeddings: Float32Array.from({ length: 3 * dim }, (_, i) => Math.sin(i + 1)), logits: Float32Array.from([2, -1, 0, 1, -3, 3]), labels: Uint32Array.from([0, 1, 1]) },
      { labels: opts.memoryLabels ?? LABELS, temperature: 1, modelFingerprint: fingerprint, dtype: 'int8' },
    ),
  )
  const manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    name: 'test',
    labels: LABELS,
    resmem: { k: 2, sigma: 0.5, temperature: 1, key: 'penultimate' },
    model: { file: 'onnx/model.onnx', sha256: await sha256Hex(model), bytes: model.length, maxLength: 16, inputs: ['input_ids'], embedding: { output: 'embedding', source: 'x', dim: 4 } },
    memory: { file: 'memory.bin', sha256: await sha256Hex(memory), bytes: memory.length, formatVersion: 1, rows: 3, dim, quantization: { keys: 'int8', residuals: 'int8', keyScale: 0.01, residualErrorBound: 0.004 } },
    tuning: { split: 'val', examples: 1, grid: [], best: { k: 2, sigma: 0.5, temperature: 1, accuracy: 1 }, baseAccuracy: 1 },
    metrics: {},
    data: { train: { file: 'train.jsonl', sha256: await sha256Hex(model), rows: 3 } },
    versions: {},
  }
  return new Map([
    ['manifest.json', enc(manifest)],
    ['config.json', enc({ model_type: 'bert', id2label: { 0: 'ham', 1: 'spam' }, max_position_embeddings: 16 })],
    ['tokenizer.json', enc({ model: {} })],
    ['tokenizer_config.json', enc({ model_max_length: 16 })],
    ['onnx/model.onnx', model],
    ['memory.bin', memory],
  ])
}

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
