import type { ResidualMemory } from './format.ts'

/** Reads row `row` of the stored residuals, dequantized, into `out`. */
export type ResidualReader = (row: number, out: Float32Array) => Float32Array

/** Dequantizing reader of a memory's residual rows. */
export function residualReader(memory: Pick<ResidualMemory, 'labels' | 'residuals'>): ResidualReader {
  const c = memory.labels.length
  const res = memory.residuals
  if (res.dtype === 'float32') return (row, out) => {
    out.set(res.data.subarray(row * c, row * c + c))
    return out
  }
  return (row, out) => {
    const s = res.scales[row]
    for (let j = 0; j < c; j++) out[j] = res.data[row * c + j] * s
    return out
  }
}
