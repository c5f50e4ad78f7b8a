/**
 * int8 base model: the weights of MatMul/Gemm and the word-embedding table as int8, on onnxruntime's
 * integer kernels (MatMulInteger, DequantizeLinear), as its dynamic quantization (`quantize_dynamic`) does,
 * with one change: activations are quantized per row (per token) instead of per tensor.
 *
 *   X [.., K] (one scale per row, shared by every MatMul reading X):
 *     s = max(max|x|, 1e-30) / 127 per row;  Xq = Cast<uint8>(Round(X / s) + 128)
 *   MatMul(X, W)  /  Gemm(X, W, C) transB=1:
 *     MatMulInteger(Xq, Wq, 128) -> int32;  Cast float;  * (max|x| / (127 / Ws))  [+ C]
 *   Gather(E, input_ids):
 *     DequantizeLinear(Gather(Eq, input_ids), Es, 0)
 *
 * Weights: Wq = round(W / Ws), symmetric, per tensor: MatMul/Gemm weights in [-63, 63] (Ws = max|W| / 63),
 * the embedding table in [-127, 127] (Ws = max|W| / 127).
 * Why 7-bit MatMul weights (onnxruntime's `reduce_range`): on x86 CPUs without VNNI, onnxruntime's u8 x s8
 * kernel (AVX2 vpmaddubsw) adds two products in a saturating int16; 255 * 127 * 2 = 64,770 does not fit and
 * the sum clips, so the same model answered differently in onnxruntime-node there (scores off by up to 2.5e-2)
 * than in the wasm build or on a VNNI CPU. 255 * 63 * 2 = 32,130 fits: every runtime computes the exact product.
 * Why per row: DynamicQuantizeLinear takes one scale over the whole [batch, tokens, K] tensor, so a text's
 * logits would depend on the other texts of its batch (and on padding). Per row, each token's integer
 * product is exact and its scale its own: a text gets the same answer alone or micro-batched.
 * Why uint8 with zero point 128 rather than int8: onnxruntime's wasm build has a SIMD kernel for uint8 x int8
 * only; int8 x int8 ran 3x slower than float32 there (same products: Xq - 128 is the int8 value).
 * Every quantized op's output keeps its original tensor name, so the `embedding` output and any key nodes
 * read on unchanged. Other ops (attention's activation x activation MatMuls, LayerNorm, ...) stay float32.
 *
 * The graph is decoded, edited and spliced back into the ModelProto bytes (wire.ts): model-level fields
 * keep their bytes; node fields newer than onnx-proto's schema (metadata_props) are dropped, which ORT
 * never reads.
 */
import { InvalidModelError } from './errors.ts'
import { assertNoExternalData } from './external-data.ts'
import { collectNames, uniqueName } from './names.ts'
import { decodeModel, onnx, toNumber, type AttributeProto, type GraphProto, type NodeProto, type TensorProto } from './proto.ts'
import { defaultOpset } from './shapes.ts'
import { replaceGraph } from './wire.ts'

export interface QuantizeOptions {
  /** Graph input with the token ids (its Gather lookups are the word embeddings). Default 'input_ids'. */
  inputIds?: string
}

export interface QuantizeResult {
  bytes: Uint8Array
  /** Original node names of the MatMul/Gemm ops now run as MatMulInteger. */
  matmuls: string[]
  /** Initializers of the embedding tables now stored as int8. */
  embeddings: string[]
  /** Bytes of weights before (float32) and after (int8) for what was quantized. */
  weightBytes: { float32: number; int8: number }
}

const { FLOAT, INT8, UINT8 } = onnx.TensorProto.DataType
const { INT, INTS } = onnx.AttributeProto.AttributeType

/** A float32 initializer's values (raw_data little-endian, or float_data). */
function floats(t: TensorProto): Float32Array {
  const raw = t.rawData
  if (raw && raw.length) {
    const out = new Float32Array(raw.length / 4)
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true)
    return out
  }
  return Float32Array.from(t.floatData ?? [])
}

/** The largest |q| of a MatMul/Gemm weight: 7 bits, so no u8 x s8 pair sum saturates int16 (see the top). */
export const MATMUL_WEIGHT_LEVELS = 63

/** Symmetric per-tensor int8: scale = max|w| / levels, q = round(w / scale) in [-levels, levels]. */
export function quantizeSymmetric(values: Float32Array, levels = 127): { q: Int8Array; scale: number } {
  let max = 0
  for (const v of values) max = Math.max(max, Math.abs(v))
  const scale = max > 0 ? max / levels : 1
  const q = new Int8Array(values.length)
  for (let i = 0; i < values.length; i++) q[i] = Math.max(-levels, Math.min(levels, Math.round(values[i] / scale)))
  return { q, scale }
}

