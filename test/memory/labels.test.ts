import { describe, expect, it } from 'vitest'
import { LabelSet } from '../../src/memory/labels.ts'

describe('LabelSet.ensure (replaying a log, possibly onto another model)', () => {
  it('adds a name not served yet, and leaves a served one where it is', () => {
    const set = new LabelSet(['ham', 'spam'])
    set.ensure('note')
    expect(set.idOf('note')).toBe(2)
    set.ensure('note')
    set.ensure('spam')
    expect(set.width).toBe(3)
    expect(set.isMemoryLabel('spam')).toBe(false)
    set.remove('note')
    set.ensure('note')
    // A label given again starts a new slot, as add does.
    expect(set.idOf('note')).toBe(3)
    expect(() => set.ensure('bad label')).toThrow(expect.objectContaining({ code: 'invalid_label' }))
  })
})
