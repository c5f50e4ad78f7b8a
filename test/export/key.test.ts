import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import onnxProto from 'onnx-proto'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { expectClose } from './close.ts'
import {
  addEmbeddingOutput,
  addKeyOutput,
  EmbeddingExistsError,
  InvalidKeySpecError,
  inspectModel,
  KeyPresetError,
  KeyShapeError,
  KeyTensorNotFoundError,
  MissingInputError,
  parseKeySpec,
  type KeySpec,
} from '../../scripts/export/index.ts'

const { onnx } = onnxProto
const FLOAT = onnx.TensorProto.DataType.FLOAT
const INT64 = onnx.TensorProto.DataType.INT64

// ------------------------------------------------------------------------------------------ helpers

type Matrix = number[][]
interface Case {
  inputs: Record<string, Matrix>
  logits: Matrix
  embedding: Matrix
  mean_last_hidden: Matrix
  mean_word_embeddings: Matrix
  cls_last_hidden: Matrix
}
interface Expected {
  hidden_size: number
  cases: Case[]
}

const fixture = (name: string, file: string) => fileURLToPath(new URL(`../fixtures/${name}/${file}`, import.meta.url))
const readModel = (name: string) => new Uint8Array(readFileSync(fixture(name, 'onnx/model.onnx')))
const readExpected = (name: string): Expected => JSON.parse(readFileSync(fixture(name, 'expected.json'), 'utf8'))
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)

function int64Feeds(inputs: Record<string, Matrix>): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {}
  for (const [name, rows] of Object.entries(inputs)) feeds[name] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length])
  return feeds
}

const l2 = (row: number[]) => {
  const norm = Math.sqrt(row.reduce((s, x) => s + x * x, 0))
  return row.map((x) => x / Math.max(norm, 1e-12))
}
/** The concatenated key: each part's rows normalised, then side by side. */
const sideBySide = (...parts: Matrix[]): Matrix => parts[0].map((_, r) => parts.flatMap((p) => l2(p[r])))

async function run(model: Uint8Array, inputs: Record<string, Matrix>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model)
  try {
    return await session.run(int64Feeds(inputs))
  } finally {
    await session.release()
  }
}

// ------------------------------------------------------------------------------------ HF fixtures

