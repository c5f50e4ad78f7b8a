import type * as ort from 'onnxruntime-node'
import { expect } from 'vitest'

/** Tolerance against torch's values: float32 through two runtimes. */
export const TOL = 1e-5

/** `actual` is a [rows, cols] tensor within `tol` of `expected` everywhere. */
export function expectClose(actual: ort.Tensor, expected: number[][], tol = TOL): void {
  expect(actual.dims).toEqual([expected.length, expected[0].length])
  const data = actual.data as Float32Array
  const flat = expected.flat()
  let worst = 0
  for (let i = 0; i < flat.length; i++) worst = Math.max(worst, Math.abs(data[i] - flat[i]))
  expect(worst).toBeLessThan(tol)
}
