import { Tokenizer } from '@huggingface/tokenizers'
import { describe, expect, it } from 'vitest'
import { countWords, encodeTruncated, learnVocab, SPECIAL_TOKENS, trainWordPiece } from '../../../scripts/train/wordpiece.ts'

const corpus = [
  'The player is playing; the players played and plays again.',
  'Playing games: play, replay, playful players!',
  'Café au lait, s’il vous plaît. Straße und Größe.',
  'Spiel spielen Spieler gespielt, spielte SPIELEN.',
  'play playing played player plays replay replaying',
]

function tokenizerFor(texts: string[], vocabSize: number, modelMaxLength = 32) {
  const files = trainWordPiece(texts, { vocabSize, modelMaxLength })
  return { files, tokenizer: new Tokenizer(files.tokenizerJson, files.tokenizerConfig) }
}

describe('learnVocab', () => {
  it('is deterministic and ignores the order of the corpus', () => {
    const a = trainWordPiece(corpus, { vocabSize: 80, modelMaxLength: 32 })
    const b = trainWordPiece(corpus, { vocabSize: 80, modelMaxLength: 32 })
    const c = trainWordPiece([...corpus].reverse(), { vocabSize: 80, modelMaxLength: 32 })
    expect(JSON.stringify(b)).toBe(JSON.stringify(a))
    expect(JSON.stringify(c)).toBe(JSON.stringify(a))
  })

  it('puts the special tokens first, then the alphabet by count, then merges (ties lexicographic)', () => {
    const vocab = learnVocab(new Map([['cd', 1], ['ab', 1]]), { vocabSize: 11, minCharCount: 1, minPairCount: 1, maxAlphabet: 4 })
    expect(vocab).toEqual([...SPECIAL_TOKENS, '##b', '##d', 'a', 'c', 'ab', 'cd'])
  })

  it('stops at the requested size and never repeats a token', () => {
    const vocab = learnVocab(countWords(corpus), { vocabSize: 60, minPairCount: 1, minCharCount: 1, maxAlphabet: 50 })
    expect(vocab).toHaveLength(60)
    expect(new Set(vocab).size).toBe(60)
  })

  it('keeps accents and lowercases, as the runtime normalizer does', () => {
    const words = countWords(['Café CAFÉ cafe'])
    expect([...words]).toEqual([['café', 2], ['cafe', 1]])
  })
})

describe('tokenizer files', () => {
  it('give [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 and wrap texts in [CLS] ... [SEP]', () => {
    const { files, tokenizer } = tokenizerFor(corpus, 80)
    const vocab = (files.tokenizerJson.model as { vocab: Record<string, number> }).vocab
    SPECIAL_TOKENS.forEach((t, i) => {
      expect(vocab[t]).toBe(i)
      expect(tokenizer.token_to_id(t)).toBe(i)
    })
    expect((files.tokenizerJson.added_tokens as Array<{ id: number; content: string }>).map((t) => [t.id, t.content])).toEqual(
      SPECIAL_TOKENS.map((t, i) => [i, t]),
    )
    const { ids } = tokenizer.encode('play')
    expect(ids[0]).toBe(2)
    expect(ids.at(-1)).toBe(3)
    expect(files.tokenizerConfig).toMatchObject({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 32 })
  })

  it('splits an unseen word into a head and ## pieces', () => {
    const { tokenizer } = tokenizerFor(corpus, 80)
    const tokens = tokenizer.tokenize('Replaying')
    expect(tokens.length).toBeGreaterThan(1)
    expect(tokens[0].startsWith('##')).toBe(false)
    expect(tokens.slice(1).every((t) => t.startsWith('##'))).toBe(true)
    expect(tokens.map((t) => t.replace(/^##/, '')).join('')).toBe('replaying')
    expect(tokenizer.tokenize('playplay')[0]).toBe('play')
    expect(tokenizer.decode(tokenizer.encode('playplay players').ids, { skip_special_tokens: true })).toBe('playplay players')
  })

  it('maps unseen characters and words over 100 characters to [UNK]', () => {
    const { tokenizer } = tokenizerFor(corpus, 80)
    expect(tokenizer.tokenize('play ☃ ' + 'a'.repeat(101))).toEqual(['play', '[UNK]', '[UNK]'])
  })
})

describe('encodeTruncated', () => {
  it('keeps the first maxLength ids, special tokens included', () => {
    const { tokenizer } = tokenizerFor(corpus, 80)
    const full = tokenizer.encode('play play play play play').ids
    expect(full).toHaveLength(7)
    expect(encodeTruncated(tokenizer, 'play play play play play', 4)).toEqual({ ids: full.slice(0, 4), truncated: true })
    expect(encodeTruncated(tokenizer, 'play play play play play', 7)).toEqual({ ids: full, truncated: false })
  })
})
