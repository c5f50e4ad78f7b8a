/**
 * int8 quantization of the memory.
 *
 * Keys: L2-normalised rows, every component in [-1, 1]. One GLOBAL symmetric scale
 *   s_k = max_ij |k_ij| / 127,   q_ij = round(k_ij / s_k)  (clamped to [-127, 127])
 * so that the int32 dot product q_query . q_i ranks rows exactly like the dequantized keys do (a per-row
 * scale would make the k-NN kernel rescale every row). Error bound per component: |k_ij - s_k q_ij| <= s_k/2.
 * For unit vectors a (query) and b (key) quantized with scales s_a, s_b in d dimensions,
 *   |a.b - (s_a qa).(s_b qb)| <= (s_a/2) sqrt(d) + (1 + (s_a/2) sqrt(d)) (s_b/2) sqrt(d)      (Cauchy-Schwarz)
 * which `dotErrorBound` returns; with d = 128 and s ~ 1/127*max|k| it is ~0.05 in the worst case and
 * ~1e-3 in practice (errors are uncorrelated).
 *
 * Residuals: r_i = onehot(y_i) - softmax(z_i/T), components in [-1, 1]. A PER-ROW scale
 *   s_i = max_c |r_ic| / 127 (1 when the row is all zero)
 * costs 4 bytes a row and keeps small residuals precise. Per component |r_ic - s_i q_ic| <= s_i/2 <= 1/254;
 * ResMem adds sum_i w_i r_i with sum_i w_i = 1, so each combined probability moves by at most
 * max_i s_i/2 <= 1/254 ~ 0.0039 from the fp32 result.
 */

export const INT8_MAX = 127

/** Smallest normal float32: a smaller scale would round to 0 (or lose bits) when stored as float32. */
const MIN_SCALE = 1.1754943508222875e-38

/**
 * Symmetric scale for values whose largest magnitude is `maxAbs`; never 0, so dequantization is defined.
 * Values too small for a float32 scale (a residual at a small T can be ~1e-40) quantize to 0 with scale 1.
 */
export function symmetricScale(maxAbs: number): number {
  const scale = maxAbs / INT8_MAX
  return scale >= MIN_SCALE ? scale : 1
}

export function maxAbs(values: ArrayLike<number>, start = 0, end = values.length): number {
  let m = 0
  for (let i = start; i < end; i++) {
    const a = Math.abs(values[i])
    if (a > m) m = a
  }
  return m
}

function toInt8(value: number, scale: number): number {
  const q = Math.round(value / scale)
  return q > INT8_MAX ? INT8_MAX : q < -INT8_MAX ? -INT8_MAX : q
}

/** Quantize all of `values` with one scale. */
export function quantizeGlobal(values: Float32Array): { data: Int8Array; scale: number } {
  // float32, as stored in memory.bin.
  const scale = Math.fround(symmetricScale(maxAbs(values)))
  return { data: quantizeWithScale(values, scale).data, scale }
}

/**
 * Quantize `values` with a scale fixed beforehand (a new key with its memory's key scale); values past
 * +-127 steps are clamped, and counted.
 */
export function quantizeWithScale(values: ArrayLike<number>, scale: number): { data: Int8Array; clamped: number } {
  const data = new Int8Array(values.length)
  let clamped = 0
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(Math.round(values[i] / scale)) > INT8_MAX) clamped++
    data[i] = toInt8(values[i], scale)
  }
  return { data, clamped }
}

/** Quantize a single vector with its own scale (the query at search time). */
export function quantizeVector(values: Float32Array, out: Int8Array = new Int8Array(values.length)): { data: Int8Array; scale: number } {
  const scale = symmetricScale(maxAbs(values))
  for (let i = 0; i < values.length; i++) out[i] = toInt8(values[i], scale)
  return { data: out, scale }
}

/** Quantize `rows` rows of `width` values, one scale per row. */
export function quantizeRows(values: Float32Array, rows: number, width: number): { data: Int8Array; scales: Float32Array } {
  if (values.length !== rows * width) throw new RangeError(`expected ${rows}x${width} values, got ${values.length}`)
  const data = new Int8Array(values.length)
  const scales = new Float32Array(rows)
  for (let r = 0; r < rows; r++) {
    const off = r * width
    // Math.fround: the scale is stored as float32, so quantize with exactly the value that will be read back.
    const scale = Math.fround(symmetricScale(maxAbs(values, off, off + width)))
    scales[r] = scale
    for (let j = 0; j < width; j++) data[off + j] = toInt8(values[off + j], scale)
  }
  return { data, scales }
}

/** Worst-case |a.b - a~.b~| for unit vectors of dimension `dim` quantized with scales `sa` and `sb`. */
export function dotErrorBound(dim: number, sa: number, sb: number): number {
  const ea = (sa / 2) * Math.sqrt(dim)
  const eb = (sb / 2) * Math.sqrt(dim)
  return ea + (1 + ea) * eb
}
