/**
 * Learns a BERT WordPiece vocabulary from training texts and writes it as Hugging Face `tokenizer.json` +
 * `tokenizer_config.json`, loadable by `@huggingface/tokenizers` and transformers.js alike.
 *
 * Words are cut by the SAME normalizer and pre-tokenizer classes (from `@huggingface/tokenizers`) that the
 * runtime uses, so training ids and serving ids cannot drift apart.
 *
 * Vocabulary learning (deterministic, the same recipe as the Rust `WordPieceTrainer`, which runs BPE merges):
 *  1. Count the words of the corpus (lowercased, accents KEPT: they carry the language in language id).
 *  2. Alphabet: every character seen at least `minCharCount` times as a word's first character (token `c`) or
 *     inside a word (token `##c`), most frequent first, at most `maxAlphabet` tokens.
 *  3. Start every word as its characters (`p`, `##l`, `##a`, ...). Repeatedly merge the adjacent pair with the
 *     highest count over the corpus (ties: the lexicographically smaller pair) into one token
 *     (`p` + `##l` -> `pl`, `##a` + `##y` -> `##ay`), until the vocabulary is full or no pair occurs
 *     `minPairCount` times. Words with a character outside the alphabet become [UNK] at run time anyway and
 *     take no part.
 * Token ids: the five special tokens, then the alphabet, then the merged tokens in the order they were made.
 *
 * Truncation rule, used in training and at run time: encode WITH special tokens, then keep the first
 * `maxLength` ids (what transformers.js does with `truncation: true`, so the last id is not [SEP] when cut).
 */
import { BertNormalizer, BertPreTokenizer, type Tokenizer } from '@huggingface/tokenizers'

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const
export const PAD_ID = 0
export const UNK_ID = 1
export const CLS_ID = 2
export const SEP_ID = 3
export const MASK_ID = 4

const PREFIX = '##'
const MAX_INPUT_CHARS_PER_WORD = 100

const NORMALIZER = {
  type: 'BertNormalizer',
  clean_text: true,
  handle_chinese_chars: true,
  strip_accents: false,
  lowercase: true,
} as const

export interface WordPieceOptions {
  /** Total vocabulary size, special tokens included. Default 8000. */
  vocabSize?: number
  /** A character enters the alphabet when seen at least this often (per position kind). Default 2. */
  minCharCount?: number
  /** At most this many alphabet tokens (`c` and `##c` forms together). Default min(1000, vocabSize / 4). */
  maxAlphabet?: number
  /** Merging stops when the best pair occurs fewer times than this. Default 2. */
  minPairCount?: number
}

/** Splits texts into normalized words exactly as the runtime tokenizer does, and counts them. */
export function countWords(texts: Iterable<string>): Map<string, number> {
  const normalizer = new BertNormalizer({ ...NORMALIZER })
  const preTokenizer = new BertPreTokenizer()
  const counts = new Map<string, number>()
  for (const text of texts) {
    for (const word of preTokenizer.pre_tokenize_text(normalizer.normalize(text))) {
      counts.set(word, (counts.get(word) ?? 0) + 1)
    }
  }
  return counts
}

/** A binary max-heap over candidate pairs with lazy deletion (stale entries are skipped when popped). */
class PairHeap {
  private items: Array<{ count: number; a: number; b: number }> = []
  constructor(private readonly better: (x: { count: number; a: number; b: number }, y: { count: number; a: number; b: number }) => boolean) {}
  get size(): number {
    return this.items.length
  }
  push(item: { count: number; a: number; b: number }): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.better(items[i], items[parent])) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
  }
  pop(): { count: number; a: number; b: number } | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < items.length && this.better(items[l], items[best])) best = l
        if (r < items.length && this.better(items[r], items[best])) best = r
        if (best === i) break
        ;[items[i], items[best]] = [items[best], items[i]]
        i = best
      }
    }
    return top
  }
}

