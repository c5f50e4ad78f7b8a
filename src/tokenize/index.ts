import { Tokenizer } from '@huggingface/tokenizers'
import { cutsAtWhitespace, idsWithinBudget } from './budget.ts'

/** A padded batch, ready for the ONNX graph's int64 inputs. */
export interface EncodedBatch {
  batch: number
  /** Padded sequence length (the longest text in the batch, at most maxLength). */
  length: number
  inputIds: BigInt64Array
  attentionMask: BigInt64Array
  /** Per text: whether it was cut to maxLength tokens. */
  truncated: boolean[]
}

/**
 * The model's tokenizer (tokenizer.json + tokenizer_config.json, as in a Hugging Face folder) with the
 * truncation and padding of transformers.js `tokenizer(texts, { padding: true, truncation: true })`:
 * special tokens are added first, then the first maxLength ids are kept. Training used the same rule.
 */
export class TextTokenizer {
  readonly maxLength: number
  readonly padId: number
  private readonly tokenizer: Tokenizer
  /** Special tokens added to every text; undefined when cutting before tokenizing would not be exact. */
  private readonly specials: number | undefined

  constructor(tokenizerJson: object, tokenizerConfig: object, maxLength: number) {
    if (!Number.isInteger(maxLength) || maxLength < 2) throw new RangeError(`maxLength must be an integer >= 2, got ${maxLength}`)
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig)
    this.maxLength = maxLength
    const padToken = (tokenizerConfig as { pad_token?: unknown }).pad_token
    const pad = this.tokenizer.token_to_id(typeof padToken === 'string' ? padToken : '[PAD]')
    this.padId = pad ?? 0
    this.specials = cutsAtWhitespace(tokenizerJson) ? this.tokenizer.encode('').ids.length : undefined
  }

  /**
   * Token ids of one text, special tokens included, before truncation: more than maxLength exactly when the
   * text is over the limit, and the first maxLength always the whole text's. A long text is cut to a
   * character budget first (./budget.ts), so its cost is bounded by maxLength, not by its size.
   */
  ids(text: string): number[] {
    const encode = (t: string) => this.tokenizer.encode(t).ids
    if (this.specials === undefined) return encode(text)
    return idsWithinBudget(encode, text, this.maxLength, this.specials).ids
  }

  encodeBatch(texts: readonly string[]): EncodedBatch {
    return this.batchOf(texts.map((t) => this.ids(t)))
  }

  /** A padded batch of token id lists (from ids()), each cut to maxLength. */
  batchOf(encoded: readonly (readonly number[])[]): EncodedBatch {
    const truncated = encoded.map((ids) => ids.length > this.maxLength)
    const length = Math.max(1, ...encoded.map((ids) => Math.min(ids.length, this.maxLength)))
    const batch = encoded.length
    const inputIds = new BigInt64Array(batch * length).fill(BigInt(this.padId))
    const attentionMask = new BigInt64Array(batch * length)
    encoded.forEach((ids, b) => {
      const n = Math.min(ids.length, this.maxLength)
      for (let i = 0; i < n; i++) {
        inputIds[b * length + i] = BigInt(ids[i])
        attentionMask[b * length + i] = 1n
      }
    })
    return { batch, length, inputIds, attentionMask, truncated }
  }
}
