/**
 * Finds the final classifier layer of a sequence-classification graph: the last MatMul or Gemm on the
 * path to the logits. Its activation input is the embedding ResMem keys its memory on.
 */
import { ClassifierNotFoundError, ClassifierShapeError, WeightNotInitializerError } from './errors.ts'
import { onnx, toNumber, type GraphProto, type NodeProto, type TensorProto } from './proto.ts'

export interface ClassifierLayer {
  /** The MatMul or Gemm node. */
  node: NodeProto
  /** Its activation input: the tensor that feeds the classifier ([.., H]). */
  source: string
  /** Its weight initializer. */
  weight: TensorProto
  /** Width of the embedding (H). */
  hidden: number
  /** Number of classes the layer produces (C). */
  classes: number
  /** Element type of the weight, and so of the source (MatMul and Gemm take one type). */
  elemType: number
  /** Op types walked from the logits back to the layer, nearest to the logits first. */
  path: string[]
  /** A Reshape/Squeeze/Unsqueeze/Flatten lies on the path, so the source may not be 2-D ([batch, H]). */
  reshaped: boolean
}

// Ops that move or relabel elements without mixing rows: a classifier under them is still the classifier.
const SHAPE_OPS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten'])
const UNARY_OPS = new Set(['Identity', 'Dropout', 'Cast'])
// Elementwise with a constant operand: the classifier's bias (Add) or a temperature/scale.
const CONSTANT_BINARY_OPS = new Set(['Add', 'Sub', 'Mul', 'Div'])

const isDefaultDomain = (node: NodeProto) => !node.domain || node.domain === 'ai.onnx'

export interface GraphIndex {
  /** Tensor -> the node that outputs it. */
  producers: Map<string, NodeProto>
  initializers: Map<string, TensorProto>
  /** Initializers and Constant outputs. */
  constants: Set<string>
}

export function indexGraph(graph: GraphProto): GraphIndex {
  const producers = new Map<string, NodeProto>()
  const constants = new Set<string>()
  for (const node of graph.node ?? []) {
    for (const o of node.output ?? []) if (o) producers.set(o, node)
    if (node.opType === 'Constant' && isDefaultDomain(node)) for (const o of node.output ?? []) constants.add(o)
  }
  const initializers = new Map<string, TensorProto>()
  for (const t of graph.initializer ?? []) {
    if (!t.name) continue
    initializers.set(t.name, t)
    constants.add(t.name)
  }
  return { producers, initializers, constants }
}

const describe = (node: NodeProto) => `${node.opType} "${node.name ?? ''}"`

/** The input a pass-through node carries the classifier's output on, or undefined if `node` is not one. */
function passThrough(node: NodeProto, constants: Set<string>): string | undefined {
  if (!isDefaultDomain(node)) return undefined
  const op = node.opType ?? ''
  const inputs = node.input ?? []
  if (UNARY_OPS.has(op) || SHAPE_OPS.has(op)) return inputs[0] || undefined
  if (CONSTANT_BINARY_OPS.has(op) && inputs.length === 2) {
    const [a, b] = inputs.map((i) => constants.has(i))
    if (a !== b) return a ? inputs[1] : inputs[0]
  }
  return undefined
}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const attr = node.attribute?.find((a) => a.name === name)
  return attr ? toNumber(attr.i) : fallback
}

function layerOf(node: NodeProto, path: string[], reshaped: boolean, ix: GraphIndex): ClassifierLayer {
  const op = node.opType as 'MatMul' | 'Gemm'
  const [source, weightName] = node.input ?? []
  const weight = ix.initializers.get(weightName)
  if (!weight) {
    const producer = ix.producers.get(weightName)
    throw new WeightNotInitializerError(op, node.name ?? '', weightName, producer && describe(producer))
  }
  if (ix.initializers.has(source)) {
    throw new ClassifierShapeError(`the final ${describe(node)} multiplies two initializers ("${source}", "${weightName}"); expected an activation as its first input`)
  }
  const dims = (weight.dims ?? []).map(toNumber)
  if (dims.length !== 2) {
    throw new ClassifierShapeError(`expected the weight "${weightName}" of the final ${describe(node)} to be 2-D, found dims [${dims.join(', ')}]`)
  }
  let hidden: number
  let classes: number
  if (op === 'Gemm') {
    if (intAttribute(node, 'transA', 0) !== 0) {
      throw new ClassifierShapeError(`the final ${describe(node)} has transA=1; expected the activation as A [batch, H]`)
    }
    // Gemm computes A x op(B): with transB=1 (torch's Linear) B is stored [C, H].
    ;[classes, hidden] = intAttribute(node, 'transB', 0) === 1 ? dims : [dims[1], dims[0]]
  } else {
    ;[hidden, classes] = dims
  }
  return { node, source, weight, hidden, classes, elemType: weight.dataType ?? onnx.TensorProto.DataType.FLOAT, path, reshaped }
}

/** Walks back from `logits` to the last MatMul/Gemm; throws ClassifierNotFoundError if the path holds none. */
export function findClassifier(graph: GraphProto, logits: string): ClassifierLayer {
  const ix = indexGraph(graph)
  const path: string[] = []
  let reshaped = false
  let tensor = logits
  // A well-formed graph is acyclic; the bound only keeps a malformed one from looping forever.
  for (let steps = 0; steps <= (graph.node?.length ?? 0); steps++) {
    const node = ix.producers.get(tensor)
    if (!node) {
      const what = ix.initializers.has(tensor) ? 'an initializer' : 'a graph input or produced by no node'
      throw new ClassifierNotFoundError(logits, path, `"${tensor}" is ${what}`)
    }
    if ((node.opType === 'MatMul' || node.opType === 'Gemm') && isDefaultDomain(node)) return layerOf(node, path, reshaped, ix)
    const next = passThrough(node, ix.constants)
    if (next === undefined) throw new ClassifierNotFoundError(logits, path, `stopped at ${describe(node)}, which is not a pass-through op`)
    path.push(node.opType ?? '')
    if (SHAPE_OPS.has(node.opType ?? '')) reshaped = true
    tensor = next
  }
  throw new ClassifierNotFoundError(logits, path, 'the graph has a cycle')
}
