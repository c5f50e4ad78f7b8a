/**
 * Static shape and element-type inference, just enough to know a tensor's rank and width (its last
 * dimension) before we pool it.
 *
 * torch.onnx.export writes no value_info for intermediate tensors (and before opset 17 it spells
 * LayerNorm as ReduceMean/Sub/Pow/...), so we propagate shapes forward from the graph inputs,
 * initializers and constants through the ops a transformer export is made of. An op we do not know, or
 * an operand we cannot read, gives an unknown shape; nothing here guesses.
 */
import { has, onnx, toNumber, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts'

/** A dimension: its size, its symbolic name, or null when unknown. */
export type Dim = number | string | null

export interface TensorShape {
  /** The dimensions, or undefined when even the rank is unknown. */
  dims?: Dim[]
  /** ONNX TensorProto.DataType, or undefined when unknown. */
  elemType?: number
}

export interface ShapeTable {
  get(tensor: string): TensorShape
  /** The elements of a small integer tensor (a constant, or shape arithmetic) as far as known. */
  value(tensor: string): Dim[] | undefined
  /** Every tensor with a known shape, in graph order (inputs, initializers, then node outputs). */
  names(): string[]
}

const T = onnx.TensorProto.DataType

// Ops whose output 0 has the shape and type of input 0.
const SAME_AS_INPUT = new Set([
  'Identity', 'Dropout', 'Relu', 'Tanh', 'Sigmoid', 'Erf', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Reciprocal', 'Softmax',
  'LogSoftmax', 'Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu', 'LeakyRelu', 'Elu', 'Selu', 'Softplus', 'HardSigmoid', 'Clip',
  'LayerNormalization', 'SimplifiedLayerNormalization', 'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization',
  'Floor', 'Ceil', 'Round', 'Sign', 'Not', 'Mish', 'CumSum', 'Trilu',
])
// Broadcasting elementwise ops: numpy rules over all inputs.
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Mod', 'PRelu'])
const BOOLEAN_OUTPUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not'])
const REDUCE = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp'])

const isDefaultDomain = (node: NodeProto) => !node.domain || node.domain === 'ai.onnx'

/** The opset version of the default ONNX domain, or undefined when the model imports none. */
export function defaultOpset(opsetImport: { domain?: string | null; version?: number | { toNumber(): number } | null }[] | null | undefined): number | undefined {
  const entry = (opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')
  return entry ? toNumber(entry.version) : undefined
}

function fromValueInfo(info: ValueInfoProto): TensorShape {
  const tensor = info.type?.tensorType
  const elemType = tensor?.elemType || undefined
  if (!tensor?.shape) return { elemType }
  const dims = (tensor.shape.dim ?? []).map((d): Dim => (has(d, 'dimValue') ? toNumber(d.dimValue) : has(d, 'dimParam') && d.dimParam ? d.dimParam : null))
  return { dims, elemType }
}

/** The integer values of a small constant tensor (int32/int64), or undefined if it holds none we can read. */
function intValues(tensor: TensorProto): number[] | undefined {
  if (tensor.int64Data?.length) return tensor.int64Data.map(toNumber)
  if (tensor.int32Data?.length) return tensor.int32Data.slice()
  const raw = tensor.rawData
  if (!raw || raw.length === 0) return (tensor.dims ?? []).map(toNumber).reduce((a, b) => a * b, 1) === 0 ? [] : undefined
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  if (tensor.dataType === T.INT64) return Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)))
  if (tensor.dataType === T.INT32) return Array.from({ length: raw.length / 4 }, (_, i) => view.getInt32(i * 4, true))
  return undefined
}

function attr(node: NodeProto, name: string) {
  return node.attribute?.find((a) => a.name === name)
}
const intAttr = (node: NodeProto, name: string): number | undefined => {
  const a = attr(node, name)
  return a ? toNumber(a.i) : undefined
}
const intsAttr = (node: NodeProto, name: string): number[] | undefined => attr(node, name)?.ints?.map(toNumber)

/** numpy broadcasting of known ranks; a dimension is kept only when the inputs agree on it. */
function broadcast(shapes: TensorShape[]): Dim[] | undefined {
  if (shapes.some((s) => !s.dims)) return undefined
  const rank = Math.max(...shapes.map((s) => s.dims!.length))
  const out: Dim[] = []
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s.dims![s.dims!.length - rank + i]).filter((d) => d !== undefined)
    const sized = dims.filter((d): d is number => typeof d === 'number' && d !== 1)
    if (sized.length) out.push(sized[0])
    else if (dims.every((d) => d === 1)) out.push(1)
    else {
      // Symbolic: keep it only if every non-1 input names the same symbol.
      const symbols = new Set(dims.filter((d) => d !== 1))
      out.push(symbols.size === 1 ? [...symbols][0] : null)
    }
  }
  return out
}

const normalizeAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis)

/**
 * Infers rank, dims and element type of every tensor of the top-level graph. `opset` is the default
 * domain's version: it decides whether Unsqueeze/Squeeze/Reduce* take their axes as attribute or input.
 */
export function inferShapes(graph: GraphProto, opset: number): ShapeTable {
  const shapes = new Map<string, TensorShape>()
  const constants = new Map<string, TensorProto>()
  const declared = new Map<string, TensorShape>()
  for (const v of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) if (v.name) declared.set(v.name, fromValueInfo(v))

  for (const v of graph.input ?? []) if (v.name) shapes.set(v.name, declared.get(v.name)!)
  for (const t of graph.initializer ?? []) {
    if (!t.name) continue
    shapes.set(t.name, { dims: (t.dims ?? []).map(toNumber), elemType: t.dataType ?? undefined })
    constants.set(t.name, t)
  }

  // The values of small integer tensors, as far as they are known: shape arithmetic (Shape -> Gather ->
  // Unsqueeze -> Concat -> Reshape) is how exports with dynamic axes say "[batch, seq, heads, head_dim]".
  const values = new Map<string, Dim[]>()
  const get = (name: string | null | undefined): TensorShape => (name ? shapes.get(name) ?? {} : {})
  const constInts = (name: string | null | undefined): number[] | undefined => {
    const t = name ? constants.get(name) : undefined
    return t ? intValues(t) : undefined
  }
  const valueOf = (name: string | null | undefined): Dim[] | undefined => (name ? values.get(name) ?? constInts(name) : undefined)
  const axesOf = (node: NodeProto): number[] | undefined => nodeAxes(node, opset, valueOf)

  for (const node of graph.node ?? []) {
    const op = node.opType ?? ''
    const inputs = (node.input ?? []).map(get)
    const first = inputs[0] ?? {}
    let out: TensorShape = {}
    if (!isDefaultDomain(node) && !SAME_AS_INPUT.has(op)) {
      out = {}
    } else if (op === 'Constant') {
      const t = attr(node, 'value')?.t
      if (t) {
        out = { dims: (t.dims ?? []).map(toNumber), elemType: t.dataType ?? undefined }
        if (node.output?.[0]) constants.set(node.output[0], t)
      }
    } else if (SAME_AS_INPUT.has(op)) {
      out = first
    } else if (op === 'Cast') {
      out = { dims: first.dims, elemType: intAttr(node, 'to') }
    } else if (BROADCAST.has(op)) {
      const elemType = BOOLEAN_OUTPUT.has(op) ? T.BOOL : op === 'Where' ? inputs[1]?.elemType : inputs.find((s) => s.elemType)?.elemType
      out = { dims: broadcast(inputs), elemType }
    } else if (op === 'MatMul') {
      const [a, b] = inputs
      if (a?.dims && b?.dims && a.dims.length >= 2 && b.dims.length >= 2) {
        const batch = broadcast([{ dims: a.dims.slice(0, -2) }, { dims: b.dims.slice(0, -2) }])
        out = { dims: batch && [...batch, a.dims[a.dims.length - 2], b.dims[b.dims.length - 1]], elemType: a.elemType ?? b.elemType }
      } else out = { elemType: a?.elemType ?? b?.elemType }
    } else if (op === 'Gemm') {
      const [a, b] = inputs
      const rows = a?.dims?.length === 2 ? a.dims[intAttr(node, 'transA') === 1 ? 1 : 0] : null
      const cols = b?.dims?.length === 2 ? b.dims[intAttr(node, 'transB') === 1 ? 0 : 1] : null
      out = { dims: [rows, cols], elemType: a?.elemType ?? b?.elemType }
    } else if (op === 'Gather') {
      const [data, indices] = inputs
      if (data?.dims && indices?.dims) {
        const axis = normalizeAxis(intAttr(node, 'axis') ?? 0, data.dims.length)
        out = { dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)], elemType: data.elemType }
      } else out = { elemType: data?.elemType }
    } else if (op === 'Slice') {
      if (first.dims) {
        const rank = first.dims.length
        const axes = node.input?.[3] ? constInts(node.input[3]) : constInts(node.input?.[1])?.map((_, i) => i)
        // The sliced extent depends on the runtime size; only the untouched axes keep their size.
        out = { dims: first.dims.map((d, i) => (axes && !axes.map((a) => normalizeAxis(a, rank)).includes(i) ? d : null)), elemType: first.elemType }
      } else out = { elemType: first.elemType }
    } else if (op === 'Unsqueeze') {
      const axes = axesOf(node)
      if (first.dims && axes) {
        const rank = first.dims.length + axes.length
        const at = new Set(axes.map((a) => normalizeAxis(a, rank)))
        const rest = [...first.dims]
        out = { dims: Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : rest.shift() ?? null)), elemType: first.elemType }
      } else out = { elemType: first.elemType }
    } else if (op === 'Squeeze') {
      const axes = axesOf(node)
      if (first.dims && axes) {
        const at = new Set(axes.map((a) => normalizeAxis(a, first.dims!.length)))
        out = { dims: first.dims.filter((_, i) => !at.has(i)), elemType: first.elemType }
      } else out = { elemType: first.elemType }
    } else if (op === 'Reshape') {
      const target = valueOf(node.input?.[1])
      const allowZero = intAttr(node, 'allowzero') === 1
      const length = inputs[1]?.dims?.[0]
      // 0 copies the input's dimension (unless allowzero), -1 is whatever is left.
      const dims = target
        ? target.map((v, i) => (v === 0 && !allowZero ? first.dims?.[i] ?? null : v === -1 ? null : v))
        : typeof length === 'number' ? Array.from({ length }, (): Dim => null) : undefined
      out = { dims, elemType: first.elemType }
    } else if (op === 'Flatten') {
      out = { dims: [null, null], elemType: first.elemType }
    } else if (op === 'Transpose') {
      const perm = intsAttr(node, 'perm') ?? first.dims?.map((_, i, all) => all.length - 1 - i)
      out = { dims: first.dims && perm?.map((p) => first.dims![p] ?? null), elemType: first.elemType }
    } else if (op === 'Concat') {
      if (inputs.every((s) => s.dims)) {
        const rank = inputs[0].dims!.length
        const axis = normalizeAxis(intAttr(node, 'axis') ?? 0, rank)
        const sizes = inputs.map((s) => s.dims![axis])
        const total = sizes.every((d): d is number => typeof d === 'number') ? sizes.reduce((a, b) => a + b, 0) : null
        out = { dims: inputs[0].dims!.map((d, i) => (i === axis ? total : broadcast(inputs.map((s) => ({ dims: [s.dims![i]] })))?.[0] ?? d)), elemType: inputs.find((s) => s.elemType)?.elemType }
      } else out = { elemType: inputs.find((s) => s.elemType)?.elemType }
    } else if (REDUCE.has(op)) {
      const axes = axesOf(node)
      const keep = (intAttr(node, 'keepdims') ?? 1) === 1
      if (first.dims) {
        const rank = first.dims.length
        const at = new Set((axes && axes.length ? axes : first.dims.map((_, i) => i)).map((a) => normalizeAxis(a, rank)))
        out = { dims: keep ? first.dims.map((d, i) => (at.has(i) ? 1 : d)) : first.dims.filter((_, i) => !at.has(i)), elemType: first.elemType }
      } else out = { elemType: first.elemType }
    } else if (op === 'Shape') {
      out = { dims: [first.dims ? first.dims.length : null], elemType: T.INT64 }
    } else if (op === 'Expand') {
      const target = inputs[1]?.dims?.[0]
      out = { dims: first.dims && typeof target === 'number' ? Array.from({ length: Math.max(first.dims.length, target) }, () => null) : undefined, elemType: first.elemType }
    } else if (op === 'ConstantOfShape') {
      const length = first.dims?.[0]
      out = { dims: typeof length === 'number' ? Array.from({ length }, () => null) : undefined, elemType: attr(node, 'value')?.t?.dataType ?? T.FLOAT }
    } else if (op === 'Range') {
      out = { dims: [null], elemType: first.elemType }
    }
    const name = node.output?.[0]
    if (!name) continue
    const value = isDefaultDomain(node) ? propagateValue(node, (n) => valueOf(n), (n) => get(n), opset) : undefined
    if (value && value.length <= MAX_TRACKED_VALUES) values.set(name, value)
    // What the exporter declared wins over what we worked out; what we worked out fills its gaps.
    const said = declared.get(name)
    shapes.set(name, said?.dims ? { dims: said.dims, elemType: said.elemType ?? out.elemType } : { dims: out.dims, elemType: said?.elemType ?? out.elemType })
  }

  for (const [name, said] of declared) if (!shapes.has(name)) shapes.set(name, said)
  return {
    get: (tensor) => shapes.get(tensor) ?? {},
    value: (tensor) => valueOf(tensor),
    names: () => [...shapes.keys()],
  }
}

