import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import onnxProto from 'onnx-proto'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { expectClose } from './close.ts'
import {
  addEmbeddingOutput,
  ClassifierNotFoundError,
  ClassifierShapeError,
  EmbeddingNameClashError,
  ExternalDataError,
  findClassifier,
  inspectModel,
  InvalidModelError,
  MissingLogitsError,
  WeightNotInitializerError,
} from '../../scripts/export/index.ts'

const { onnx } = onnxProto
const FLOAT = onnx.TensorProto.DataType.FLOAT

// ------------------------------------------------------------------------------------------ helpers

interface Case {
  inputs: Record<string, number[][]>
  logits: number[][]
  embedding: number[][]
}
interface Expected {
  hidden_size: number
  num_labels: number
  cases: Case[]
}

const fixture = (name: string, file: string) => fileURLToPath(new URL(`../fixtures/${name}/${file}`, import.meta.url))
const readModel = (name: string) => new Uint8Array(readFileSync(fixture(name, 'onnx/model.onnx')))
const readExpected = (name: string): Expected => JSON.parse(readFileSync(fixture(name, 'expected.json'), 'utf8'))

function int64Feeds(inputs: Record<string, number[][]>): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {}
  for (const [name, rows] of Object.entries(inputs)) {
    feeds[name] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length])
  }
  return feeds
}

// toEqual walks a 130 kB array element by element (~1 s); compare the bytes natively.
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)

// Small hand-built graphs: x [batch_size, H] -> nodes -> outputs.
interface GraphSpec {
  nodes: onnxProto.onnx.INodeProto[]
  initializers?: onnxProto.onnx.ITensorProto[]
  inputs?: string[]
  outputs?: { name: string; dims?: (number | string)[] }[]
}

function floats(name: string, dims: number[], seed = 1): onnxProto.onnx.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1)
  // A fixed, non-symmetric pattern: enough to tell rows, columns and transposes apart.
  const floatData = Array.from({ length: n }, (_, i) => Math.round(Math.sin(seed * 7 + i * 1.3) * 1000) / 1000)
  return { name, dims, dataType: FLOAT, floatData }
}

function buildModel(spec: GraphSpec, H = 4): Uint8Array {
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  })
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 14 }],
    producerName: 'graph.test',
    graph: {
      name: 'tiny',
      node: spec.nodes,
      initializer: spec.initializers ?? [],
      input: (spec.inputs ?? ['x']).map((name) => valueInfo(name, ['batch_size', H])),
      output: (spec.outputs ?? [{ name: 'logits' }]).map((o) => valueInfo(o.name, o.dims ?? ['batch_size', 3])),
    },
  }).finish()
}

/** x -> MatMul(W [4, 3]) -> Add(b) -> logits, the smallest valid classifier. */
const linear = (extra: Partial<GraphSpec> = {}): GraphSpec => ({
  nodes: [
    { opType: 'MatMul', name: 'classifier/MatMul', input: ['x', 'W'], output: ['z'] },
    { opType: 'Add', name: 'classifier/Add', input: ['z', 'b'], output: ['logits'] },
  ],
  initializers: [floats('W', [4, 3]), floats('b', [3], 2)],
  ...extra,
})

const X = new ort.Tensor('float32', Float32Array.from([0.5, -1, 2, 0.25, 1, 0, -0.5, 3]), [2, 4])

// ------------------------------------------------------------------------------------ HF fixtures

