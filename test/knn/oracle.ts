/** Test helpers: seeded int8 data with controllable ties, and a brute-force top-k to check every kernel against. */

export type Fill = 'uniform' | 'extremes' | 'ternary' | 'constant' | 'duplicates'

export { mulberry32 as random } from '../../scripts/data/random.ts'
import { mulberry32 as random } from '../../scripts/data/random.ts'

/**
 * n rows of d int8. 'extremes' draws only -128/127 (largest magnitudes), 'ternary' -1/0/1 and
 * 'constant' one value (ties everywhere), 'duplicates' repeats a few distinct rows.
 */
export function int8Rows(n: number, d: number, fill: Fill, seed: number): Int8Array {
  const next = random(seed)
  const out = new Int8Array(n * d)
  const pick = (): number => {
    switch (fill) {
      case 'uniform': return Math.floor(next() * 256) - 128
      case 'extremes': return next() < 0.5 ? -128 : 127
      case 'ternary': return Math.floor(next() * 3) - 1
      case 'constant': return 0
      case 'duplicates': return Math.floor(next() * 256) - 128
    }
  }
  if (fill === 'constant') {
    out.fill(Math.floor(next() * 256) - 128)
  } else if (fill === 'duplicates') {
    const distinct = Math.max(1, Math.min(n, 3))
    for (let i = 0; i < distinct * d; i++) out[i] = pick()
    for (let r = distinct; r < n; r++) {
      const from = Math.floor(next() * distinct) * d
      out.copyWithin(r * d, from, from + d)
    }
  } else {
    for (let i = 0; i < out.length; i++) out[i] = pick()
  }
  return out
}

/** Every dot, then a full sort: slow and obviously right. */
export function bruteTopK(keys: ArrayLike<number>, n: number, d: number, query: ArrayLike<number>, k: number) {
  const dots: number[] = []
  for (let r = 0; r < n; r++) {
    let s = 0
    for (let j = 0; j < d; j++) s += keys[r * d + j] * query[j]
    dots.push(s)
  }
  const order = dots.map((_, r) => r).sort((a, b) => dots[b] - dots[a] || a - b).slice(0, Math.min(k, n))
  return { rows: order, dots: order.map((r) => dots[r]) }
}