const MAX_TRACKED_VALUES = 16

/**
 * The opset in which an op's `axes` moved from attribute to input: 13 for Unsqueeze, Squeeze and
 * ReduceSum, 18 for the other Reduce ops.
 */
export function axesAsInputSince(op: string): number {
  return op === 'Unsqueeze' || op === 'Squeeze' || op === 'ReduceSum' ? 13 : 18
}

/** The `axes` of an Unsqueeze/Squeeze/Reduce* node, from its attribute or its (constant) input by opset. */
export function nodeAxes(node: NodeProto, opset: number, valueOf: (name: string) => Dim[] | undefined): number[] | undefined {
  if (opset < axesAsInputSince(node.opType ?? '')) return intsAttr(node, 'axes')
  const input = node.input?.[1]
  if (!input) return undefined
  const axes = valueOf(input)
  return axes?.every((a): a is number => typeof a === 'number') ? axes : undefined
}

/** The value of a small integer tensor computed by `node`, element by element, or undefined. */
function propagateValue(node: NodeProto, valueOf: (name: string) => Dim[] | undefined, shapeOf: (name: string) => TensorShape, opset: number): Dim[] | undefined {
  const inputs = node.input ?? []
  const v0 = inputs[0] ? valueOf(inputs[0]) : undefined
  switch (node.opType) {
    case 'Shape': {
      const dims = shapeOf(inputs[0]).dims
      if (!dims) return undefined
      // start/end attributes arrived in opset 15.
      const start = opset >= 15 ? intAttr(node, 'start') ?? 0 : 0
      const end = opset >= 15 ? intAttr(node, 'end') : undefined
      return dims.slice(start, end)
    }
    case 'Identity':
    case 'Cast':
    case 'Unsqueeze':
    case 'Squeeze':
    case 'Reshape':
      // Only the element order matters for a shape vector; these keep it.
      return v0
    case 'Gather': {
      const indices = inputs[1] ? valueOf(inputs[1]) : undefined
      if (!v0 || !indices || (intAttr(node, 'axis') ?? 0) !== 0) return undefined
      return indices.map((i) => (typeof i === 'number' ? v0[i < 0 ? i + v0.length : i] ?? null : null))
    }
    case 'Concat': {
      const parts = inputs.map((i) => valueOf(i))
      return parts.every((p) => p) ? parts.flat() as Dim[] : undefined
    }
    case 'Slice': {
      const starts = inputs[1] ? valueOf(inputs[1]) : undefined
      const ends = inputs[2] ? valueOf(inputs[2]) : undefined
      if (!v0 || starts?.length !== 1 || ends?.length !== 1 || typeof starts[0] !== 'number' || typeof ends[0] !== 'number') return undefined
      if (inputs[4] && valueOf(inputs[4])?.[0] !== 1) return undefined
      return v0.slice(starts[0], ends[0])
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const v1 = inputs[1] ? valueOf(inputs[1]) : undefined
      if (!v0 || !v1) return undefined
      const n = Math.max(v0.length, v1.length)
      if ((v0.length !== n && v0.length !== 1) || (v1.length !== n && v1.length !== 1)) return undefined
      return Array.from({ length: n }, (_, i) => {
        const a = v0[v0.length === 1 ? 0 : i]
        const b = v1[v1.length === 1 ? 0 : i]
        if (typeof a !== 'number' || typeof b !== 'number') return null
        const r = node.opType === 'Add' ? a + b : node.opType === 'Sub' ? a - b : node.opType === 'Mul' ? a * b : b === 0 ? NaN : Math.trunc(a / b)
        return Number.isFinite(r) ? r : null
      })
    }
    default:
      return undefined
  }
}

/** "[batch_size, sequence_length, 32]", "[?, 32]" or "unknown" for messages. */
export function formatShape(shape: TensorShape): string {
  return shape.dims ? `[${shape.dims.map((d) => (d === null ? '?' : d)).join(', ')}]` : 'unknown'
}