describe.each([
  // fixture, op of the final layer, the source tensor torch named
  ['hf-bert', 'Gemm', '/bert/pooler/activation/Tanh_output_0'],
  ['hf-distilbert', 'Gemm', '/Relu_output_0'],
  ['hf-matmul-head', 'MatMul', '/Slice_output_0'],
])('%s', (name, op, source) => {
  const original = readModel(name)
  const expected = readExpected(name)
  const result = addEmbeddingOutput(original)

  it('finds the input of the final classifier layer', () => {
    const graph = onnx.ModelProto.decode(original).graph!
    expect(findClassifier(graph, 'logits').node.opType).toBe(op)
    expect(result.added).toBe(true)
    expect(result.embedding).toEqual({ name: 'embedding', source, dim: expected.hidden_size })
  })

  it('keeps logits and exposes the pooled embedding', async () => {
    const before = await ort.InferenceSession.create(original)
    const after = await ort.InferenceSession.create(result.bytes)
    expect(after.outputNames).toEqual(['logits', 'embedding'])
    for (const c of expected.cases) {
      const feeds = int64Feeds(c.inputs)
      const [a, b] = [await before.run(feeds), await after.run(feeds)]
      // Same graph, same kernels: the logits should not move by a single bit.
      expect(b.logits.data).toEqual(a.logits.data)
      expectClose(b.logits, c.logits)
      expectClose(b.embedding, c.embedding)
      expect(b.embedding.dims[1]).toBe(result.embedding.dim)
    }
    await before.release()
    await after.release()
  })

  it('is idempotent and deterministic', () => {
    const again = addEmbeddingOutput(result.bytes)
    expect(again.added).toBe(false)
    expect(again.bytes).toBe(result.bytes) // unchanged means the very input
    expect(again.embedding).toEqual(result.embedding)
    expect(sameBytes(addEmbeddingOutput(readModel(name)).bytes, result.bytes)).toBe(true)
  })

  it('reports the signature for the manifest', () => {
    const info = inspectModel(result.bytes)
    const inputs = Object.keys(expected.cases[0].inputs)
    expect(info.inputs.map((i) => [i.name, i.type, i.shape])).toEqual(inputs.map((i) => [i, 'int64', ['batch_size', 'sequence_length']]))
    expect(info.outputs.map((o) => o.name)).toEqual(['logits', 'embedding'])
    expect(info.outputs[1]).toEqual({ name: 'embedding', type: 'float32', shape: ['batch_size', expected.hidden_size] })
    expect(info.opset).toEqual([{ domain: 'ai.onnx', version: 14 }])
    expect(info.producer.name).toBe('pytorch')
  })
})

// ----------------------------------------------------------------------------- hand-built graphs

describe('addEmbeddingOutput on hand-built graphs', () => {
  it('walks back through bias, scale, dropout, cast and identity to the MatMul', async () => {
    const model = buildModel({
      nodes: [
        { opType: 'MatMul', name: 'mm', input: ['x', 'W'], output: ['z'] },
        { opType: 'Add', name: 'bias', input: ['b', 'z'], output: ['z1'] }, // bias first, as torch writes it
        { opType: 'Constant', name: 'T', output: ['t'], attribute: [{ name: 'value', type: 4, t: { dims: [], dataType: FLOAT, floatData: [2] } }] },
        { opType: 'Div', name: 'temperature', input: ['z1', 't'], output: ['z2'] },
        { opType: 'Dropout', name: 'drop', input: ['z2'], output: ['z3'] },
        { opType: 'Cast', name: 'cast', input: ['z3'], output: ['z4'], attribute: [{ name: 'to', type: 2, i: FLOAT }] },
        { opType: 'Identity', name: 'id', input: ['z4'], output: ['logits'] },
      ],
      initializers: [floats('W', [4, 3]), floats('b', [3], 2)],
    })
    const { bytes, embedding } = addEmbeddingOutput(model)
    expect(embedding).toEqual({ name: 'embedding', source: 'x', dim: 4 })
    const out = await (await ort.InferenceSession.create(bytes)).run({ x: X })
    expect(out.embedding.data).toEqual(X.data)
    expect(out.embedding.dims).toEqual([2, 4])
  })

  it('reads H from a Gemm weight by transB', () => {
    const gemm = (transB: number, dims: number[]) =>
      buildModel(
        {
          nodes: [{ opType: 'Gemm', name: 'g', input: ['x', 'W', 'b'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: transB }] }],
          initializers: [floats('W', dims), floats('b', [3])],
        },
        5,
      )
    expect(addEmbeddingOutput(gemm(1, [3, 5])).embedding.dim).toBe(5) // torch's Linear: [C, H]
    expect(addEmbeddingOutput(gemm(0, [5, 3])).embedding.dim).toBe(5) // [H, C]
  })

  it('uses the names it is given', () => {
    const model = buildModel(linear({ nodes: linear().nodes.map((n) => (n.output?.[0] === 'logits' ? { ...n, output: ['scores'] } : n)), outputs: [{ name: 'scores' }] }))
    const { embedding } = addEmbeddingOutput(model, { logits: 'scores', output: 'features' })
    expect(embedding).toEqual({ name: 'features', source: 'x', dim: 4 })
  })

  it('copies a fixed batch dimension from the logits', () => {
    const { bytes } = addEmbeddingOutput(buildModel(linear({ outputs: [{ name: 'logits', dims: [2, 3] }] })))
    expect(inspectModel(bytes).outputs[1].shape).toEqual([2, 4])
  })

  it('keeps unknown fields byte for byte', () => {
    // Field 99 (varint 7) stands for a field newer than onnx-proto's schema: it must survive the edit.
    const model = buildModel(linear())
    const unknown = Uint8Array.from([0x98, 0x06, 0x07])
    const withUnknown = new Uint8Array([...model, ...unknown])
    const { bytes } = addEmbeddingOutput(withUnknown)
    expect(Array.from(bytes.subarray(bytes.length - 3))).toEqual(Array.from(unknown))
  })
})

