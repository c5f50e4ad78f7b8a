/**
 * One new memory row, encoded exactly as `resmem build` encodes a training example, so a row learned at
 * the edge and the same row in a rebuilt memory.bin are the same bytes (quantize.ts has the scheme):
 *  - key: the L2-normalised embedding, quantized with the memory's OWN global key scale, so its int8 dot
 *    products rank against the built keys exactly; components past +-127 steps are clamped (and counted:
 *    a key outside the range the memory was built on is a sign the model or data moved);
 *  - residual: onehot(y) - softmax(z/T) at the memory's T, int8 with its own per-row scale.
 */
import { residual, softmax } from '../resmem/combine.ts'
import { l2Normalize } from '../resmem/vector.ts'
import { quantizeRows, quantizeWithScale } from './quantize.ts'

export interface EncodedRow {
  /** Class id. */
  label: number
  key: Int8Array
  residual: Int8Array
  residualScale: number
  /** Key components that fell outside [-127, 127] steps of the memory's key scale and were clamped. */
  clamped: number
}

export function encodeRow(embedding: Float32Array, logits: Float32Array, label: number, temperature: number, keyScale: number): EncodedRow {
  if (!Number.isInteger(label) || label < 0 || label >= logits.length) throw new RangeError(`label id ${label} is not one of the model's ${logits.length} classes`)
  const { data: key, clamped } = quantizeWithScale(l2Normalize(Float32Array.from(embedding)), keyScale)
  const r = quantizeRows(residual(label, softmax(logits, temperature)), 1, logits.length)
  return { label, key, residual: r.data, residualScale: r.scales[0], clamped }
}
