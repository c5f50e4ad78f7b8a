import { describe, expect, it } from 'vitest'
import { argmax, combine, neighborWeights, residual, softmax, unitDistance } from '../../src/resmem/combine.ts'

describe('ResMem math against a hand-computed case', () => {
  it('softmax with temperature', () => {
    // z = [2, 0], T = 2: softmax([1, 0]) = [e/(e+1), 1/(e+1)] = [0.7310586, 0.2689414]
    const p = softmax([2, 0], 2)
    expect(p[0]).toBeCloseTo(0.7310586, 6)
    expect(p[1]).toBeCloseTo(0.2689414, 6)
    // Large logits stay finite (the max is subtracted first).
    const q = softmax([1000, 999], 1)
    expect(q[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6)
  })

  it('residual = onehot(y) - p', () => {
    expect(Array.from(residual(1, [0.7, 0.2, 0.1]))).toEqual([-0.7, 0.8, -0.1].map(Math.fround))
  })

  it('distance and weights: w_i proportional to exp(-dist_i / sigma), normalised', () => {
    // sims 1 and 0.5 -> dist 0 and 1; sigma 0.5 -> raw weights 1 and e^-2.
    expect(unitDistance(1)).toBe(0)
    expect(unitDistance(0.5)).toBeCloseTo(1, 12)
    expect(unitDistance(1.0000001)).toBe(0) // rounding above 1 is clamped, not NaN
    const w = neighborWeights([1, 0.5], 0.5)
    const e2 = Math.exp(-2)
    expect(w[0]).toBeCloseTo(1 / (1 + e2), 12)
    expect(w[1]).toBeCloseTo(e2 / (1 + e2), 12)
    // Tiny sigma does not underflow to 0/0.
    const sharp = neighborWeights([0.2, 0.1], 1e-6)
    expect(sharp[0]).toBeCloseTo(1, 12)
    expect(Number.isNaN(sharp[1])).toBe(false)
  })

  it('combine adds the weighted residuals and can flip the decision', () => {
    // Base says class 0 with 0.6; two neighbours of class 1 the model got wrong (p = [0.9, 0.1]).
    const base = Float32Array.from([0.6, 0.4])
    const stored = [residual(1, [0.9, 0.1]), residual(1, [0.8, 0.2])] // [-0.9, 0.9], [-0.8, 0.8]
    const weights = [0.75, 0.25]
    const p = combine(base, stored, weights)
    // p0 = 0.6 - 0.75*0.9 - 0.25*0.8 = -0.275, p1 = 0.4 + 0.675 + 0.2 = 1.275
    expect(p[0]).toBeCloseTo(-0.275, 6)
    expect(p[1]).toBeCloseTo(1.275, 6)
    expect(argmax(base)).toBe(0)
    expect(argmax(p)).toBe(1)
    expect(p[0] + p[1]).toBeCloseTo(1, 6) // residuals sum to 0, so p still sums to 1
    expect(Array.from(base)).toEqual([0.6, 0.4].map(Math.fround)) // input untouched
  })
})
