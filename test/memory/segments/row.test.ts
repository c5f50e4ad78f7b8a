import { describe, expect, it } from 'vitest'
import { encodeRow } from '../../../src/memory/row.ts'
import { drawExamples, encode, memoryOf, rowOf } from './fixtures.ts'

describe('encodeRow: a learned row is the row a build writes for the same example', () => {
  it('same key and residual bytes as buildMemory, at the memory key scale', () => {
    for (const [dim, T, seed] of [[8, 1, 1], [33, 0.25, 2], [128, 4, 3]] as const) {
      const examples = drawExamples(50, dim, 50, seed)
      const memory = memoryOf(examples, dim, T)
      const scale = memory.keys.dtype === 'int8' ? memory.keys.scale : NaN
      examples.forEach((e, i) => {
        const row = encode(e, T, scale)
        const built = rowOf(memory, i)
        expect(row.clamped).toBe(0)
        expect({ ...row, clamped: undefined }).toEqual({ ...built, clamped: undefined })
      })
    }
  })

  it('clamps components past the key scale, and counts them', () => {
    // Key scale 0.001: a unit vector's components are far past 127 steps.
    const row = encodeRow(Float32Array.from([3, 4, 0]), Float32Array.from([0, 0, 0]), 1, 1, 0.001)
    expect(Array.from(row.key)).toEqual([127, 127, 0])
    expect(row.clamped).toBe(2)
  })

  it('refuses a negative label id; a label past the logits (a memory label) stores onehot - [softmax, 0] compact', () => {
    expect(() => encodeRow(Float32Array.from([1, 0]), Float32Array.from([0, 0]), -1, 1, 0.01)).toThrow(/label id -1/)
    const r = encodeRow(Float32Array.from([1, 0]), Float32Array.from([0, 0]), 3, 1, 0.01)
    // softmax [0.5, 0.5]: residual [-0.5, -0.5, 1], the new label's entry last, on one per-row scale.
    expect(Array.from(r.residual)).toEqual([-64, -64, 127])
    expect(r.residualScale).toBeCloseTo(1 / 127, 9)
  })
})
