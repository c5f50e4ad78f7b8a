/**
 * The one place that imports onnx-proto (protobufjs classes generated from onnx.proto, ONNX 1.10.2).
 */
import onnxProto from 'onnx-proto'
import type { onnx as Onnx } from 'onnx-proto'
import { InvalidModelError } from './errors.ts'

// onnx-proto is CommonJS (`module.exports = $root`), so Node's ESM loader sees no named `onnx` export:
// take it off the default export.
export const onnx: typeof Onnx = onnxProto.onnx

export type ModelProto = Onnx.ModelProto
export type GraphProto = Onnx.IGraphProto
export type NodeProto = Onnx.INodeProto
export type TensorProto = Onnx.ITensorProto
export type ValueInfoProto = Onnx.IValueInfoProto
export type AttributeProto = Onnx.IAttributeProto
export type Dimension = Onnx.TensorShapeProto.IDimension

/** Decodes a serialized ModelProto that has a graph; anything else is an InvalidModelError. */
export function decodeModel(bytes: Uint8Array): ModelProto & { graph: GraphProto } {
  let model: ModelProto
  try {
    model = onnx.ModelProto.decode(bytes)
  } catch (err) {
    throw new InvalidModelError(`not a serialized ONNX ModelProto (${(err as Error).message})`)
  }
  if (!model.graph) throw new InvalidModelError('the ModelProto has no graph')
  return model as ModelProto & { graph: GraphProto }
}

/** protobufjs decodes int64 fields as Long objects; ONNX dims and versions fit in a double. */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'number' ? value : value.toNumber()
}

/** Decoded messages keep defaults on the prototype, so "is this field set" means "is it an own property". */
export function has<T extends object>(message: T, field: keyof T): boolean {
  return Object.prototype.hasOwnProperty.call(message, field)
}

/** The graphs held in a node's attributes (If/Loop/Scan bodies), in attribute order. */
export function subgraphs(node: NodeProto): GraphProto[] {
  const out: GraphProto[] = []
  for (const attr of node.attribute ?? []) {
    if (attr.g) out.push(attr.g)
    for (const g of attr.graphs ?? []) out.push(g)
  }
  return out
}
