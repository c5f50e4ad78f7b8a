// POST /v1/classify through the whole worker: the staged bundle from Workers Static Assets, onnxruntime-web
// in workerd, the SIMD k-NN kernel.
import { beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/memory/manifest.ts'
import type { Classification } from '../../src/types.ts'
import { Classification as ClassificationSchema, ClassifyResults } from '../../workers/schemas.ts'
import { MODEL, postJson, worker } from './helpers.ts'

const TEXTS = [
  'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!',
  'Hi Tom, the meeting moved to Thursday at 10am. Can you send me the slides before then? Thanks, Anna',
  'Alle Menschen sind frei und gleich an Würde und Rechten geboren.',
  'Tous les êtres humains naissent libres et égaux en dignité et en droits.',
]

let manifest: Manifest

beforeAll(async () => {
  const res = await worker('/healthz')
  if (res.status !== 200) throw new Error(`the worker cannot load its model: ${await res.text()}`)
  manifest = (await (await worker('/v1/model')).json()) as Manifest
})

async function classify(body: unknown, query = ''): Promise<Response> {
  return worker(`/v1/classify${query}`, postJson(body))
}

function expectProbabilities(result: Classification, labels: readonly string[]) {
  expect(result.scores.map((s) => s.label).sort()).toEqual([...labels].sort())
  const scores = result.scores.map((s) => s.score)
  expect(scores).toEqual([...scores].sort((a, b) => b - a))
  expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
  for (const s of scores) expect(s).toBeGreaterThanOrEqual(0)
  expect(result.label).toBe(result.scores[0].label)
  expect(result.score).toBe(result.scores[0].score)
  expect(labels).toContain(result.base.label)
  expect(result.base.score).toBe(Math.max(...result.base.scores.map((s) => s.score)))
}

describe('POST /v1/classify', () => {
  it('{"text"} answers one result object', async () => {
    const res = await classify({ text: TEXTS[0] })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const result = (await res.json()) as Classification
    expect(ClassificationSchema.safeParse(result).success).toBe(true)
    expectProbabilities(result, manifest.labels)
    expect(result.truncated).toBe(false)
    expect(result).not.toHaveProperty('neighbors')
  })

  it('{"texts"} answers {"results"} in input order, equal to one-by-one calls', async () => {
    const res = await classify({ texts: TEXTS })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { results: Classification[] }
    expect(ClassifyResults.safeParse(body).success).toBe(true)
    expect(body.results).toHaveLength(TEXTS.length)
    for (const [i, text] of TEXTS.entries()) {
      const single = (await (await classify({ text })).json()) as Classification
      expect(body.results[i].label).toBe(single.label)
      // Padding in a batch changes float rounding only.
      for (const [j, s] of single.scores.entries()) expect(body.results[i].scores.find((x) => x.label === s.label)!.score).toBeCloseTo(single.scores[j].score, 5)
    }
  })

  it('?explain=1 adds the k neighbours with row, label, similarity and weight', async () => {
    // The tuned k, asked for: the shipped memory may be off (served k = 0; manifest memory.decision).
    const k = manifest.tuning.best.k
    const body = (await (await classify({ texts: TEXTS.slice(0, 2) }, `?explain=1&k=${k}`)).json()) as { results: Classification[] }
    for (const result of body.results) {
      const neighbors = result.neighbors!
      expect(neighbors).toHaveLength(Math.min(k, manifest.memory.rows))
      for (const n of neighbors) {
        expect(n.source).toBe('built')
        expect(Number.isInteger(n.row) && n.row! >= 0 && n.row! < manifest.memory.rows).toBe(true)
        expect(manifest.labels).toContain(n.label)
        expect(Math.abs(n.similarity)).toBeLessThanOrEqual(1)
        expect(n.weight).toBeGreaterThan(0)
      }
      const sims = neighbors.map((n) => n.similarity)
      expect(sims).toEqual([...sims].sort((a, b) => b - a))
      expect(neighbors.reduce((s, n) => s + n.weight, 0)).toBeCloseTo(1, 6)
    }
    const plain = (await (await classify({ text: TEXTS[0] }, '?explain=0')).json()) as Classification
    expect(plain).not.toHaveProperty('neighbors')
  })

  it('?k=0 answers with the base model alone; a bad k is a 400', async () => {
    const result = (await (await classify({ text: TEXTS[1] }, '?k=0&explain=1')).json()) as Classification
    expect(result.label).toBe(result.base.label)
    expect(result.score).toBeCloseTo(result.base.score, 6)
    expect(result.neighbors).toEqual([])
    for (const bad of ['-1', '257', '1.5', 'x']) {
      const res = await classify({ text: TEXTS[1] }, `?k=${bad}`)
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request')
    }
  })

  it('marks a text longer than the model takes as truncated', async () => {
    const long = Array.from({ length: manifest.model.maxLength * 2 }, (_, i) => `word${i}`).join(' ')
    const result = (await (await classify({ text: long })).json()) as Classification
    expect(result.truncated).toBe(true)
  })

  it('classifies a one-letter text and unicode without error (an empty text is a 400: input.test.ts)', async () => {
    const body = (await (await classify({ texts: ['x', '🙂 ñ 中文 \u0000'] })).json()) as { results: Classification[] }
    expect(body.results).toHaveLength(2)
  })

  it.runIf(MODEL === 'spam')('spam: a prize mail is spam, a meeting note is not', async () => {
    const body = (await (await classify({ texts: TEXTS.slice(0, 2) })).json()) as { results: Classification[] }
    expect(body.results[0].label).toBe('spam')
    expect(body.results[1].label).not.toBe('spam')
  })
})
