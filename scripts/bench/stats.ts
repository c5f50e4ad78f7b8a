/** Latency summaries: percentiles by linear interpolation between closest ranks. */

export interface LatencyStats {
  n: number
  p50: number
  p90: number
  p99: number
  mean: number
  min: number
  max: number
}

/** `p` in [0, 1] of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  const at = p * (sorted.length - 1)
  const lo = Math.floor(at)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo)
}

export function median(xs: readonly number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 0.5)
}

export function summarize(ms: readonly number[]): LatencyStats {
  const s = [...ms].sort((a, b) => a - b)
  return {
    n: s.length,
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
  }
}

/** Order of `count` contenders for the `i`-th round: rotates, so none always runs first (caches, JIT, turbo). */
export function rotation(i: number, count: number): number[] {
  return Array.from({ length: count }, (_, j) => (i + j) % count)
}
