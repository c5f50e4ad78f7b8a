/**
 * Bounded tokenizer cost: a text is cut to a character budget before it is tokenized, so a 1 MB text costs
 * what a text at the token limit costs, and the ids the model sees are exactly those of the whole text.
 *
 * Why the cut is exact: the tokenizers we cut for split words at whitespace before their model runs
 * (BERT/Whitespace/ByteLevel pre-tokenizers), and each word's ids depend on that word alone. A prefix that
 * ends just before a whitespace character therefore tokenizes to a prefix of the whole text's content ids.
 * Once that prefix holds at least maxLength content ids, the first maxLength ids (leading special tokens
 * included) are the whole text's, and both are truncated. If a prefix falls short (long runs of characters
 * the normalizer drops, 100-character words that become one [UNK]), the budget doubles, so the work stays
 * within twice the characters actually needed.
 */

/** Characters per token the first budget allows: English runs 4 to 5 per WordPiece/BPE token. */
export const CHARS_PER_TOKEN = 8

/** Pre-tokenizers that split at whitespace, so that a cut before a whitespace character cuts between words. */
const WHITESPACE_SPLITTING = new Set(['BertPreTokenizer', 'Whitespace', 'WhitespaceSplit', 'ByteLevel'])

/** Whether a tokenizer.json's pre-tokenizer makes cutting at whitespace exact (a Sequence: any of its steps). */
export function cutsAtWhitespace(tokenizerJson: object): boolean {
  const pre = (tokenizerJson as { pre_tokenizer?: { type?: string; pretokenizers?: { type?: string }[] } | null }).pre_tokenizer
  if (!pre) return false
  if (pre.type === 'Sequence') return (pre.pretokenizers ?? []).some((p) => WHITESPACE_SPLITTING.has(p.type ?? ''))
  return WHITESPACE_SPLITTING.has(pre.type ?? '')
}

// ASCII whitespace only: every tokenizer treats these as word breaks (Unicode's wider set is not agreed on).
const isBreak = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d

/**
 * The longest prefix of `text` of at most `budget` characters that ends where a run of whitespace starts
 * (not inside one: byte-level BPE groups a whitespace run with the word after it).
 */
export function cutBeforeWhitespace(text: string, budget: number): string | undefined {
  for (let i = Math.min(budget, text.length - 1); i > 0; i--) {
    if (isBreak(text.charCodeAt(i)) && !/\s/.test(text[i - 1])) return text.slice(0, i)
  }
  return undefined
}

export interface BudgetedIds {
  /** Token ids, special tokens included: the whole text's, or those of a prefix whose first maxLength ids are the whole text's. */
  ids: number[]
  /** Characters tokenized (text.length when the text was not cut). */
  chars: number
}

/**
 * Token ids of `text` whose first `maxLength` are those of the whole text, tokenizing about
 * `maxLength * CHARS_PER_TOKEN` characters of it at most (see the top of this file).
 * `specials` is how many special tokens the tokenizer adds to a text (ids of "" has that many).
 */
export function idsWithinBudget(encode: (text: string) => number[], text: string, maxLength: number, specials: number): BudgetedIds {
  for (let budget = maxLength * CHARS_PER_TOKEN; budget < text.length; budget *= 2) {
    const prefix = cutBeforeWhitespace(text, budget)
    if (prefix === undefined) continue
    const ids = encode(prefix)
    // At least maxLength content ids: the leading specials and the first content ids fill maxLength.
    if (ids.length - specials >= maxLength) return { ids, chars: prefix.length }
  }
  return { ids: encode(text), chars: text.length }
}
