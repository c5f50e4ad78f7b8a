// The clients people already call for text classification, unchanged but for a URL, against the real worker
// (wrangler's unstable_startWorker, workerd) with a secret API_TOKEN as a deployment would have:
// - @huggingface/inference's textClassification with endpointUrl = <worker>/v1/hf;
// - the cloudflare SDK's ai.run with baseURL = <worker>/v1/workers-ai (the Workers AI REST path and envelope);
// - the openai SDK's moderations.create with baseURL = <worker>/v1/openai (MODERATION_LABELS = "spam").
// Each answer is compared with POST /v1/classify for the same text; each client's errors carry ours.
import { InferenceClient, InferenceClientProviderApiError } from '@huggingface/inference'
import Cloudflare from 'cloudflare'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Classification } from '../../src/types.ts'
import { startWorker, type StartedWorker } from './worker.ts'

const MODEL = process.env.MODEL || 'spam'
const TOKEN = 'rsm_test_clients_0123456789abcdef'
const SPAM = 'WIN a FREE cruise!!! Click here to claim your prize now'
const HAM = 'Hi Tom, the meeting moved to Thursday at 10am. Can you send me the slides before then? Thanks, Anna'
let started: { worker: StartedWorker; url: URL }
let base: string

beforeAll(async () => {
  started = await startWorker({ MODEL, MODERATION_LABELS: 'spam' }, { secrets: { API_TOKEN: TOKEN } })
  base = started.url.origin
})

afterAll(async () => {
  await started?.worker.dispose()
})

async function classify(text: string): Promise<Classification> {
  const res = await fetch(`${base}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ text }) })
  expect(res.status).toBe(200)
  return (await res.json()) as Classification
}

const pairs = (c: Classification) => c.scores.map(({ label, score }) => ({ label, score }))

/** POST /v1/classify with {texts}: a batch runs together, as a batch through a compatible route does (padding moves the last bits). */
async function classifyBatch(texts: string[]): Promise<Classification[]> {
  const res = await fetch(`${base}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ texts }) })
  expect(res.status).toBe(200)
  return ((await res.json()) as { results: Classification[] }).results
}

describe('@huggingface/inference textClassification', () => {
  const hf = new InferenceClient(TOKEN)
  const endpointUrl = () => `${base}/v1/hf`

  it('returns our labels and scores, highest first; top_k keeps the first k', async () => {
    const ours = await classify(SPAM)
    expect(await hf.textClassification({ endpointUrl: endpointUrl(), inputs: SPAM })).toEqual(pairs(ours))
    const top = await hf.textClassification({ endpointUrl: endpointUrl(), inputs: SPAM, parameters: { top_k: 1 } })
    expect(top).toEqual(pairs(ours).slice(0, 1))
    if (MODEL === 'spam') expect(top[0].label).toBe('spam')
  })

  it('batch inputs: the route answers one list per input (the client, typed for one string, returns the first)', async () => {
    const res = await fetch(endpointUrl(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ inputs: [SPAM, HAM], parameters: { top_k: 2 } }) })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual((await classifyBatch([SPAM, HAM])).map((c) => pairs(c).slice(0, 2)))
    // What the client itself makes of a batch: the first input's list.
    expect(await hf.textClassification({ endpointUrl: endpointUrl(), inputs: [SPAM, HAM] as unknown as string })).toEqual(pairs((await classifyBatch([SPAM, HAM]))[0]))
  })

  it('its errors carry ours: a wrong token (401), an empty input and an unknown parameter (400)', async () => {
    const fail = (client: InferenceClient, args: Parameters<InferenceClient['textClassification']>[0]) => client.textClassification(args).then(() => undefined, (err: unknown) => err)
    const denied = await fail(new InferenceClient('rsm_wrong_0123456789abcdefgh'), { endpointUrl: endpointUrl(), inputs: SPAM })
    expect(denied).toBeInstanceOf(InferenceClientProviderApiError)
    expect((denied as Error).message).toBe('Failed to perform inference: a valid bearer token is required')
    expect((denied as InferenceClientProviderApiError).httpResponse.status).toBe(401)
    const empty = await fail(hf, { endpointUrl: endpointUrl(), inputs: '   ' })
    expect((empty as Error).message).toBe('Failed to perform inference: inputs: must contain a non-whitespace character')
    expect((empty as InferenceClientProviderApiError).httpResponse.status).toBe(400)
    const sigmoid = await fail(hf, { endpointUrl: endpointUrl(), inputs: SPAM, parameters: { function_to_apply: 'sigmoid' } })
    expect((sigmoid as Error).message).toContain('parameters.function_to_apply: only "softmax"')
  })
})

