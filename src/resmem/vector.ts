/** Scales `v` to unit length in place (the zero vector stays zero). */
export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i] * v[i]
  const n = Math.sqrt(s)
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n
  return v
}
