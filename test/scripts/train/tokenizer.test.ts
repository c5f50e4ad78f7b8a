/**
 * The learned tokenizer gives the same ids in `@huggingface/tokenizers` (what training and the Worker use) and in
 * transformers.js `AutoTokenizer` (what a user loading the model folder gets), truncation included.
 * Real texts come from the prepared data (data/spam, data/langid), skipped when it has not been prepared.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeTruncated, trainWordPiece, type TokenizerFiles } from '../../../scripts/train/wordpiece.ts'

const MAX_LENGTH = 64
const root = mkdtempSync(join(tmpdir(), 'resmem-tokenizer-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function texts(file: string): string[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text)
}

/** Writes the two files as a Hugging Face folder under `root` and loads it with transformers.js, offline. */
async function loadBoth(name: string, files: TokenizerFiles) {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson))
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig))
  const { AutoTokenizer, env } = await import('@huggingface/transformers')
  env.allowRemoteModels = false
  env.allowLocalModels = true
  env.localModelPath = root
  return {
    ours: new Tokenizer(files.tokenizerJson, files.tokenizerConfig),
    transformers: await AutoTokenizer.from_pretrained(name),
    maxLength: files.tokenizerConfig.model_max_length as number,
  }
}

type Both = Awaited<ReturnType<typeof loadBoth>>

function expectSameIds({ ours, transformers, maxLength }: Both, text: string): void {
  const full = ours.encode(text).ids
  expect(transformers.encode(text), JSON.stringify(text.slice(0, 80))).toEqual(full)
  // transformers.js truncation (model_max_length) against the project's rule.
  const cut = transformers(text, { truncation: true }).input_ids.tolist()[0].map(Number)
  expect(cut).toEqual(encodeTruncated(ours, text, maxLength).ids)
}

function sampleOf(file: string): string[] {
  const test = texts(file)
  const step = Math.max(1, Math.floor(test.length / 100))
  return test.filter((_, i) => i % step === 0).slice(0, 100)
}

for (const dataset of ['spam', 'langid']) {
  const dir = join('data', dataset)
  // data/<dataset> is prepared by `npm test`'s pretest step (build-defaults); a missing split is a failure.
  describe(`${dataset}: a tokenizer learned from the prepared train split`, () => {
    it('gives identical ids in @huggingface/tokenizers and transformers.js on 100 test texts', async () => {
      // A part of the train split keeps the test fast; the vocabulary is still full-sized and realistic.
      const files = trainWordPiece(texts(join(dir, 'train.jsonl')).slice(0, 1500), { vocabSize: 8000, modelMaxLength: MAX_LENGTH })
      const both = await loadBoth(`learned-${dataset}`, files)
      const sample = sampleOf(join(dir, 'test.jsonl'))
      expect(sample).toHaveLength(100)
      for (const text of sample) expectSameIds(both, text)
      // Texts longer than MAX_LENGTH exist, so the truncation comparison is not vacuous.
      expect(sample.some((t) => both.ours.encode(t).ids.length > MAX_LENGTH)).toBe(true)
    })
  })

  const shipped = join('models', dataset)
  describe(`${dataset}: the shipped tokenizer (models/${dataset})`, () => {
    it('gives identical ids in @huggingface/tokenizers and transformers.js on 100 test texts', async () => {
      const read = (f: string) => JSON.parse(readFileSync(join(shipped, f), 'utf8')) as Record<string, unknown>
      const both = await loadBoth(`shipped-${dataset}`, { tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') })
      for (const text of sampleOf(join(dir, 'test.jsonl'))) expectSameIds(both, text)
    })
  })
}

describe('unicode edge cases', () => {
  let both: Both
  beforeAll(async () => {
    const corpus = [
      'Héllo wörld, ça va? Straße, Größe, naïve café. İstanbul ve Iğdır şehirleri.',
      'Hello world! The quick brown fox jumps over the lazy dog 12345 times.',
      'Mae pawb yn cael ei eni’n rhydd. Každý má právo na život, svobodu a osobní bezpečnost.',
      'Tiếng Việt có dấu: Mọi người sinh ra đều được tự do. 日本語 中文 😀 👍🏽',
    ]
    both = await loadBoth('edge', trainWordPiece(corpus, { vocabSize: 300, modelMaxLength: MAX_LENGTH, minCharCount: 1 }))
  })

  const cases = [
    '',
    '   \t\n ',
    'HÉLLO Wörld',
    'cafe\u0301 vs café', // combining acute vs precomposed
    'İstanbul IĞDIR ǅemal',
    'STRASSE straße ẞ',
    '中文字符和日本語のテキスト',
    '😀👍🏽 emoji 👨‍👩‍👧 family',
    'zero\u200bwidth\u200djoiner\ufeffbom',
    'control\u0000\u0007chars\ufffd here\r\nand\ttabs',
    'x'.repeat(101) + ' ' + 'y'.repeat(100),
    '[CLS] literal [SEP] tokens [MASK] and [UNK]',
    'مرحبا بالعالم שלום עולם',
    'Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ',
    'nbsp\u00a0between\u2003em\u2028line',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters',
    'word '.repeat(100),
  ]
  it.each(cases.map((c) => [JSON.stringify(c).slice(0, 40), c]))('%s', (_, text) => {
    expectSameIds(both, text)
  })
})
