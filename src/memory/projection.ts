/**
 * Smaller keys: a linear projection of the (L2-normalised) embedding to fewer dimensions before it becomes a
 * memory key, fitted as PCA on the training keys by `resmem build --key-dim N` and applied by the library to
 * every query and learned row. This module fits, applies, writes and reads it.
 *
 * key-projection.bin (little-endian float32, listed in manifest.json `memory.projection` with its SHA-256):
 *   from        values: the mean of the normalised training embeddings, subtracted first
 *   to * from   values: the projection, row-major (row j is the j-th principal axis)
 */
import { l2Normalize } from '../resmem/vector.ts'

/** Its file in a bundle, beside manifest.json. */
export const PROJECTION_FILE = 'key-projection.bin'

export interface KeyProjection {
  /** The model's embedding dimension. */
  from: number
  /** The memory's key dimension. */
  to: number
  mean: Float32Array
  matrix: Float32Array
}

/** The key of an embedding: normalised, centred, projected (normalised again where it is quantized). */
export function projectKey(p: KeyProjection, embedding: Float32Array): Float32Array {
  if (embedding.length !== p.from) throw new RangeError(`embedding has ${embedding.length} dimensions, the key projection takes ${p.from}`)
  const unit = l2Normalize(Float32Array.from(embedding))
  for (let i = 0; i < p.from; i++) unit[i] -= p.mean[i]
  const out = new Float32Array(p.to)
  for (let j = 0, base = 0; j < p.to; j++, base += p.from) {
    let s = 0
    for (let i = 0; i < p.from; i++) s += p.matrix[base + i] * unit[i]
    out[j] = s
  }
  return out
}

/** Projects `rows` embeddings of `from` values each. */
export function projectAll(p: KeyProjection, embeddings: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(rows * p.to)
  for (let r = 0; r < rows; r++) out.set(projectKey(p, embeddings.subarray(r * p.from, (r + 1) * p.from)), r * p.to)
  return out
}

export function writeProjection(p: KeyProjection): Uint8Array {
  const values = new Float32Array(p.from + p.to * p.from)
  values.set(p.mean, 0)
  values.set(p.matrix, p.from)
  return new Uint8Array(values.buffer)
}

export function readProjection(bytes: Uint8Array, from: number, to: number): KeyProjection {
  if (bytes.length !== 4 * (from + to * from)) throw new RangeError(`${bytes.length} bytes, a ${from} -> ${to} projection has ${4 * (from + to * from)}`)
  const values = new Float32Array(Uint8Array.prototype.slice.call(bytes).buffer)
  if (!values.every(Number.isFinite)) throw new RangeError('non-finite values')
  return { from, to, mean: values.slice(0, from), matrix: values.slice(from) }
}

/**
 * PCA of the normalised embeddings: the `to` leading eigenvectors of their covariance (cyclic Jacobi, exact and
 * deterministic), each signed so its largest component is positive.
 */
export function fitPca(embeddings: Float32Array, rows: number, from: number, to: number): KeyProjection {
  if (!(Number.isInteger(to) && to >= 1 && to <= from)) throw new RangeError(`key dimension must be an integer in 1..${from}, got ${to}`)
  if (rows < 2) throw new RangeError('PCA needs at least two rows')
  const units = new Float64Array(rows * from)
  const mean = new Float64Array(from)
  for (let r = 0; r < rows; r++) {
    const u = l2Normalize(Float32Array.from(embeddings.subarray(r * from, (r + 1) * from)))
    for (let i = 0; i < from; i++) {
      units[r * from + i] = u[i]
      mean[i] += u[i] / rows
    }
  }
  const cov = new Float64Array(from * from)
  const centred = new Float64Array(from)
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < from; i++) centred[i] = units[r * from + i] - mean[i]
    for (let i = 0; i < from; i++) {
      const ci = centred[i]
      if (ci === 0) continue
      for (let j = i; j < from; j++) cov[i * from + j] += ci * centred[j]
    }
  }
  for (let i = 0; i < from; i++) for (let j = i; j < from; j++) cov[j * from + i] = cov[i * from + j] /= rows - 1
  const { values, vectors } = jacobiEigen(cov, from)
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a] || a - b)
  const matrix = new Float32Array(to * from)
  for (let j = 0; j < to; j++) {
    const c = order[j]
    let big = 0
    for (let i = 0; i < from; i++) if (Math.abs(vectors[i * from + c]) > Math.abs(big)) big = vectors[i * from + c]
    const sign = big < 0 ? -1 : 1
    for (let i = 0; i < from; i++) matrix[j * from + i] = sign * vectors[i * from + c]
  }
  return { from, to, mean: Float32Array.from(mean), matrix }
}

/** Eigen-decomposition of a symmetric n x n matrix (cyclic Jacobi rotations); columns of `vectors` are the eigenvectors. */
function jacobiEigen(input: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input)
  const v = new Float64Array(n * n)
  for (let i = 0; i < n; i++) v[i * n + i] = 1
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q]
    if (off < 1e-22) break
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]
        if (Math.abs(apq) < 1e-300) continue
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]
          const akq = a[k * n + q]
          a[k * n + p] = c * akp - s * akq
          a[k * n + q] = s * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]
          const aqk = a[q * n + k]
          a[p * n + k] = c * apk - s * aqk
          a[q * n + k] = s * apk + c * aqk
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]
          const vkq = v[k * n + q]
          v[k * n + p] = c * vkp - s * vkq
          v[k * n + q] = s * vkp + c * vkq
        }
      }
    }
  }
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]
  return { values, vectors: v }
}
