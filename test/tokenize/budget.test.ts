import { readFileSync } from 'node:fs'
import { Tokenizer } from '@huggingface/tokenizers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CHARS_PER_TOKEN, cutsAtWhitespace, idsWithinBudget } from '../../src/tokenize/budget.ts'
import { TextTokenizer } from '../../src/tokenize/index.ts'

const json = (path: string) => JSON.parse(readFileSync(new URL(`../../models/spam/${path}`, import.meta.url), 'utf8')) as object
const tokenizerJson = json('tokenizer.json')
const tokenizerConfig = json('tokenizer_config.json')
const full = new Tokenizer(tokenizerJson, tokenizerConfig)
const encode = (t: string) => full.encode(t).ids

// Pieces that stress the cut: whitespace runs, punctuation, CJK, accents, control characters the normalizer
// drops, a zero-width space, surrogate pairs, and words past WordPiece's 100-character limit (one [UNK]).
const piece = fc.oneof(
  fc.constantFrom('free', 'money', 'Click', 'here', 'unsubscribe', 'naïve', 'café', '東京', '😀', '\u200b', '\u0007', '\u0000', '!!!', '.', ',', '$100', "don't", '\ufeff', 'x'.repeat(101), 'ab'.repeat(60)),
  fc.constantFrom(' ', '  ', '\n', '\t', '\r\n', ' \n '),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
)
const text = fc.array(piece, { maxLength: 400 }).map((parts) => parts.join(''))

describe('cutting a text to a character budget before tokenizing', () => {
  it('applies to the shipped tokenizers (BERT pre-tokenizer)', () => {
    expect(cutsAtWhitespace(tokenizerJson)).toBe(true)
    expect(cutsAtWhitespace({ pre_tokenizer: { type: 'Metaspace' } })).toBe(false)
    expect(cutsAtWhitespace({ pre_tokenizer: null })).toBe(false)
  })

  it('gives exactly the first maxLength ids of the whole text, and the same truncated flag', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 2, max: 48 }), (t, maxLength) => {
        const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, maxLength)
        const whole = encode(t)
        const cut = tokenizer.ids(t)
        expect(cut.slice(0, maxLength)).toEqual(whole.slice(0, maxLength))
        expect(cut.length > maxLength).toBe(whole.length > maxLength)
        const batch = tokenizer.encodeBatch([t])
        expect(batch.truncated[0]).toBe(whole.length > maxLength)
      }),
      { numRuns: 400, seed: 12 },
    )
  })

  it('tokenizes about maxLength * CHARS_PER_TOKEN characters of a 1 MB text, and marks it truncated', () => {
    const words = ['Dear', 'friend,', 'claim', 'your', 'FREE', 'prize', 'now!', 'Meeting', 'at', 'noon.']
    let big = ''
    for (let i = 0; big.length < 1 << 20; i++) big += words[(i * 7) % words.length] + (i % 13 === 0 ? '\n' : ' ')
    const maxLength = 256
    const { ids, chars } = idsWithinBudget(encode, big, maxLength, encode('').length)
    expect(chars).toBeLessThanOrEqual(maxLength * CHARS_PER_TOKEN)
    expect(ids.slice(0, maxLength)).toEqual(encode(big.slice(0, 20_000)).slice(0, maxLength))
    const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, maxLength)
    expect(tokenizer.encodeBatch([big]).truncated).toEqual([true])
  })

  it('falls back to the whole text when no prefix holds enough ids (whitespace only)', () => {
    const blank = ' \n'.repeat(5000)
    const { ids, chars } = idsWithinBudget(encode, blank, 8, encode('').length)
    expect(chars).toBe(blank.length)
    expect(ids).toEqual(encode(blank))
  })
})
