/**
 * What the build manifest records about a model: its signature (inputs, outputs), opsets and producer.
 */
import { decodeModel, has, onnx, toNumber, type ValueInfoProto } from './proto.ts'

export interface TensorSignature {
  name: string
  /** Element type in onnxruntime's spelling ('float32', 'int64', ...); 'onnx:<n>' for others, 'unknown' if unset. */
  type: string
  /** Dimensions: a number, a symbolic name, or null when unknown; null when the rank is unknown. */
  shape: (number | string | null)[] | null
}

export interface ModelInfo {
  irVersion: number
  opset: { domain: string; version: number }[]
  producer: { name: string; version: string }
  inputs: TensorSignature[]
  outputs: TensorSignature[]
}

const T = onnx.TensorProto.DataType
const TYPE_NAMES: Record<number, string> = {
  [T.FLOAT]: 'float32',
  [T.UINT8]: 'uint8',
  [T.INT8]: 'int8',
  [T.UINT16]: 'uint16',
  [T.INT16]: 'int16',
  [T.INT32]: 'int32',
  [T.INT64]: 'int64',
  [T.STRING]: 'string',
  [T.BOOL]: 'bool',
  [T.FLOAT16]: 'float16',
  [T.DOUBLE]: 'float64',
  [T.UINT32]: 'uint32',
  [T.UINT64]: 'uint64',
  [T.BFLOAT16]: 'bfloat16',
}

function signature(info: ValueInfoProto): TensorSignature {
  const tensor = info.type?.tensorType
  const elem = tensor?.elemType ?? 0
  const type = elem === 0 ? 'unknown' : TYPE_NAMES[elem] ?? `onnx:${elem}`
  const shape = tensor?.shape
    ? (tensor.shape.dim ?? []).map((d) => (has(d, 'dimParam') && d.dimParam ? d.dimParam : has(d, 'dimValue') ? toNumber(d.dimValue) : null))
    : null
  return { name: info.name ?? '', type, shape }
}

/** Reads a model's signature. Initializers listed as graph inputs (IR < 4 style) are not inputs to feed. */
export function inspectModel(model: Uint8Array): ModelInfo {
  const decoded = decodeModel(model)
  const { graph } = decoded
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name))
  return {
    irVersion: toNumber(decoded.irVersion),
    opset: (decoded.opsetImport ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: toNumber(o.version) })),
    producer: { name: decoded.producerName ?? '', version: decoded.producerVersion ?? '' },
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name)).map(signature),
    outputs: (graph.output ?? []).map(signature),
  }
}
