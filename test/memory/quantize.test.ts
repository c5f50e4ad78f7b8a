import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dotErrorBound, quantizeGlobal, quantizeRows, quantizeVector } from '../../src/memory/quantize.ts'
import { l2Normalize } from '../../src/resmem/vector.ts'

const unitVector = (dim: number) =>
  fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: dim, maxLength: dim }).map((xs) => l2Normalize(Float32Array.from(xs)))

describe('int8 quantization error bounds', () => {
  it('global scale: every component within scale/2', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 500 }), (xs) => {
        const v = Float32Array.from(xs)
        const { data, scale } = quantizeGlobal(v)
        for (let i = 0; i < v.length; i++) {
          expect(Math.abs(data[i])).toBeLessThanOrEqual(127)
          expect(Math.abs(v[i] - data[i] * scale)).toBeLessThanOrEqual(scale / 2 + 1e-7)
        }
      }),
    )
  })

  it('per-row residual scales: error <= 1/254 for residual rows in [-1, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 2, max: 12 }), fc.integer(), (rows, width, seed) => {
        let s = seed
        const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1
        const values = Float32Array.from({ length: rows * width }, rand)
        const { data, scales } = quantizeRows(values, rows, width)
        for (let r = 0; r < rows; r++) {
          expect(scales[r]).toBeLessThanOrEqual(1 / 127 + 1e-9)
          for (let j = 0; j < width; j++) {
            const err = Math.abs(values[r * width + j] - data[r * width + j] * scales[r])
            expect(err).toBeLessThanOrEqual(scales[r] / 2 + 1e-7)
            expect(err).toBeLessThanOrEqual(1 / 254 + 1e-7)
          }
        }
      }),
    )
  })

  it('an all-zero row gets scale 1 and zeros (residual of a perfectly fit example)', () => {
    const { data, scales } = quantizeRows(new Float32Array(3), 1, 3)
    expect(Array.from(data)).toEqual([0, 0, 0])
    expect(scales[0]).toBe(1)
  })

  it('dot products of unit vectors stay within dotErrorBound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }).chain((d) => fc.tuple(unitVector(d), unitVector(d))), ([a, b]) => {
        const qa = quantizeVector(a)
        const qb = quantizeVector(b)
        let exact = 0
        let approx = 0
        for (let i = 0; i < a.length; i++) {
          exact += a[i] * b[i]
          approx += qa.data[i] * qb.data[i]
        }
        approx *= qa.scale * qb.scale
        expect(Math.abs(exact - approx)).toBeLessThanOrEqual(dotErrorBound(a.length, qa.scale, qb.scale) + 1e-6)
      }),
    )
  })
})