/** Learns the vocabulary (tokens in id order, special tokens first) from word counts. */
export function learnVocab(wordCounts: Map<string, number>, options: WordPieceOptions = {}): string[] {
  const vocabSize = options.vocabSize ?? 8000
  const minCharCount = options.minCharCount ?? 2
  const maxAlphabet = options.maxAlphabet ?? Math.min(1000, Math.floor(vocabSize / 4))
  const minPairCount = options.minPairCount ?? 2
  if (vocabSize <= SPECIAL_TOKENS.length) throw new Error(`vocabSize must exceed ${SPECIAL_TOKENS.length}`)

  // Sorted so the result does not depend on the order of the corpus.
  const words = [...wordCounts]
    .filter(([w]) => w.length > 0 && [...w].length <= MAX_INPUT_CHARS_PER_WORD)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))

  const charCounts = new Map<string, number>()
  for (const [word, count] of words) {
    let first = true
    for (const ch of word) {
      const token = first ? ch : PREFIX + ch
      charCounts.set(token, (charCounts.get(token) ?? 0) + count)
      first = false
    }
  }
  const alphabet = [...charCounts]
    .filter(([, c]) => c >= minCharCount)
    .sort(([x, cx], [y, cy]) => cy - cx || (x < y ? -1 : x > y ? 1 : 0))
    .slice(0, Math.min(maxAlphabet, vocabSize - SPECIAL_TOKENS.length))
    .map(([t]) => t)

  // Symbols are small integers; `tokens[id]` is the string. Specials are symbols too, never produced by merges.
  const tokens: string[] = [...SPECIAL_TOKENS, ...alphabet]
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]))

  const seqs: number[][] = []
  const counts: number[] = []
  for (const [word, count] of words) {
    const seq: number[] = []
    let ok = true
    let first = true
    for (const ch of word) {
      const id = idOf.get(first ? ch : PREFIX + ch)
      first = false
      if (id === undefined) {
        ok = false
        break
      }
      seq.push(id)
    }
    if (ok && seq.length > 1) {
      seqs.push(seq)
      counts.push(count)
    }
  }

  // Pair key: a * 2^21 + b stays an exact integer in a double (ids < 2^21).
  const SHIFT = 2 ** 21
  const pairCounts = new Map<number, number>()
  const pairWords = new Map<number, Set<number>>()
  const addPairs = (w: number, sign: 1 | -1, changed: Set<number>) => {
    const seq = seqs[w]
    for (let i = 0; i + 1 < seq.length; i++) {
      const key = seq[i] * SHIFT + seq[i + 1]
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * counts[w])
      changed.add(key)
      if (sign > 0) {
        let set = pairWords.get(key)
        if (!set) pairWords.set(key, (set = new Set()))
        set.add(w)
      }
    }
  }
  const better = (x: { count: number; a: number; b: number }, y: { count: number; a: number; b: number }) => {
    if (x.count !== y.count) return x.count > y.count
    const xa = tokens[x.a], ya = tokens[y.a]
    if (xa !== ya) return xa < ya
    return tokens[x.b] < tokens[y.b]
  }
  const heap = new PairHeap(better)
  const pushChanged = (changed: Set<number>) => {
    for (const key of changed) {
      const count = pairCounts.get(key) ?? 0
      if (count > 0) heap.push({ count, a: Math.floor(key / SHIFT), b: key % SHIFT })
      else pairCounts.delete(key)
    }
  }
  const initial = new Set<number>()
  for (let w = 0; w < seqs.length; w++) addPairs(w, 1, initial)
  pushChanged(initial)

  const vocab = new Set<string>(tokens)
  while (vocab.size < vocabSize && heap.size > 0) {
    const top = heap.pop()!
    const key = top.a * SHIFT + top.b
    if (pairCounts.get(key) !== top.count) continue // stale entry
    if (top.count < minPairCount) break
    const merged = tokens[top.a] + tokens[top.b].slice(PREFIX.length)
    let id = idOf.get(merged)
    if (id === undefined) {
      id = tokens.length
      tokens.push(merged)
      idOf.set(merged, id)
    }
    vocab.add(merged)
    const changed = new Set<number>()
    const affected = [...(pairWords.get(key) ?? [])].sort((x, y) => x - y)
    pairWords.delete(key)
    for (const w of affected) {
      const seq = seqs[w]
      let has = false
      for (let i = 0; i + 1 < seq.length; i++) if (seq[i] === top.a && seq[i + 1] === top.b) has = true
      if (!has) continue // the pair left this word through an earlier merge
      addPairs(w, -1, changed)
      const next: number[] = []
      for (let i = 0; i < seq.length; i++) {
        if (i + 1 < seq.length && seq[i] === top.a && seq[i + 1] === top.b) {
          next.push(id)
          i++
        } else next.push(seq[i])
      }
      seqs[w] = next
      addPairs(w, 1, changed)
    }
    pushChanged(changed)
  }
  // Tokens made by merges are listed once each, in order of creation (the alphabet and specials come first).
  return tokens.filter((t) => vocab.has(t))
}

export interface TokenizerFiles {
  /** The Hugging Face `tokenizer.json` object. */
  tokenizerJson: Record<string, unknown>
  /** The Hugging Face `tokenizer_config.json` object. */
  tokenizerConfig: Record<string, unknown>
}

/** Builds `tokenizer.json` and `tokenizer_config.json` for a WordPiece vocabulary (tokens in id order). */
export function tokenizerFiles(vocab: string[], modelMaxLength: number): TokenizerFiles {
  SPECIAL_TOKENS.forEach((t, i) => {
    if (vocab[i] !== t) throw new Error(`vocabulary id ${i} must be ${t}, got ${vocab[i]}`)
  })
  const added = SPECIAL_TOKENS.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }))
  const special = (id: string, ids: number) => ({ id, ids: [ids], tokens: [id] })
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { ...NORMALIZER },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]', CLS_ID), '[SEP]': special('[SEP]', SEP_ID) },
    },
    decoder: { type: 'WordPiece', prefix: PREFIX, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: PREFIX,
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  }
  const tokenizerConfig = {
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest])),
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: modelMaxLength,
    never_split: null,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: false,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  }
  return { tokenizerJson, tokenizerConfig }
}

/** Learns a vocabulary from texts and returns the two tokenizer files. */
export function trainWordPiece(texts: Iterable<string>, options: WordPieceOptions & { modelMaxLength: number }): TokenizerFiles {
  return tokenizerFiles(learnVocab(countWords(texts), options), options.modelMaxLength)
}

/** Encodes with [CLS]/[SEP] and keeps the first `maxLength` ids (the project-wide truncation rule). */
export function encodeTruncated(tokenizer: Tokenizer, text: string, maxLength: number): { ids: number[]; truncated: boolean } {
  const { ids } = tokenizer.encode(text)
  return { ids: ids.length > maxLength ? ids.slice(0, maxLength) : ids, truncated: ids.length > maxLength }
}
