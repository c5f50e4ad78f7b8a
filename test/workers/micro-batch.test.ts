// Micro-batching inside workerd: the real bundle from the assets, onnxruntime-web's wasm build, the SIMD kernel.
// Texts of concurrent requests share onnxruntime runs, and every answer is the one the text gets alone.
import { describe, expect, it } from 'vitest'
// First: the app imports @hono/zod-openapi, which must extend zod before src/ creates its schemas.
import { env, MODEL, postJson } from './helpers.ts'
import '../../workers/schemas.ts'
import { createApp } from '../../workers/app.ts'
import { loadBundle } from '../../src/bundle/load.ts'
import { ResMemClassifier } from '../../src/classifier.ts'
import type { Classification } from '../../src/types.ts'
import { assetsSource } from '../../workers/assets.ts'
import { ORT_BATCH } from '../../workers/classifier.ts'
import { simdIndex } from '../../workers/knn.ts'
import { workerdOrt } from '../../workers/ort.ts'

const WORDS = ['offer', 'meeting', 'prize', 'invoice', 'lunch', 'click', 'report', 'free', 'weekend', 'account', 'urgent', 'draft']
/** Texts of a few lengths, several of each: long ones cut to the model's maximum tokens, short ones not. */
const TEXTS = Array.from({ length: 16 }, (_, i) => {
  const words = i % 4 === 0 ? 8 : i % 4 === 1 ? 30 : 600
  return Array.from({ length: words }, (_, w) => WORDS[(i * 7 + w * 5) % WORDS.length]).join(' ')
})

async function classifier(microBatch: boolean): Promise<ResMemClassifier> {
  const bundle = await loadBundle(assetsSource(env.ASSETS, MODEL))
  return ResMemClassifier.create(bundle, { ort: workerdOrt, createIndex: simdIndex, batchSize: ORT_BATCH, microBatch })
}

describe('micro-batching', () => {
  it('concurrent texts run together, and each answer equals the text classified alone', async () => {
    const alone = await classifier(false)
    const reference: Classification[] = []
    for (const text of TEXTS) reference.push((await alone.classify([text], { explain: true }))[0])

    const batched = await classifier(true)
    const answers = await Promise.all(TEXTS.map(async (text) => (await batched.classify([text], { explain: true }))[0]))
    expect(answers).toEqual(reference)
    const { runs, texts } = batched.microBatcher!.stats
    expect(texts).toBe(TEXTS.length)
    // 16 texts of a handful of token lengths, at most ORT_BATCH per run: far fewer runs than texts.
    expect(runs).toBeLessThanOrEqual(8)

    // One request of many texts: the same answers too (no text padded next to a longer one).
    expect(await batched.classify(TEXTS, { explain: true })).toEqual(reference)
  })

  it('through the worker (MICRO_BATCH=on): concurrent requests get the answers of sequential ones', async () => {
    // One app, one model: concurrent requests share its micro-batcher.
    const app = createApp()
    const one = async (text: string) => {
      const res = await app.request('/v1/classify', postJson({ text }), { ...env, MICRO_BATCH: 'on' })
      expect(res.status).toBe(200)
      return res.json()
    }
    const sequential: unknown[] = []
    for (const text of TEXTS) sequential.push(await one(text))
    expect(await Promise.all(TEXTS.map(one))).toEqual(sequential)
  })
})
