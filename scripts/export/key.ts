/**
 * Adds ResMem's key as the `embedding` graph output, computed inside the graph so that every runtime
 * just reads `embedding` [batch, dim] and L2-normalises it (see key-spec.ts for the forms of a key).
 *
 * Pooling, per part (B = batch, S = sequence, H = width; ops in the model's own opset):
 *   none   X [B, H] as is
 *   cls    Gather(X, 0, axis=1)
 *   mean   m = Unsqueeze(Cast(attention_mask), [2]);  ReduceSum(X * m, [1]) / Max(ReduceSum(m, [1]), 1)
 *          (the clamp at 1 leaves a row with no attended token at 0, and is exact in float16 too)
 * Several parts: each part p becomes p / Max(Sqrt(ReduceSum(p * p, [1])), eps), then Concat on axis 1.
 *
 * The added output carries the key's description in its doc_string, so that a second call can tell
 * whether the model already outputs the key it is asked for. 'penultimate' alone is exactly
 * addEmbeddingOutput (same bytes as before keys existed).
 */
import { findClassifier, indexGraph, type ClassifierLayer } from './classifier.ts'
import { EmbeddingExistsError, EmbeddingNameClashError, InvalidModelError, KeyShapeError, KeyTensorNotFoundError, MissingInputError, MissingLogitsError } from './errors.ts'
import { assertNoExternalData } from './external-data.ts'
import { addEmbeddingOutput, batchDim, lastDim, type EmbeddingInfo, type EmbeddingOutputOptions } from './graph.ts'
import { keyParts, type KeyPart, type KeySpec, type Pooling } from './key-spec.ts'
import { collectNames, uniqueName, type GraphNames } from './names.ts'
import { feedInputs, findLastHidden, findWordEmbeddings, type PresetContext } from './presets.ts'
import { decodeModel, onnx, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts'
import { defaultOpset, formatShape, inferShapes } from './shapes.ts'
import { appendToGraph } from './wire.ts'

export interface KeyOutputOptions extends EmbeddingOutputOptions {
  /** Graph input with the attention mask, for 'mean' pooling. Default 'attention_mask'. */
  attentionMask?: string
  /** Graph input with the token ids, for 'mean-word-embeddings'. Default 'input_ids'. */
  inputIds?: string
}

export interface KeyOutputResult {
  bytes: Uint8Array
  /** `source` describes the key: the tensor for 'penultimate' (as addEmbeddingOutput), else e.g. 'mean(<tensor>)'. */
  embedding: EmbeddingInfo
  /**
   * The key as the manifest records it: 'penultimate:<tensor>', 'mean(<tensor>)', 'concat(l2(..), l2(..))'.
   * parseKeySpec reads it back into a spec that makes the same key.
   */
  key: string
  /** False when the model already output this key; `bytes` is then the input, unchanged. */
  added: boolean
}

/** One part of a key, matched to a tensor of the graph. */
interface ResolvedPart {
  tensor: string
  pooling: Pooling
  dim: number
  elemType: number
  description: string
  /** The penultimate part: its source may be [B, 1, H] under a classifier whose logits are reshaped. */
  penultimate?: ClassifierLayer
}

const DOC_PREFIX = 'ResMem key: '
const FLOAT_TYPES = new Set<number>([onnx.TensorProto.DataType.FLOAT, onnx.TensorProto.DataType.FLOAT16, onnx.TensorProto.DataType.DOUBLE, onnx.TensorProto.DataType.BFLOAT16])
// torch.nn.functional.normalize's eps; float16 has no normal number below 6.1e-5, so it gets a larger one.
const L2_EPS = 1e-12
const L2_EPS_HALF = 1e-4

const RANK_FOR: Record<Pooling, number> = { none: 2, mean: 3, cls: 3 }
const SHAPE_FOR: Record<Pooling, string> = { none: '[batch, H]', mean: '[batch, sequence, H]', cls: '[batch, sequence, H]' }

function describePart(pooling: Pooling, tensor: string): string {
  return `${pooling}(${tensor})`
}

function describeKey(parts: ResolvedPart[]): string {
  return parts.length === 1 ? parts[0].description : `concat(${parts.map((p) => `l2(${p.description})`).join(', ')})`
}

function resolvePart(part: KeyPart, ctx: PresetContext): ResolvedPart {
  if (part === 'penultimate') {
    const layer = ctx.classifier()
    return { tensor: layer.source, pooling: 'none', dim: layer.hidden, elemType: layer.elemType, description: `penultimate:${layer.source}`, penultimate: layer }
  }
  const { tensor, pooling } =
    part === 'mean-last-hidden' ? { tensor: findLastHidden(ctx), pooling: 'mean' as const } : part === 'mean-word-embeddings' ? { tensor: findWordEmbeddings(ctx), pooling: 'mean' as const } : part
  const known = ctx.index.producers.has(tensor) || ctx.index.initializers.has(tensor) || (ctx.graph.input ?? []).some((i) => i.name === tensor)
  if (!known) throw new KeyTensorNotFoundError(tensor)
  const shape = ctx.shapes.get(tensor)
  const what = `"${tensor}" (shape ${formatShape(shape)})`
  if (!shape.dims) throw new KeyShapeError(tensor, `cannot determine the rank of ${what} statically; ${pooling} pooling needs ${SHAPE_FOR[pooling]}`)
  if (shape.dims.length !== RANK_FOR[pooling]) {
    throw new KeyShapeError(tensor, `${pooling} pooling needs a rank-${RANK_FOR[pooling]} tensor ${SHAPE_FOR[pooling]}; ${what} has rank ${shape.dims.length}`)
  }
  const width = shape.dims[shape.dims.length - 1]
  if (typeof width !== 'number' || width <= 0) throw new KeyShapeError(tensor, `cannot determine the width (last dimension) of ${what} statically; the key's dimension must be known when the model is built`)
  const elemType = shape.elemType ?? ctx.classifier().elemType
  if (!FLOAT_TYPES.has(elemType)) throw new KeyShapeError(tensor, `${what} holds ${onnx.TensorProto.DataType[elemType] ?? elemType}, not floating-point numbers`)
  if (pooling === 'mean' && !feedInputs(ctx).includes(ctx.attentionMask)) {
    throw new MissingInputError(ctx.attentionMask, `mean pooling of "${tensor}"`, feedInputs(ctx))
  }
  return { tensor, pooling, dim: width, elemType, description: describePart(pooling, tensor) }
}

/** Appends nodes under fresh names `<output>/...`, in the model's opset. */
class Fragment {
  readonly nodes: NodeProto[] = []
  private maskCache = new Map<number, { mask: string; count: string }>()

  constructor(
    private names: GraphNames,
    private prefix: string,
    private opset: number,
    private attentionMask: string,
  ) {}

  private tensorName(label: string): string {
    const name = uniqueName(`${this.prefix}/${label}`, this.names.tensors)
    this.names.tensors.set(name, 'added')
    return name
  }

  /** Adds `op` and returns its output: `output` when given (the graph output), else a fresh name. */
  op(opType: string, inputs: string[], label: string, attribute: AttributeProto[] = [], output?: string): string {
    const out = output ?? this.tensorName(`${label}_output`)
    const name = uniqueName(`/${this.prefix}/${label}`, this.names.nodes)
    this.names.nodes.add(name)
    this.nodes.push({ opType, name, input: inputs, output: [out], attribute })
    return out
  }

  private constant(label: string, t: TensorProto): string {
    return this.op('Constant', [], label, [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t }])
  }

  ints(label: string, values: number[], scalar = false): string {
    return this.constant(label, { dims: scalar ? [] : [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values })
  }

  /** A scalar of `elemType`: written as float32 and cast, so that any float type works. */
  scalar(label: string, value: number, elemType: number): string {
    const float = this.constant(label, { dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [value] })
    return elemType === onnx.TensorProto.DataType.FLOAT ? float : this.op('Cast', [float], `${label}/Cast`, [intAttr('to', elemType)])
  }

  unsqueeze(x: string, axes: number[], label: string): string {
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.ints(`${label}/axes`, axes)], label) : this.op('Unsqueeze', [x], label, [intsAttr('axes', axes)])
  }

  reduceSum(x: string, axes: number[], keepdims: boolean, label: string, output?: string): string {
    const keep = intAttr('keepdims', keepdims ? 1 : 0)
    // ReduceSum took its axes as an attribute until opset 13.
    return this.opset >= 13
      ? this.op('ReduceSum', [x, this.ints(`${label}/axes`, axes)], label, [keep], output)
      : this.op('ReduceSum', [x], label, [keep, intsAttr('axes', axes)], output)
  }

  /** The mask as [B, S, 1] of `elemType` and its row sums clamped at 1, shared by every mean part. */
  private mask(elemType: number): { mask: string; count: string } {
    let cached = this.maskCache.get(elemType)
    if (!cached) {
      const label = this.maskCache.size === 0 ? 'mask' : `mask_${this.maskCache.size}`
      const cast = this.op('Cast', [this.attentionMask], `${label}/Cast`, [intAttr('to', elemType)])
      const mask = this.unsqueeze(cast, [2], `${label}/Unsqueeze`)
      const sum = this.reduceSum(mask, [1], false, `${label}/ReduceSum`)
      const count = this.op('Max', [sum, this.scalar(`${label}/one`, 1, elemType)], `${label}/Max`)
      cached = { mask, count }
      this.maskCache.set(elemType, cached)
    }
    return cached
  }

  /** One part as [B, dim]. */
  pool(part: ResolvedPart, label: string, output?: string): string {
    const layer = part.penultimate
    if (layer) {
      if (!layer.reshaped) return output ? this.op('Identity', [part.tensor], `${label}/Identity`, [], output) : part.tensor
      return this.op('Reshape', [part.tensor, this.ints(`${label}/shape`, [-1, part.dim])], `${label}/Reshape`, [], output)
    }
    if (part.pooling === 'none') return output ? this.op('Identity', [part.tensor], `${label}/Identity`, [], output) : part.tensor
    if (part.pooling === 'cls') return this.op('Gather', [part.tensor, this.ints(`${label}/index`, [0], true)], `${label}/Gather`, [intAttr('axis', 1)], output)
    const { mask, count } = this.mask(part.elemType)
    const masked = this.op('Mul', [part.tensor, mask], `${label}/Mul`)
    const sum = this.reduceSum(masked, [1], false, `${label}/ReduceSum`)
    return this.op('Div', [sum, count], `${label}/Div`, [], output)
  }

  /** x / max(||x||, eps) row by row. */
  l2(x: string, elemType: number, label: string): string {
    const squares = this.op('Mul', [x, x], `${label}/Mul`)
    const norm = this.op('Sqrt', [this.reduceSum(squares, [1], true, `${label}/ReduceSum`)], `${label}/Sqrt`)
    const eps = this.scalar(`${label}/eps`, elemType === onnx.TensorProto.DataType.FLOAT16 ? L2_EPS_HALF : L2_EPS, elemType)
    return this.op('Div', [x, this.op('Max', [norm, eps], `${label}/Max`)], `${label}/Div`)
  }
}

