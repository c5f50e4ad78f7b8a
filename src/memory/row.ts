/**
 * One new memory row, encoded exactly as `resmem build` encodes a training example, so a row learned at
 * the edge and the same row in a rebuilt memory.bin are the same bytes (quantize.ts has the scheme):
 *  - key: the L2-normalised embedding, quantized with the memory's OWN global key scale, so its int8 dot
 *    products rank against the built keys exactly; components past +-127 steps are clamped (and counted:
 *    a key outside the range the memory was built on is a sign the model or data moved);
 *  - residual: onehot(y) - softmax(z/T) at the memory's T, int8 with its own per-row scale. A memory label
 *    (class id >= the model's classes, src/memory/labels.ts) has base probability 0: its residual
 *    onehot(y) - [softmax(z/T), 0...] is stored compact, the model's classes then one entry for y itself (1);
 *    the other memory labels' entries are 0 and left out (residualWidth says where the entry goes).
 */
import { residual, softmax } from '../resmem/combine.ts'
import { l2Normalize } from '../resmem/vector.ts'
import { padProbabilities } from './labels.ts'
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
  if (!Number.isInteger(label) || label < 0) throw new RangeError(`label id ${label} is not a class id`)
  const { data: key, clamped } = quantizeWithScale(l2Normalize(Float32Array.from(embedding)), keyScale)
  const classes = logits.length
  const probs = softmax(logits, temperature)
  // A memory label's own entry sits last: onehot 1 minus its padded base probability 0.
  const r = label < classes ? quantizeRows(residual(label, probs), 1, classes) : quantizeRows(residual(classes, padProbabilities(probs, classes + 1)), 1, classes + 1)
  return { label, key, residual: r.data, residualScale: r.scales[0], clamped }
}

/** How many entries a stored residual of class `label` has: the model's classes, one more for a memory label. */
export function residualWidth(label: number, classes: number): number {
  return label < classes ? classes : classes + 1
}

/**
 * A stored (compact) residual at the served width: the model's entries where they are, a memory label's own
 * entry at its class id, zeros for every other memory label.
 */
export function expandResidual(stored: ArrayLike<number>, label: number, classes: number, out: Float32Array, scale = 1): Float32Array {
  for (let c = 0; c < classes; c++) out[c] = stored[c] * scale
  if (label >= classes) out[label] = stored[classes] * scale
  return out
}
