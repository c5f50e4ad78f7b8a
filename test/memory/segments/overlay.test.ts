import { describe, expect, it } from 'vitest'
import { EditOverlay, type EditRow } from '../../../src/memory/segments/index.ts'
import { queryOf } from '../../../src/memory/segments/memory.ts'

const row = (id: number, key: number[], label = 0): EditRow => ({ id, label, key: Int8Array.from(key), residual: Int8Array.from([1, -1]), residualScale: 0.5 })
const overlay = () => new EditOverlay({ dim: 2, classes: 2, keyScale: 1 / 127, builtRows: 10 })

describe('EditOverlay', () => {
  it('keeps rows in id order whatever order they arrive in; a repeated id replaces the row', () => {
    const o = overlay()
    o.add([row(5, [1, 0]), row(2, [0, 1])])
    o.add([row(9, [1, 1])])
    o.add([row(3, [2, 2]), row(5, [3, 3], 1)])
    expect(o.rowIds()).toEqual([2, 3, 5, 9])
    expect(o.entries().map((r) => [r.id, Array.from(r.key), r.label])).toEqual([
      [2, [0, 1], 0],
      [3, [2, 2], 0],
      [5, [3, 3], 1],
      [9, [1, 1], 0],
    ])
  })

  it('ranks ties by id and reports edits after every built row', () => {
    const o = overlay()
    o.add([row(7, [127, 0]), row(4, [127, 0]), row(6, [0, 127])])
    const hits = o.search(queryOf(Float32Array.from([1, 0])), 3)
    expect(hits.map((h) => [h.id, h.order, h.source])).toEqual([
      [4, 14, 'edit'],
      [7, 17, 'edit'],
      [6, 16, 'edit'],
    ])
    expect(hits[0].similarity).toBeCloseTo(1, 6)
    expect(Array.from(hits[0].residual)).toEqual([0.5, -0.5])
  })

  it('forgets rows and searches what remains; unknown ids change nothing', () => {
    const o = overlay()
    o.add([1, 2, 3, 4].map((id) => row(id, [id, 0])))
    expect(o.search(queryOf(Float32Array.from([1, 0])), 1)[0].id).toBe(4)
    expect(o.remove([4, 2, 99])).toBe(2)
    expect(o.rowIds()).toEqual([1, 3])
    expect(o.search(queryOf(Float32Array.from([1, 0])), 5).map((h) => h.id)).toEqual([3, 1])
    expect(o.remove([99])).toBe(0)
    o.clear()
    expect(o.size).toBe(0)
    expect(o.search(queryOf(Float32Array.from([1, 0])), 5)).toEqual([])
  })

  it('refuses rows that do not fit the memory, before changing anything', () => {
    const o = overlay()
    o.add([row(1, [1, 1])])
    expect(() => o.add([row(2, [1, 1]), row(3, [1, 1, 1])])).toThrow(/edit 3: key has 3 dimensions/)
    expect(() => o.add([row(0, [1, 1])])).toThrow(/positive integer/)
    // Class 2 of a 2-class model is a memory label: its residual has one entry more (src/memory/row.ts).
    expect(() => o.add([row(4, [1, 1], 2)])).toThrow(/edit 4: residual has 2 entries, a row of class 2 3/)
    expect(() => o.add([row(4, [1, 1], -1)])).toThrow(/label id -1/)
    expect(o.rowIds()).toEqual([1])
  })
})