describe.each([
  // fixture, the last encoder layer's output (torch's LayerNorm spelled out at opset 14), the word-embedding lookup, the penultimate tensor
  ['hf-bert', '/bert/encoder/layer.1/output/LayerNorm/Add_1_output_0', '/bert/embeddings/word_embeddings/Gather_output_0', '/bert/pooler/activation/Tanh_output_0'],
  ['hf-distilbert', '/distilbert/transformer/layer.1/output_layer_norm/Add_1_output_0', '/distilbert/embeddings/word_embeddings/Gather_output_0', '/Relu_output_0'],
  ['hf-matmul-head', '/distilbert/transformer/layer.1/output_layer_norm/Add_1_output_0', '/distilbert/embeddings/word_embeddings/Gather_output_0', '/Slice_output_0'],
])('%s keys', (name, lastHidden, wordEmbeddings, penultimate) => {
  const original = readModel(name)
  const expected = readExpected(name)
  const H = expected.hidden_size

  it('resolves the presets', () => {
    expect(addKeyOutput(original, 'mean-last-hidden').embedding).toEqual({ name: 'embedding', source: `mean(${lastHidden})`, dim: H })
    expect(addKeyOutput(original, 'mean-word-embeddings').embedding).toEqual({ name: 'embedding', source: `mean(${wordEmbeddings})`, dim: H })
    const all = addKeyOutput(original, ['penultimate', 'mean-last-hidden', 'mean-word-embeddings'])
    expect(all.key).toBe(`concat(l2(penultimate:${penultimate}), l2(mean(${lastHidden})), l2(mean(${wordEmbeddings})))`)
    expect(all.embedding.dim).toBe(3 * H)
  })

  it("reads a manifest's key back into the same key", () => {
    for (const spec of ['penultimate', 'mean-last-hidden', ['penultimate', 'mean-last-hidden', 'mean-word-embeddings']] as KeySpec[]) {
      const made = addKeyOutput(original, spec)
      const again = addKeyOutput(original, parseKeySpec(made.key))
      expect(again.key).toBe(made.key)
      expect(sameBytes(again.bytes, made.bytes)).toBe(true)
    }
  })

  it('is addEmbeddingOutput for the penultimate key', () => {
    const key = addKeyOutput(original)
    expect(sameBytes(key.bytes, addEmbeddingOutput(original).bytes)).toBe(true)
    expect(key.key).toBe(`penultimate:${penultimate}`)
    expect(key.embedding).toEqual({ name: 'embedding', source: penultimate, dim: H })
  })

  it.each([
    ['mean-last-hidden', 'mean_last_hidden'],
    ['mean-word-embeddings', 'mean_word_embeddings'],
  ] as const)('%s matches torch, padded batch included', async (key, field) => {
    const { bytes } = addKeyOutput(original, key)
    const { outputs } = inspectModel(bytes)
    expect(outputs.map((o) => o.name)).toEqual(['logits', 'embedding'])
    expect(outputs[1]).toEqual({ name: 'embedding', type: 'float32', shape: ['batch_size', H] })
    for (const c of expected.cases) {
      const out = await run(bytes, c.inputs)
      expectClose(out.embedding, c[field])
      expectClose(out.logits, c.logits)
    }
  })

  it('pools a named tensor: cls of the last hidden state', async () => {
    const { bytes, key } = addKeyOutput(original, { tensor: lastHidden, pooling: 'cls' })
    expect(key).toBe(`cls(${lastHidden})`)
    for (const c of expected.cases) expectClose((await run(bytes, c.inputs)).embedding, c.cls_last_hidden)
  })

  it('ignores padding: a padded row keys like the same text alone', async () => {
    const { bytes } = addKeyOutput(original, ['mean-last-hidden', 'mean-word-embeddings'])
    const padded = expected.cases[0].inputs
    const length = padded.attention_mask[1].reduce((a, b) => a + b, 0)
    expect(length).toBeLessThan(padded.attention_mask[1].length) // the fixture's second row is padded
    const alone = Object.fromEntries(Object.entries(padded).map(([n, rows]) => [n, [rows[1].slice(0, length)]]))
    const [batch, single] = [await run(bytes, padded), await run(bytes, alone)]
    const row = Array.from((batch.embedding.data as Float32Array).subarray(2 * H, 4 * H))
    expectClose(single.embedding, [row])
  })

  it('concatenates the L2-normalised parts side by side', async () => {
    const { bytes, embedding } = addKeyOutput(original, ['penultimate', 'mean-last-hidden', 'mean-word-embeddings'])
    expect(inspectModel(bytes).outputs[1].shape).toEqual(['batch_size', 3 * H])
    for (const c of expected.cases) {
      const out = await run(bytes, c.inputs)
      expect(out.embedding.dims[1]).toBe(embedding.dim)
      expectClose(out.embedding, sideBySide(c.embedding, c.mean_last_hidden, c.mean_word_embeddings))
    }
  })

  it('is deterministic and idempotent', () => {
    const spec: KeySpec = ['mean-last-hidden', 'mean-word-embeddings']
    const first = addKeyOutput(original, spec)
    expect(sameBytes(addKeyOutput(readModel(name), spec).bytes, first.bytes)).toBe(true)
    const again = addKeyOutput(first.bytes, spec)
    expect(again.added).toBe(false)
    expect(again.bytes).toBe(first.bytes)
    expect(again.embedding).toEqual(first.embedding)
    expect(again.key).toBe(first.key)
  })

  it('refuses to relabel an output made for another key', () => {
    const mean = addKeyOutput(original, 'mean-last-hidden').bytes
    expect(() => addKeyOutput(mean, 'penultimate')).toThrow(EmbeddingExistsError)
    expect(() => addKeyOutput(mean, 'mean-word-embeddings')).toThrow(/already has an output "embedding" \(key mean\(.*\)\); asked for the key mean\(/)
    const penultimateOnly = addEmbeddingOutput(original).bytes
    expect(() => addKeyOutput(penultimateOnly, 'mean-last-hidden')).toThrow(/not made by addKeyOutput/)
    // Another output name keeps both.
    const both = addKeyOutput(mean, 'penultimate', { output: 'penultimate' })
    expect(inspectModel(both.bytes).outputs.map((o) => o.name)).toEqual(['logits', 'embedding', 'penultimate'])
  })

  it('rejects unknown tensors and ranks that do not fit the pooling', () => {
    expect(() => addKeyOutput(original, { tensor: '/no/such/tensor', pooling: 'mean' })).toThrow(KeyTensorNotFoundError)
    expect(() => addKeyOutput(original, { tensor: '/no/such/tensor', pooling: 'mean' })).toThrow(/no tensor named "\/no\/such\/tensor"/)
    expect(() => addKeyOutput(original, { tensor: lastHidden, pooling: 'none' })).toThrow(KeyShapeError)
    expect(() => addKeyOutput(original, { tensor: lastHidden, pooling: 'none' })).toThrow(/needs a rank-2 tensor \[batch, H\]; ".*" \(shape \[batch_size, \?, 32\]\) has rank 3/)
    expect(() => addKeyOutput(original, { tensor: 'input_ids', pooling: 'mean' })).toThrow(/rank-3.*has rank 2/)
  })

  it('needs the attention mask for mean pooling', () => {
    expect(() => addKeyOutput(original, 'mean-last-hidden', { attentionMask: 'mask' })).toThrow(MissingInputError)
    expect(() => addKeyOutput(original, 'mean-last-hidden', { attentionMask: 'mask' })).toThrow(/needs the graph input "mask"; the graph's inputs are: "input_ids", "attention_mask"/)
  })
})

describe('named tensors on the HF fixtures', () => {
  it("'none' copies a [batch, H] tensor, and rejects the matmul head's [batch, 1, H] slice", async () => {
    const expected = readExpected('hf-distilbert')
    const { bytes } = addKeyOutput(readModel('hf-distilbert'), { tensor: '/Relu_output_0', pooling: 'none' })
    for (const c of expected.cases) expectClose((await run(bytes, c.inputs)).embedding, c.embedding)
    expect(() => addKeyOutput(readModel('hf-matmul-head'), { tensor: '/Slice_output_0', pooling: 'none' })).toThrow(/rank-2.*has rank 3/)
  })
})

// ----------------------------------------------------------------------------- hand-built graphs

// input_ids, attention_mask [batch, seq] -> e = E[ids] -> h = Tanh(e) -> h[:, 0] -> MatMul(W) -> logits
const E = Array.from({ length: 10 * 4 }, (_, i) => Math.round(Math.sin(i * 1.7) * 1000) / 1000)
const W = Array.from({ length: 4 * 3 }, (_, i) => Math.round(Math.cos(i * 0.9) * 1000) / 1000)

interface TinySpec {
  opset?: number
  inputs?: string[]
  /** Nodes between h and the logits MatMul's input `pooled`. */
  head?: onnxProto.onnx.INodeProto[]
  hiddenDims?: (number | string)[]
}

function tinyEncoder(spec: TinySpec = {}): Uint8Array {
  const dims = (d: (number | string)[]) => ({ dim: d.map((x) => (typeof x === 'number' ? { dimValue: x } : { dimParam: x })) })
  const input = (name: string) => ({ name, type: { tensorType: { elemType: INT64, shape: dims(['batch_size', 'sequence_length']) } } })
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 14 }],
    graph: {
      name: 'tiny-encoder',
      node: [
        { opType: 'Gather', name: 'embed', input: ['E', 'input_ids'], output: ['e'] },
        { opType: 'Tanh', name: 'encoder', input: ['e'], output: ['h'] },
        ...(spec.head ?? [
          { opType: 'Constant', name: 'zero', output: ['zero'], attribute: [{ name: 'value', type: 4, t: { dims: [], dataType: INT64, int64Data: [0] } }] },
          { opType: 'Gather', name: 'cls', input: ['h', 'zero'], output: ['pooled'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
        ]),
        { opType: 'MatMul', name: 'classifier', input: ['pooled', 'W'], output: ['logits'] },
      ],
      initializer: [
        { name: 'E', dims: [10, 4], dataType: FLOAT, floatData: E },
        { name: 'W', dims: [4, 3], dataType: FLOAT, floatData: W },
      ],
      input: (spec.inputs ?? ['input_ids', 'attention_mask']).map(input),
      output: [{ name: 'logits', type: { tensorType: { elemType: FLOAT, shape: dims(['batch_size', 3]) } } }],
      valueInfo: spec.hiddenDims ? [{ name: 'h', type: { tensorType: { elemType: FLOAT, shape: dims(spec.hiddenDims) } } }] : [],
    },
  }).finish()
}

