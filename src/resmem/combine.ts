/**
 * The ResMem rule (Yang et al. 2023, "ResMem: Learn what you can and memorize the rest"):
 *
 *   p(x) = softmax(z(x) / T) + sum_{i in kNN(x)} w_i r_i,    r_i = onehot(y_i) - softmax(z(x_i) / T)
 *   w_i  = exp(-dist(x, x_i) / sigma) / sum_j exp(-dist(x, x_j) / sigma)   over the k neighbours
 *
 * Keys are L2-normalised, so dist = ||x - x_i|| = sqrt(2 - 2 cos(x, x_i)).
 */

/** softmax(z / T) of one row, computed stably. */
export function softmax(logits: ArrayLike<number>, temperature = 1, out = new Float32Array(logits.length)): Float32Array {
  let max = -Infinity
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature)
  let sum = 0
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] / temperature - max)
    out[i] = e
    sum += e
  }
  for (let i = 0; i < logits.length; i++) out[i] /= sum
  return out
}

/** r = onehot(label) - probs. */
export function residual(label: number, probs: ArrayLike<number>, out = new Float32Array(probs.length)): Float32Array {
  for (let c = 0; c < probs.length; c++) out[c] = (c === label ? 1 : 0) - probs[c]
  return out
}

/** Euclidean distance between unit vectors with cosine similarity `sim` (clamped against rounding). */
export function unitDistance(sim: number): number {
  return Math.sqrt(Math.max(0, 2 - 2 * sim))
}

/** Normalised exp(-dist/sigma) weights for neighbours given by their cosine similarities. */
export function neighborWeights(similarities: ArrayLike<number>, sigma: number): Float64Array {
  const n = similarities.length
  const w = new Float64Array(n)
  if (n === 0) return w
  let minDist = Infinity
  const dist = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    dist[i] = unitDistance(similarities[i])
    minDist = Math.min(minDist, dist[i])
  }
  // Shift by the smallest distance: same weights after normalising, no underflow for small sigma.
  let sum = 0
  for (let i = 0; i < n; i++) {
    w[i] = Math.exp(-(dist[i] - minDist) / sigma)
    sum += w[i]
  }
  for (let i = 0; i < n; i++) w[i] /= sum
  return w
}

/**
 * p = base + sum_i w_i r_i. Returns a new array; `base` is left as it is. A residual shorter than `base` is 0
 * beyond its end: rows stored before a memory label existed (built rows, rows of model labels) carry nothing
 * for it, exactly as onehot(y) - [softmax(z/T), 0] says.
 */
export function combine(base: Float32Array, residuals: ArrayLike<ArrayLike<number>>, weights: ArrayLike<number>): Float32Array {
  const p = Float32Array.from(base)
  for (let i = 0; i < residuals.length; i++) {
    const r = residuals[i]
    const n = Math.min(p.length, r.length)
    for (let c = 0; c < n; c++) p[c] += weights[i] * r[c]
  }
  return p
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i
  return best
}