function intAttr(name: string, i: number): AttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i }
}
function intsAttr(name: string, ints: number[]): AttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints }
}

function isPenultimateOnly(parts: KeyPart[]): boolean {
  return parts.length === 1 && parts[0] === 'penultimate'
}

/**
 * Adds a graph output with ResMem's key: 'penultimate' (the classifier layer's input, the default), a
 * preset, a pooled tensor, or several of those side by side.
 *
 * @example
 * const { bytes, embedding, key } = addKeyOutput(readFileSync('onnx/model.onnx'), ['penultimate', 'mean-last-hidden'])
 * writeFileSync('onnx/model.resmem.onnx', bytes) // outputs: logits, embedding [batch_size, embedding.dim]
 * manifest.resmem.key = key // 'concat(l2(penultimate:/bert/pooler/...), l2(mean(/bert/encoder/...)))'
 */
export function addKeyOutput(model: Uint8Array, key: KeySpec = 'penultimate', options: KeyOutputOptions = {}): KeyOutputResult {
  const parts = keyParts(key)
  const logitsName = options.logits ?? 'logits'
  const outputName = options.output ?? 'embedding'
  const decoded = decodeModel(model)
  const { graph } = decoded
  assertNoExternalData(graph)

  const outputs = graph.output ?? []
  const existing = outputs.find((o) => o.name === outputName)
  const existingKey = existing?.docString?.startsWith(DOC_PREFIX) ? existing.docString.slice(DOC_PREFIX.length) : undefined
  if (isPenultimateOnly(parts) && existingKey === undefined) {
    const result = addEmbeddingOutput(model, options)
    return { ...result, key: `penultimate:${result.embedding.source}` }
  }

  const logits = outputs.find((o) => o.name === logitsName)
  if (!logits) throw new MissingLogitsError(logitsName, outputs.map((o) => o.name ?? ''))
  const opset = defaultOpset(decoded.opsetImport)
  if (opset === undefined) throw new InvalidModelError('the model imports no default-domain (ai.onnx) opset')
  const ctx = presetContext(graph, opset, logitsName, options)
  const resolved = parts.map((p) => resolvePart(p, ctx))
  const description = describeKey(resolved)
  const dim = resolved.reduce((sum, p) => sum + p.dim, 0)
  const source = isPenultimateOnly(parts) ? resolved[0].tensor : description

  if (existing) {
    if (existingKey !== description) {
      const what = existingKey === undefined ? 'not made by addKeyOutput; its key is unknown' : `key ${existingKey}`
      throw new EmbeddingExistsError(outputName, what, description)
    }
    return { bytes: model, embedding: { name: outputName, source, dim: lastDim(existing) ?? dim }, key: description, added: false }
  }

  const names = collectNames(graph)
  const clash = names.tensors.get(outputName)
  if (clash) throw new EmbeddingNameClashError(outputName, clash)
  const elemTypes = new Set(resolved.map((p) => p.elemType))
  if (elemTypes.size > 1) {
    throw new KeyShapeError(resolved[0].tensor, `the key's parts hold different element types (${resolved.map((p) => `${p.description}: ${onnx.TensorProto.DataType[p.elemType]}`).join(', ')}); concatenate parts of one type`)
  }

  const fragment = new Fragment(names, outputName, opset, ctx.attentionMask)
  if (resolved.length === 1) {
    fragment.pool(resolved[0], 'key', outputName)
  } else {
    const normalised = resolved.map((p, i) => fragment.l2(fragment.pool(p, `key_${i}`), p.elemType, `key_${i}/l2`))
    fragment.op('Concat', normalised, 'Concat', [intAttr('axis', 1)], outputName)
  }
  const output: ValueInfoProto = {
    name: outputName,
    docString: `${DOC_PREFIX}${description}`,
    type: { tensorType: { elemType: resolved[0].elemType, shape: { dim: [batchDim(logits), { dimValue: dim }] } } },
  }
  const bytes = appendToGraph(model, onnx.GraphProto.encode({ node: fragment.nodes, output: [output] }).finish())
  return { bytes, embedding: { name: outputName, source, dim }, key: description, added: true }
}

function presetContext(graph: GraphProto, opset: number, logits: string, options: KeyOutputOptions): PresetContext {
  // Only the parts that need the classifier look for it: a word-embedding key works without one.
  let layer: ClassifierLayer | undefined
  return {
    graph,
    index: indexGraph(graph),
    shapes: inferShapes(graph, opset),
    opset,
    inputIds: options.inputIds ?? 'input_ids',
    attentionMask: options.attentionMask ?? 'attention_mask',
    classifier: () => (layer ??= findClassifier(graph, logits)),
  }
}