const int8Tensor = (name: string, dims: number[], q: Int8Array): TensorProto => ({ name, dims, dataType: INT8, rawData: new Uint8Array(q.buffer, q.byteOffset, q.byteLength) })
const scalar = (name: string, dataType: number, value: number): TensorProto =>
  dataType === FLOAT ? { name, dims: [], dataType, floatData: [value] } : { name, dims: [], dataType, int32Data: [value] }

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name)
}
const intAttr = (node: NodeProto, name: string, fallback: number) => {
  const a = attr(node, name)
  return a ? toNumber(a.i) : fallback
}
const floatAttr = (node: NodeProto, name: string, fallback: number) => attr(node, name)?.f ?? fallback

/** W [N, K] -> W^T [K, N] (Gemm with transB=1 stores the weight transposed). */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]
  return out
}

/**
 * Quantizes a float32 ONNX model's MatMul/Gemm weights and word-embedding table to int8 (see the top of
 * this file). Throws InvalidModelError when there is nothing to quantize.
 *
 * @example
 * const { bytes } = quantizeModel(readFileSync('onnx/model.onnx'))
 * writeFileSync('onnx/model_quantized.onnx', bytes)
 */
export function quantizeModel(model: Uint8Array, options: QuantizeOptions = {}): QuantizeResult {
  const inputIds = options.inputIds ?? 'input_ids'
  const decoded = decodeModel(model)
  const { graph } = decoded
  assertNoExternalData(graph)
  // ReduceMax takes its axes as an attribute up to opset 17, as an input from 18.
  const axesAsInput = (defaultOpset(decoded.opsetImport) ?? 14) >= 18
  const names = collectNames(graph)
  const tensor = (base: string) => {
    const name = uniqueName(base, names.tensors)
    names.tensors.set(name, 'quantize')
    return name
  }
  const nodeName = (base: string) => {
    const name = uniqueName(base, names.nodes)
    names.nodes.add(name)
    return name
  }
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]))
  const floatMatrix = (name: string | undefined) => {
    const t = name ? initializers.get(name) : undefined
    return t && t.dataType === FLOAT && t.dims?.length === 2 ? t : undefined
  }

  // input_ids and what merely relabels it (int32 exports cast the ids first).
  const ids = new Set([inputIds])
  for (const node of graph.node ?? []) {
    if ((node.opType === 'Cast' || node.opType === 'Identity') && ids.has(node.input?.[0] ?? '')) for (const o of node.output ?? []) ids.add(o)
  }

  const added: TensorProto[] = []
  const replaced = new Set<string>()
  const quantizedWeights = new Map<string, { q: string; scale: string }>()
  const dynamic = new Map<string, { q: string; scale: string; floor: string }>()
  const result: QuantizeResult = { bytes: model, matmuls: [], embeddings: [], weightBytes: { float32: 0, int8: 0 } }
  const zeroInt8 = tensor('quantize/zero_int8')
  const tiny = tensor('quantize/tiny')
  const q127 = tensor('quantize/127')
  const shift = tensor('quantize/128')
  const lastAxis = tensor('quantize/last_axis')
  const zero128 = tensor('quantize/zero_point_128')
  added.push(scalar(zeroInt8, INT8, 0), scalar(tiny, FLOAT, 1e-30), scalar(q127, FLOAT, 127), scalar(shift, FLOAT, 128), scalar(zero128, UINT8, 128))
  if (axesAsInput) added.push({ name: lastAxis, dims: [1], dataType: onnx.TensorProto.DataType.INT64, int64Data: [-1] })

  /** `scale` names Ws for an embedding table, 127 / Ws for a MatMul weight. */
  const weight = (t: TensorProto, transposed: boolean, embedding: boolean): { q: string; scale: string; dims: number[] } => {
    const [rows, cols] = (t.dims ?? []).map(toNumber)
    const key = `${t.name}${transposed ? '/T' : ''}${embedding ? '/table' : ''}`
    const dims = transposed ? [cols, rows] : [rows, cols]
    const cached = quantizedWeights.get(key)
    if (cached) return { ...cached, dims }
    const values = transposed ? transpose(floats(t), rows, cols) : floats(t)
    const { q, scale } = quantizeSymmetric(values, embedding ? 127 : MATMUL_WEIGHT_LEVELS)
    const qName = tensor(`${t.name}_quantized`)
    // A MatMul weight needs 127 / Ws (127: the activations' levels; see the scale Div below), a table Ws.
    const sName = tensor(!embedding ? `${t.name}_127_over_scale` : `${t.name}_scale`)
    added.push(int8Tensor(qName, dims, q), scalar(sName, FLOAT, embedding ? scale : 127 / scale))
    result.weightBytes.float32 += values.length * 4
    result.weightBytes.int8 += values.length
    replaced.add(t.name ?? '')
    const entry = { q: qName, scale: sName }
    quantizedWeights.set(key, entry)
    return { ...entry, dims }
  }

  const nodes: NodeProto[] = []
  for (const node of graph.node ?? []) {
    const isDefault = !node.domain || node.domain === 'ai.onnx'
    const [a, b, c] = node.input ?? []
    const out = node.output?.[0]
    const base = node.name || out || 'node'
    const gemmOk =
      node.opType === 'Gemm' && intAttr(node, 'transA', 0) === 0 && floatAttr(node, 'alpha', 1) === 1 && (c === undefined || c === '' || floatAttr(node, 'beta', 1) === 1)
    if (isDefault && out && (node.opType === 'MatMul' || gemmOk) && floatMatrix(b)) {
      const w = weight(floatMatrix(b)!, node.opType === 'Gemm' && intAttr(node, 'transB', 0) === 1, false)
      let x = dynamic.get(a!)
      if (!x) {
        // Per row of X (one token), symmetric: s = max|x| / 127, q = round(x / s). See the top of the file.
        const abs = tensor(`${a}_abs`)
        const max = tensor(`${a}_absmax`)
        const floor = tensor(`${a}_absmax_floor`)
        const scale = tensor(`${a}_scale`)
        const ratio = tensor(`${a}_ratio`)
        const rounded = tensor(`${a}_rounded`)
        const shifted = tensor(`${a}_shifted`)
        const q = tensor(`${a}_quantized`)
        nodes.push(
          { opType: 'Abs', name: nodeName(`${a}_Abs`), input: [a!], output: [abs] },
          axesAsInput
            ? { opType: 'ReduceMax', name: nodeName(`${a}_ReduceMax`), input: [abs, lastAxis], output: [max], attribute: [{ name: 'keepdims', type: INT, i: 1 }] }
            : { opType: 'ReduceMax', name: nodeName(`${a}_ReduceMax`), input: [abs], output: [max], attribute: [{ name: 'axes', type: INTS, ints: [-1] }, { name: 'keepdims', type: INT, i: 1 }] },
          { opType: 'Max', name: nodeName(`${a}_Max`), input: [max, tiny], output: [floor] },
          { opType: 'Div', name: nodeName(`${a}_scale_Div`), input: [floor, q127], output: [scale] },
          { opType: 'Div', name: nodeName(`${a}_Div`), input: [a!, scale], output: [ratio] },
          { opType: 'Round', name: nodeName(`${a}_Round`), input: [ratio], output: [rounded] },
          { opType: 'Add', name: nodeName(`${a}_shift_Add`), input: [rounded, shift], output: [shifted] },
          { opType: 'Cast', name: nodeName(`${a}_Cast`), input: [shifted], output: [q], attribute: [{ name: 'to', type: INT, i: UINT8 }] },
        )
        x = { q, scale, floor }
        dynamic.set(a!, x)
      }
      const int32 = tensor(`${out}_int32`)
      const asFloat = tensor(`${out}_float`)
      const scale = tensor(`${out}_scale`)
      const scaled = c ? tensor(`${out}_scaled`) : out
      nodes.push(
        { opType: 'MatMulInteger', name: nodeName(`${base}_quant`), input: [x.q, w.q, zero128], output: [int32] },
        { opType: 'Cast', name: nodeName(`${base}_cast`), input: [int32], output: [asFloat], attribute: [{ name: 'to', type: INT, i: FLOAT }] },
        // x's row scale times W's scale, as floor(max|x|) / (127 / Ws): a Div, because ORT fuses
        // MatMulInteger -> Cast -> Mul(Mul(a_scale, b_scale)) into MatMulIntegerToFloat, which reads a_scale
        // as one number and gave wrong logits (off by up to 0.9) with these per-row scales.
        { opType: 'Div', name: nodeName(`${base}_scale_div`), input: [x.floor, w.scale], output: [scale] },
        { opType: 'Mul', name: nodeName(`${base}_output_mul`), input: [asFloat, scale], output: [scaled] },
      )
      if (c) nodes.push({ opType: 'Add', name: nodeName(`${base}_bias_add`), input: [scaled, c], output: [out] })
      result.matmuls.push(node.name ?? out)
      continue
    }
    if (isDefault && out && node.opType === 'Gather' && intAttr(node, 'axis', 0) === 0 && ids.has(b ?? '') && floatMatrix(a)) {
      const table = floatMatrix(a)!
      const w = weight(table, false, true)
      const gathered = tensor(`${out}_quantized`)
      nodes.push(
        { ...node, input: [w.q, b!], output: [gathered] },
        { opType: 'DequantizeLinear', name: nodeName(`${base}_dequantize`), input: [gathered, w.scale, zeroInt8], output: [out] },
      )
      result.embeddings.push(table.name ?? '')
      continue
    }
    nodes.push(node)
  }
  if (result.matmuls.length === 0 && result.embeddings.length === 0) {
    throw new InvalidModelError('nothing to quantize: no MatMul/Gemm with a float32 [K, N] initializer weight and no float32 embedding table looked up by input_ids')
  }
  // A float weight still read elsewhere (a tied table, an unquantized op) stays; the rest are dropped.
  const stillRead = new Set(nodes.flatMap((n) => n.input ?? []))
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '') || stillRead.has(t.name ?? '')), ...added]
  graph.node = nodes
  result.bytes = replaceGraph(model, onnx.GraphProto.encode(graph).finish())
  return result
}