const IDS = [
  [1, 5, 7, 0],
  [2, 9, 0, 0],
]
const MASK = [
  [1, 1, 1, 0],
  [1, 1, 0, 0],
]

/** The masked mean of f(E[id]) per row, in plain JS. */
const maskedMean = (f: (x: number) => number): Matrix =>
  IDS.map((ids, r) => {
    const sum = [0, 0, 0, 0]
    let count = 0
    ids.forEach((id, s) => {
      if (!MASK[r][s]) return
      count++
      for (let j = 0; j < 4; j++) sum[j] += f(E[id * 4 + j])
    })
    return sum.map((x) => x / Math.max(count, 1))
  })

describe('addKeyOutput on hand-built graphs', () => {
  it.each([11, 13, 14])('writes ReduceSum/Unsqueeze axes the way opset %i wants', async (opset) => {
    const model = tinyEncoder({ opset })
    const { bytes, key } = addKeyOutput(model, ['mean-last-hidden', 'mean-word-embeddings'])
    expect(key).toBe('concat(l2(mean(h)), l2(mean(e)))')
    const added = onnx.ModelProto.decode(bytes).graph!.node!.filter((n) => n.opType === 'ReduceSum')
    expect(added.every((n) => (opset >= 13 ? n.input!.length === 2 : n.attribute!.some((a) => a.name === 'axes')))).toBe(true)
    const out = await run(bytes, { input_ids: IDS, attention_mask: MASK })
    expectClose(out.embedding, sideBySide(maskedMean(Math.tanh), maskedMean((x) => x)))
  })

  it('finds the hidden state behind a masked mean pooler (sum(h * m) / clamp(sum(m)))', async () => {
    // The shape of scripts/train/train.py's pooling: the walk steps over Div, ReduceSum and the mask's Mul.
    const c = (name: string, t: onnxProto.onnx.ITensorProto) => ({ opType: 'Constant', name, output: [name], attribute: [{ name: 'value', type: 4, t }] })
    const head = [
      { opType: 'Cast', name: 'mask_f', input: ['attention_mask'], output: ['mask_f'], attribute: [{ name: 'to', type: 2, i: FLOAT }] },
      c('axis2', { dims: [1], dataType: INT64, int64Data: [2] }),
      c('axis1', { dims: [1], dataType: INT64, int64Data: [1] }),
      c('one', { dims: [], dataType: FLOAT, floatData: [1] }),
      { opType: 'Unsqueeze', name: 'm', input: ['mask_f', 'axis2'], output: ['m'] },
      { opType: 'Mul', name: 'hm', input: ['h', 'm'], output: ['hm'] },
      { opType: 'ReduceSum', name: 'sum', input: ['hm', 'axis1'], output: ['sum'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      { opType: 'ReduceSum', name: 'count', input: ['m', 'axis1'], output: ['count'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      { opType: 'Clip', name: 'clamp', input: ['count', 'one'], output: ['clamped'] },
      { opType: 'Div', name: 'mean', input: ['sum', 'clamped'], output: ['pooled'] },
    ]
    const { bytes, key } = addKeyOutput(tinyEncoder({ head }), 'mean-last-hidden')
    expect(key).toBe('mean(h)')
    expectClose((await run(bytes, { input_ids: IDS, attention_mask: MASK })).embedding, maskedMean(Math.tanh))
  })

  it('lists rank-3 candidates when it cannot tell which sequence the classifier pools', () => {
    const index = (name: string, i: number) => ({ opType: 'Constant', name, output: [name], attribute: [{ name: 'value', type: 4, t: { dims: [], dataType: INT64, int64Data: [i] } }] })
    const head = [
      index('i0', 0),
      index('i1', 1),
      { opType: 'Gather', name: 'first', input: ['h', 'i0'], output: ['first'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
      { opType: 'Gather', name: 'second', input: ['h', 'i1'], output: ['second'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
      { opType: 'Add', name: 'both', input: ['first', 'second'], output: ['pooled'] },
    ]
    const model = tinyEncoder({ head })
    expect(() => addKeyOutput(model, 'mean-last-hidden')).toThrow(KeyPresetError)
    expect(() => addKeyOutput(model, 'mean-last-hidden')).toThrow(
      /"mean-last-hidden".*Add "both".*several inputs.*"first", "second".*candidates: "e" \[batch_size, sequence_length, 4\], "h" \[batch_size, sequence_length, 4\].*mean\(<tensor>\)/,
    )
    // Naming the tensor works where the preset cannot decide.
    expect(addKeyOutput(model, { tensor: 'h', pooling: 'mean' }).embedding.dim).toBe(4)
  })

  it('needs input_ids for the word embeddings and attention_mask for any mean', () => {
    const noMask = tinyEncoder({ inputs: ['input_ids'] })
    expect(() => addKeyOutput(noMask, 'mean-word-embeddings')).toThrow(/mean pooling of "e" needs the graph input "attention_mask"; the graph's inputs are: "input_ids"/)
    expect(addKeyOutput(noMask, { tensor: 'h', pooling: 'cls' }).embedding.dim).toBe(4) // cls needs no mask
    expect(() => addKeyOutput(tinyEncoder(), 'mean-word-embeddings', { inputIds: 'tokens' })).toThrow(MissingInputError)
  })

  it('fails clearly when a width is not known statically', () => {
    const symbolic = tinyEncoder({ hiddenDims: ['batch_size', 'sequence_length', 'hidden'] })
    expect(() => addKeyOutput(symbolic, { tensor: 'h', pooling: 'mean' })).toThrow(KeyShapeError)
    expect(() => addKeyOutput(symbolic, { tensor: 'h', pooling: 'mean' })).toThrow(/cannot determine the width.*"h" \(shape \[batch_size, sequence_length, hidden\]\)/)
    const custom = tinyEncoder({
      head: [
        { opType: 'Mystery', domain: 'com.example', name: 'mystery', input: ['h'], output: ['m'] },
        { opType: 'ReduceMean', name: 'pool', input: ['m'], output: ['pooled'], attribute: [{ name: 'axes', type: 7, ints: [1] }, { name: 'keepdims', type: 2, i: 0 }] },
      ],
    })
    expect(() => addKeyOutput(custom, { tensor: 'm', pooling: 'cls' })).toThrow(/cannot determine the rank of "m"/)
  })
})

describe('key specs', () => {
  it('rejects what is not a key', () => {
    expect(() => addKeyOutput(tinyEncoder(), [])).toThrow(InvalidKeySpecError)
    expect(() => addKeyOutput(tinyEncoder(), 'mean-everything' as KeySpec)).toThrow(/unknown key preset "mean-everything"/)
    expect(() => addKeyOutput(tinyEncoder(), { tensor: 'h', pooling: 'max' } as unknown as KeySpec)).toThrow(/unknown pooling "max"/)
  })

  it('parses the command-line form', () => {
    expect(parseKeySpec('penultimate')).toBe('penultimate')
    expect(parseKeySpec('penultimate+mean-last-hidden')).toEqual(['penultimate', 'mean-last-hidden'])
    expect(parseKeySpec('mean-last-hidden, mean-word-embeddings')).toEqual(['mean-last-hidden', 'mean-word-embeddings'])
    expect(parseKeySpec('penultimate+mean(/a/b,c+d)+cls(x)')).toEqual(['penultimate', { tensor: '/a/b,c+d', pooling: 'mean' }, { tensor: 'x', pooling: 'cls' }])
    expect(parseKeySpec('concat(l2(penultimate:/p), l2(mean(/a,b)), l2(none(x)))')).toEqual(['penultimate', { tensor: '/a,b', pooling: 'mean' }, { tensor: 'x', pooling: 'none' }])
    expect(() => parseKeySpec('penultimate+')).toThrow(/empty key part/)
    expect(() => parseKeySpec('pooled')).toThrow(/unknown key part "pooled"; expected one of penultimate, mean-last-hidden/)
  })
})
