// The compatible routes' edges (workers/compat) with a stand-in model: each answers errors in the shape its
// client parses, whatever raised them (validation, MAX_BATCH, the body limit, the bearer token, the vars).
// The real clients against the real worker: test/workers-node/clients.test.ts.
import { describe, expect, it } from 'vitest'
import { createApp } from '../../workers/app.ts'
import { env, fakeModel } from './helpers.ts'

const app = createApp({ loader: async () => fakeModel() })
const TOKEN = 'rsm_test_compat_0123456789abcdef'
const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
const ask = async (path: string, init: RequestInit, vars: object = {}) => {
  const res = await app.request(path, init, { ...env, ...vars })
  return { status: res.status, body: (await res.json()) as any }
}

describe('/v1/hf', () => {
  it('one list per input, highest first; top_k keeps the first k', async () => {
    const { status, body } = await ask('/v1/hf', post({ inputs: ['ab', 'abc'], parameters: { top_k: 1 } }))
    expect(status).toBe(200)
    expect(body).toEqual([[{ label: 'a', score: 0.75 }], [{ label: 'b', score: 0.75 }]])
    expect((await ask('/v1/hf', post({ inputs: 'ab' }))).body).toEqual([[{ label: 'a', score: 0.75 }, { label: 'b', score: 0.25 }]])
  })

  it('errors as {error: message, error_type: code}: MAX_BATCH, a bad field, the body limit, the token', async () => {
    expect(await ask('/v1/hf', post({ inputs: ['a', 'b', 'c'] }), { MAX_BATCH: '2' })).toEqual({
      status: 400,
      body: { error: 'inputs: at most 2 texts per request, got 3', error_type: 'invalid_request', details: [{ path: 'inputs', message: 'at most 2 texts per request, got 3' }] },
    })
    expect((await ask('/v1/hf', post({ inputs: 'a', parameters: { top_k: 0 } }))).body.error).toMatch(/^parameters\.top_k: /)
    expect((await ask('/v1/hf', post({ inputs: 'x'.repeat(2000) }), { MAX_BODY_BYTES: '1000' })).body).toMatchObject({ error_type: 'payload_too_large' })
    expect(await ask('/v1/hf', post({ inputs: 'a' }), { API_TOKEN: TOKEN })).toEqual({ status: 401, body: { error: 'a valid bearer token is required', error_type: 'unauthorized' } })
    expect((await ask('/v1/hf', post({ inputs: 'a' }, { authorization: `Bearer ${TOKEN}` }), { API_TOKEN: TOKEN })).status).toBe(200)
  })
})

describe('/v1/workers-ai', () => {
  it('the model in the path may hold encoded slashes; only the served bundle answers', async () => {
    const path = (model: string) => `/v1/workers-ai/accounts/acc/ai/run/${encodeURIComponent(model)}`
    expect(await ask(path('spam'), post({ text: 'ab' }))).toEqual({ status: 200, body: { result: [{ label: 'a', score: 0.75 }, { label: 'b', score: 0.25 }], success: true, errors: [], messages: [] } })
    expect(await ask(path('@cf/huggingface/distilbert-sst-2-int8'), post({ text: 'ab' }))).toEqual({
      status: 404,
      body: { result: null, success: false, errors: [{ code: 404, message: 'model_not_found: model "@cf/huggingface/distilbert-sst-2-int8" is not served here: this worker serves "spam"' }], messages: [] },
    })
    expect((await ask(path('spam'), post({ text: 'ab', max_tokens: 3 }))).body.errors[0].message).toBe('invalid_request: max_tokens: unknown field')
  })
})

describe('/v1/openai/moderations', () => {
  it('a label of MODERATION_LABELS is flagged when it is the answer', async () => {
    const { status, body } = await ask('/v1/openai/moderations', post({ input: ['ab', 'abc'] }), { MODERATION_LABELS: 'b' })
    expect(status).toBe(200)
    expect(body.id).toMatch(/^modr-/)
    expect(body.results).toEqual([
      { flagged: false, categories: { a: false, b: false }, category_scores: { a: 0.75, b: 0.25 } },
      { flagged: true, categories: { a: false, b: true }, category_scores: { a: 0.25, b: 0.75 } },
    ])
  })

  it('fails closed: 501 while MODERATION_LABELS is unset, 500 when it names a label the model lacks', async () => {
    expect(await ask('/v1/openai/moderations', post({ input: 'ab' }))).toEqual({
      status: 501,
      body: { error: { message: 'set MODERATION_LABELS to the labels that count as flagged (comma-separated, e.g. "spam")', type: 'not_configured', code: 'not_configured', param: null } },
    })
    const wrong = await ask('/v1/openai/moderations', post({ input: 'ab' }), { MODERATION_LABELS: 'b, toxic' })
    expect(wrong.status).toBe(500)
    expect(wrong.body.error).toMatchObject({ code: 'misconfigured', message: 'MODERATION_LABELS names "toxic", not a label of the model (a, b)' })
  })

  it('rejects what it cannot read (images) with the field as param', async () => {
    const { status, body } = await ask('/v1/openai/moderations', post({ input: [{ type: 'image_url', image_url: { url: 'https://x' } }] }), { MODERATION_LABELS: 'b' })
    expect(status).toBe(400)
    expect(body.error).toMatchObject({ code: 'invalid_request', type: 'invalid_request' })
    expect(body.error.param).toMatch(/^input/)
  })
})
