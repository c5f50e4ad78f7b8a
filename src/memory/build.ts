import type { Dtype, ResidualMemory } from './format.ts'
import { quantizeGlobal, quantizeRows } from './quantize.ts'
import { residual, softmax } from '../resmem/combine.ts'
import { l2Normalize } from '../resmem/vector.ts'

/** What the model said about each memorized example. */
export interface MemoryExamples {
  rows: number
  /** rows x dim penultimate embeddings (normalised here). */
  embeddings: Float32Array
  dim: number
  /** rows x classes logits. */
  logits: Float32Array
  /** Class id of each example. */
  labels: Uint32Array
}

export interface BuildMemoryOptions {
  labels: string[]
  temperature: number
  modelFingerprint: string
  dtype: Dtype
}

/** Residuals r_i = onehot(y_i) - softmax(z_i / T), rows x classes. */
export function residuals(examples: MemoryExamples, classes: number, temperature: number): Float32Array {
  const out = new Float32Array(examples.rows * classes)
  const p = new Float32Array(classes)
  for (let i = 0; i < examples.rows; i++) {
    softmax(examples.logits.subarray(i * classes, (i + 1) * classes), temperature, p)
    residual(examples.labels[i], p, out.subarray(i * classes, (i + 1) * classes))
  }
  return out
}

/** L2-normalised copy of the embeddings: the memory's keys. */
export function normalizedKeys(examples: MemoryExamples): Float32Array {
  const keys = Float32Array.from(examples.embeddings)
  for (let i = 0; i < examples.rows; i++) l2Normalize(keys.subarray(i * examples.dim, (i + 1) * examples.dim))
  return keys
}

/** Builds the residual memory of a set of examples, int8 (what ships) or float32 (the reference). */
export function buildMemory(examples: MemoryExamples, options: BuildMemoryOptions): ResidualMemory {
  const classes = options.labels.length
  for (let i = 0; i < examples.rows; i++) {
    if (examples.labels[i] >= classes) throw new RangeError(`example ${i} has class id ${examples.labels[i]}, only ${classes} labels`)
  }
  const keys = normalizedKeys(examples)
  const res = residuals(examples, classes, options.temperature)
  const base = { rows: examples.rows, dim: examples.dim, labels: options.labels, rowLabels: Uint32Array.from(examples.labels), modelFingerprint: options.modelFingerprint }
  if (options.dtype === 'float32') return { ...base, keys: { dtype: 'float32', data: keys }, residuals: { dtype: 'float32', data: res } }
  const qk = quantizeGlobal(keys)
  const qr = quantizeRows(res, examples.rows, classes)
  return { ...base, keys: { dtype: 'int8', data: qk.data, scale: qk.scale }, residuals: { dtype: 'int8', data: qr.data, scales: qr.scales } }
}