describe('cloudflare SDK ai.run (Workers AI REST shape)', () => {
  const cf = () => new Cloudflare({ apiToken: TOKEN, baseURL: `${base}/v1/workers-ai`, maxRetries: 0 })

  it('returns the text-classification result for the served model: [{label, score}], highest first', async () => {
    const result = await cf().ai.run(MODEL, { account_id: 'any-account', text: HAM })
    expect(result).toEqual(pairs(await classify(HAM)))
  })

  it('its APIError carries ours: an unserved model (404), a missing text (400), a wrong token (401)', async () => {
    const fail = (client: Cloudflare, model: string, body: object) => client.ai.run(model, { account_id: 'a', ...body } as never).then(() => undefined, (err: unknown) => err)
    const other = (await fail(cf(), '@cf/huggingface/distilbert-sst-2-int8', { text: HAM })) as InstanceType<typeof Cloudflare.APIError>
    expect(other).toBeInstanceOf(Cloudflare.NotFoundError)
    expect(other.errors).toEqual([{ code: 404, message: `model_not_found: model "@cf/huggingface/distilbert-sst-2-int8" is not served here: this worker serves "${MODEL}"` }])
    const missing = (await fail(cf(), MODEL, { prompt: HAM })) as InstanceType<typeof Cloudflare.APIError>
    expect(missing).toBeInstanceOf(Cloudflare.BadRequestError)
    expect(missing.errors[0].message).toMatch(/^invalid_request: /)
    const denied = await fail(new Cloudflare({ apiToken: 'rsm_wrong_0123456789abcdefgh', baseURL: `${base}/v1/workers-ai`, maxRetries: 0 }), MODEL, { text: HAM })
    expect(denied).toBeInstanceOf(Cloudflare.AuthenticationError)
  })
})

describe('openai SDK moderations.create', () => {
  const openai = () => new OpenAI({ apiKey: TOKEN, baseURL: `${base}/v1/openai`, maxRetries: 0 })

  it.runIf(MODEL === 'spam')('spam is flagged (MODERATION_LABELS), ham is not; category scores are our scores', async () => {
    const moderation = await openai().moderations.create({ input: [SPAM, HAM], model: 'omni-moderation-latest' })
    expect(moderation.results).toHaveLength(2)
    const [spam, ham] = moderation.results
    expect(spam.flagged).toBe(true)
    expect(spam.categories).toEqual({ spam: true, ham: false })
    expect(ham.flagged).toBe(false)
    const [ours] = await classifyBatch([SPAM, HAM])
    expect(spam.category_scores).toEqual(Object.fromEntries(ours.scores.map((s) => [s.label, s.score])))
  })

  it('its errors carry ours: an empty input (400, param named), a wrong token (401)', async () => {
    const bad = await openai().moderations.create({ input: '' }).then(() => undefined, (err: unknown) => err)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).message).toBe('400 input: must contain a non-whitespace character')
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input')
    const denied = await new OpenAI({ apiKey: 'rsm_wrong_0123456789abcdefgh', baseURL: `${base}/v1/openai`, maxRetries: 0 }).moderations.create({ input: HAM }).then(() => undefined, (err: unknown) => err)
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError)
    expect((denied as Error).message).toBe('401 a valid bearer token is required')
  })
})
