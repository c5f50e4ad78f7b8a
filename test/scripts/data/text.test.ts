import { describe, expect, it } from 'vitest'
import { cleanText, dedupe } from '../../../scripts/data/text.ts'

describe('cleanText', () => {
  it('collapses whitespace, removes control characters and normalises to NFC', () => {
    expect(cleanText('  a\t\n b\u0000c e\u0301 ')).toBe('a b c é')
  })

  it('caps the length without splitting a surrogate pair', () => {
    expect(cleanText('x'.repeat(30_000))).toHaveLength(20_000)
    const cut = cleanText('ab😀', 3)
    expect(cut).toBe('ab')
  })
})

describe('dedupe', () => {
  it('keeps the first copy of a text (case- and space-insensitive) and drops empties', () => {
    const r = dedupe([
      { text: 'Hello  World', label: 'a' },
      { text: 'hello world', label: 'b' },
      { text: '', label: 'a' },
      { text: 'other', label: 'a' },
      { text: 'HELLO WORLD', label: 'a' },
    ])
    expect(r.examples).toEqual([{ text: 'Hello  World', label: 'a' }, { text: 'other', label: 'a' }])
    expect(r.duplicates).toBe(2)
    expect(r.conflicts).toBe(1)
    expect(r.empty).toBe(1)
  })
})
