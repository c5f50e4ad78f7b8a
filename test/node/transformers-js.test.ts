// transformers.js interop on a real bundle folder (artifacts/spam, built by `npm test`'s pretest): the folder is a
// Hugging Face model folder (config.json with id2label, tokenizer files, onnx/model_quantized.onnx), so
// @huggingface/transformers' text-classification pipeline loads it offline and answers the base model's labels;
// and the memory is added in a few lines (docs/clients.md): the model's ONNX session already outputs the
// `embedding` the memory is keyed on, and resmem-edge/core's MemorySearch applies the ResMem rule. Both are
// compared with our Node classifier on test texts.
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { AutoModelForSequenceClassification, AutoTokenizer, env, pipeline } from '@huggingface/transformers'
import { beforeAll, describe, expect, it } from 'vitest'
import { readLabelledJsonl } from '../../scripts/data/index.ts'
import { MemorySearch, parseManifest, readMemory } from '../../src/index.ts'
import type { ResMemClassifier } from '../../src/classifier.ts'
import { loadClassifier } from '../../src/node/index.ts'

const BUNDLE = 'artifacts/spam'
let ours: ResMemClassifier
let texts: string[]

beforeAll(async () => {
  env.allowRemoteModels = false
  env.localModelPath = resolve('artifacts') + '/'
  ours = await loadClassifier(BUNDLE)
  texts = (await readLabelledJsonl('data/spam/test.jsonl')).slice(0, 40).map((e) => e.text)
})

describe('transformers.js on a bundle folder', () => {
  it("pipeline('text-classification') loads it and answers the base model's labels", async () => {
    // An int8 bundle's model is onnx/model_quantized.onnx: transformers.js dtype "q8".
    const classify = await pipeline('text-classification', 'spam', { dtype: 'q8' })
    const theirs = await classify(texts, { top_k: null })
    const base = await ours.classify(texts, { params: { k: 0 } })
    expect(theirs).toHaveLength(texts.length)
    theirs.forEach((labels, i) => {
      const list = labels as unknown as { label: string; score: number }[]
      expect(list.map((l) => l.label).sort()).toEqual([...ours.bundle.manifest.labels].sort())
      expect(list[0].label, texts[i].slice(0, 60)).toBe(base[i].base.label)
    })
  })

  it('adds the memory in a few lines: session outputs (logits, embedding) + MemorySearch give our neighbours and label', async () => {
    // --- the lines docs/clients.md shows ---
    const manifest = parseManifest(await readFile(join(BUNDLE, 'manifest.json')))
    const memory = MemorySearch.of(await readMemory(await readFile(join(BUNDLE, 'memory.bin'))))
    const tokenizer = await AutoTokenizer.from_pretrained('spam')
    const model = await AutoModelForSequenceClassification.from_pretrained('spam', { dtype: 'q8' })
    const k = manifest.tuning.best.k
    const params = { k, sigma: manifest.resmem.sigma, temperature: manifest.resmem.temperature }
    const decideOne = async (text: string) => {
      const inputs = await tokenizer(text, { truncation: true })
      // The model's forward keeps only logits; its ONNX session returns every output, the embedding too.
      const session = (model as unknown as { sessions: { model: { run(feeds: object): Promise<Record<string, { data: Float32Array }>> } } }).sessions.model
      const out = await session.run({ input_ids: inputs.input_ids.ort_tensor, attention_mask: inputs.attention_mask.ort_tensor })
      return memory.decide(out.logits.data, out.embedding.data, params)
    }
    // ---
    expect(k).toBeGreaterThan(0)
    const reference = await ours.classify(texts, { explain: true, params: { k } })
    for (const [i, text] of texts.entries()) {
      const d = await decideOne(text)
      const r = reference[i]
      expect(d.neighbors.map((h) => h.row), text.slice(0, 60)).toEqual(r.neighbors!.map((n) => n.row))
      expect(manifest.labels[d.label]).toBe(r.label)
      expect(manifest.labels[d.baseLabel]).toBe(r.base.label)
    }
  })
})
