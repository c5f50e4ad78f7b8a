import { sha256Hex } from '../../src/memory/checksum.ts'
import { buildMemory } from '../../src/memory/build.ts'
import { writeMemory } from '../../src/memory/format.ts'
import { MANIFEST_FORMAT, MANIFEST_VERSION } from '../../src/memory/manifest.ts'

export const LABELS = ['ham', 'spam']
export const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))

/** A consistent bundle whose "model" is opaque bytes: loadBundle checks fingerprints, not the graph. */
export async function bundleFiles(opts: { dim?: number; memoryLabels?: string[]; fingerprintOf?: Uint8Array } = {}): Promise<Map<string, Uint8Array>> {
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

