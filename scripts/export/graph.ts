/**
 * Makes a Hugging Face sequence-classification ONNX export ResMem-ready: besides `logits`, the graph
 * also outputs `embedding`, the tensor that feeds the final classifier layer.
 *
 * The original tensors, nodes and bytes are kept; we append one Identity (or, when the classifier works on
 * a 3-D tensor that is reshaped into the logits, a Reshape to [-1, H]) plus the new graph output.
 */
import { findClassifier } from './classifier.ts'
import { ClassifierShapeError, EmbeddingNameClashError, MissingLogitsError } from './errors.ts'
import { assertNoExternalData } from './external-data.ts'
import { collectNames, uniqueName } from './names.ts'
import { decodeModel, has, onnx, toNumber, type Dimension, type GraphProto, type NodeProto, type ValueInfoProto } from './proto.ts'
import { appendToGraph } from './wire.ts'

export interface EmbeddingOutputOptions {
  /** Name of the logits graph output. Default 'logits'. */
  logits?: string
  /** Name of the graph output to add. Default 'embedding'. */
  output?: string
}

export interface EmbeddingInfo {
  /** The graph output holding the embedding. */
  name: string
  /** The tensor it copies: the final MatMul/Gemm's activation input. */
  source: string
  /** Embedding width (H). */
  dim: number
}

export interface EmbeddingOutputResult {
  bytes: Uint8Array
  embedding: EmbeddingInfo
  /** False when the model already had the output; `bytes` is then the input, unchanged. */
  added: boolean
}

export function lastDim(info: ValueInfoProto | undefined): number | undefined {
  const dims = info?.type?.tensorType?.shape?.dim
  const last = dims?.[dims.length - 1]
  return last && has(last, 'dimValue') ? toNumber(last.dimValue) : undefined
}

/** The logits' batch dimension, so both outputs name the same symbol; 'batch_size' if it has none. */
export function batchDim(logits: ValueInfoProto): Dimension {
  const first = logits.type?.tensorType?.shape?.dim?.[0]
  if (first && has(first, 'dimParam') && first.dimParam) return { dimParam: first.dimParam }
  if (first && has(first, 'dimValue')) return { dimValue: toNumber(first.dimValue) }
  return { dimParam: 'batch_size' }
}

/** What an existing embedding output copies, assuming it is ours (Identity/Reshape of the source). */
function describeExisting(graph: GraphProto, output: ValueInfoProto, logits: string): EmbeddingInfo {
  const name = output.name ?? ''
  const producer = graph.node?.find((n) => n.output?.includes(name))
  const copies = producer && (producer.opType === 'Identity' || producer.opType === 'Reshape')
  const source = copies ? producer.input?.[0] ?? name : name
  const dim = lastDim(output) ?? findClassifier(graph, logits).hidden
  return { name, source, dim }
}

/**
 * Adds a graph output with the input of the final classifier layer (ResMem's embedding).
 *
 * @example
 * const { bytes, embedding } = addEmbeddingOutput(readFileSync('onnx/model.onnx'))
 * writeFileSync('onnx/model.resmem.onnx', bytes) // outputs: logits, embedding [batch_size, embedding.dim]
 */
export function addEmbeddingOutput(model: Uint8Array, options: EmbeddingOutputOptions = {}): EmbeddingOutputResult {
  const logitsName = options.logits ?? 'logits'
  const outputName = options.output ?? 'embedding'
  const { graph } = decodeModel(model)
  assertNoExternalData(graph)

  const outputs = graph.output ?? []
  const existing = outputs.find((o) => o.name === outputName)
  if (existing) return { bytes: model, embedding: describeExisting(graph, existing, logitsName), added: false }

  const logits = outputs.find((o) => o.name === logitsName)
  if (!logits) throw new MissingLogitsError(logitsName, outputs.map((o) => o.name ?? ''))

  const names = collectNames(graph)
  const clash = names.tensors.get(outputName)
  if (clash) throw new EmbeddingNameClashError(outputName, clash)

  const layer = findClassifier(graph, logitsName)
  const classes = lastDim(logits)
  if (classes !== undefined && classes !== layer.classes) {
    throw new ClassifierShapeError(
      `the final ${layer.node.opType} "${layer.node.name ?? ''}" produces ${layer.classes} classes but "${logitsName}" has ${classes}; expected the layer that makes the logits`,
    )
  }

  const nodes: NodeProto[] = []
  if (layer.reshaped) {
    // The classifier ran on [.., H] and the path only reshapes, so its rows are the logits' rows: [-1, H]
    // gives one embedding per logits row.
    const shape = uniqueName(`${outputName}/shape`, names.tensors)
    nodes.push({
      opType: 'Constant',
      name: uniqueName(`/${outputName}/Constant`, names.nodes),
      output: [shape],
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [-1, layer.hidden] } }],
    })
    nodes.push({ opType: 'Reshape', name: uniqueName(`/${outputName}/Reshape`, names.nodes), input: [layer.source, shape], output: [outputName] })
  } else {
    // Identity keeps the source's own name intact for anything else that reads it.
    nodes.push({ opType: 'Identity', name: uniqueName(`/${outputName}/Identity`, names.nodes), input: [layer.source], output: [outputName] })
  }
  const output: ValueInfoProto = {
    name: outputName,
    type: { tensorType: { elemType: layer.elemType, shape: { dim: [batchDim(logits), { dimValue: layer.hidden }] } } },
  }
  const fragment = onnx.GraphProto.encode({ node: nodes, output: [output] }).finish()
  return { bytes: appendToGraph(model, fragment), embedding: { name: outputName, source: layer.source, dim: layer.hidden }, added: true }
}