describe('addEmbeddingOutput errors', () => {
  it('lists the outputs when there is no logits output', () => {
    const model = buildModel(linear({ outputs: [{ name: 'scores' }] }))
    expect(() => addEmbeddingOutput(model)).toThrow(MissingLogitsError)
    expect(() => addEmbeddingOutput(model)).toThrow(/output named "logits".*"scores"/)
  })

  it('says where the walk stopped when no MatMul/Gemm feeds the logits', () => {
    const relu = buildModel({ nodes: [{ opType: 'Softmax', name: 'sm', input: ['x'], output: ['logits'] }] })
    expect(() => addEmbeddingOutput(relu)).toThrow(ClassifierNotFoundError)
    expect(() => addEmbeddingOutput(relu)).toThrow(/MatMul or Gemm.*stopped at Softmax "sm"/)
    const passthrough = buildModel({ nodes: [{ opType: 'Identity', name: 'id', input: ['x'], output: ['logits'] }] })
    expect(() => addEmbeddingOutput(passthrough)).toThrow(/Identity: "x" is a graph input/)
  })

  it('rejects a weight that is not an initializer', () => {
    const model = buildModel({
      nodes: [
        { opType: 'Transpose', name: 'wt', input: ['Wt'], output: ['W'] },
        { opType: 'MatMul', name: 'mm', input: ['x', 'W'], output: ['logits'] },
      ],
      initializers: [floats('Wt', [3, 4])],
    })
    expect(() => addEmbeddingOutput(model)).toThrow(WeightNotInitializerError)
    expect(() => addEmbeddingOutput(model)).toThrow(/weight "W" of the final MatMul "mm".*Transpose "wt".*do_constant_folding/)
  })

  it('rejects an embedding name used by another tensor', () => {
    const model = buildModel(linear({ nodes: linear().nodes.map((n) => ({ ...n, input: n.input?.map((i) => (i === 'z' ? 'embedding' : i)), output: n.output?.map((o) => (o === 'z' ? 'embedding' : o)) })) }))
    expect(() => addEmbeddingOutput(model)).toThrow(EmbeddingNameClashError)
    expect(() => addEmbeddingOutput(model)).toThrow(/"embedding".*output of MatMul node "classifier\/MatMul"/)
  })

  it('rejects weights stored as external data', () => {
    const external = { ...floats('W', [4, 3]), floatData: [], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'model.onnx_data' }] }
    const model = buildModel(linear({ initializers: [external, floats('b', [3])] }))
    expect(() => addEmbeddingOutput(model)).toThrow(ExternalDataError)
    expect(() => addEmbeddingOutput(model)).toThrow(/"W".*external data.*"model.onnx_data"/)
  })

  it('rejects a layer whose classes do not match the logits', () => {
    const model = buildModel(linear({ outputs: [{ name: 'logits', dims: ['batch_size', 5] }] }))
    expect(() => addEmbeddingOutput(model)).toThrow(ClassifierShapeError)
  })

  it('rejects bytes that are not a model', () => {
    expect(() => addEmbeddingOutput(Uint8Array.from([0xff, 0xff, 0xff]))).toThrow(InvalidModelError)
  })
})
