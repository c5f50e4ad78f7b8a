// Property tests against the real worker: whatever the body, content type, query, method or path, the answer
// is a 200 classification or a 4xx JSON error, never a 5xx, and the worker keeps serving. Seeded, so a run is
// reproducible; on a failure fast-check prints the counterexample and the seed/path to replay it.
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Classification } from '../../src/types.ts'
import { modelStaged, postJson, worker } from './helpers.ts'

const SEED = 20261126
const RUNS = 100

beforeAll(async () => {
  if (!modelStaged) throw new Error('test/workers/fuzz.test.ts needs the staged bundle: run `npm run build:worker`')
  expect((await worker('/healthz')).status).toBe(200)
})

/** Never a 5xx; a 4xx is the JSON error shape; a 200 from /v1/classify is a classification (or a batch). */
async function expectWellFormed(res: Response, allowed: number[], classify = true): Promise<void> {
  const text = await res.text()
  expect(allowed, `${res.status} ${text.slice(0, 300)}`).toContain(res.status)
  if (text === '') return // HEAD
  if (res.status >= 400) {
    const body = JSON.parse(text) as { error: { code: unknown; message: unknown } }
    expect(typeof body.error.code).toBe('string')
    expect(typeof body.error.message).toBe('string')
  } else if (classify) {
    const body = JSON.parse(text) as Classification | { results: Classification[] }
    for (const r of 'results' in body ? body.results : [body]) expect(typeof r.label).toBe('string')
  }
}

async function expectServing(): Promise<void> {
  const res = await worker('/v1/classify', postJson({ text: 'still there?' }))
  expect(res.status).toBe(200)
}

// Strings of any UTF-16 code units, lone surrogates included.
const anyString = fc.string({ unit: 'binary', maxLength: 80 })
const requestish = fc.record(
  {
    text: fc.oneof(anyString, fc.jsonValue({ maxDepth: 2 })),
    texts: fc.oneof(fc.array(anyString, { maxLength: 40 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
)
const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/octet-stream', '', 'application/json;;;', 'APPLICATION/JSON', '*/*'),
  fc.string({ maxLength: 40 }),
)

describe('random requests never get a 5xx', () => {
  it('random JSON values as the body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => {
        await expectWellFormed(await worker('/v1/classify', postJson(JSON.stringify(body))), [200, 400])
      }),
      { seed: SEED, numRuns: RUNS },
    )
    await expectServing()
  })

  it('random request-shaped objects: text, texts, an extra field, any types', async () => {
    await fc.assert(
      fc.asyncProperty(requestish, async (body) => {
        await expectWellFormed(await worker('/v1/classify', postJson(body)), [200, 400])
      }),
      { seed: SEED, numRuns: RUNS },
    )
    await expectServing()
  })

  it('random bytes under random content types', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), contentType, async (bytes, type) => {
        const headers = type ? { 'content-type': type } : undefined
        await expectWellFormed(await worker('/v1/classify', { method: 'POST', headers, body: bytes }), [200, 400, 415])
      }),
      { seed: SEED, numRuns: RUNS },
    )
    await expectServing()
  })

  it('random query strings on a valid body', async () => {
    const param = fc.tuple(fc.constantFrom('k', 'explain', 'K', 'text', ''), fc.string({ unit: 'grapheme', maxLength: 12 }))
    await fc.assert(
      fc.asyncProperty(fc.array(param, { maxLength: 4 }), async (params) => {
        const query = params.length ? `?${new URLSearchParams(params).toString()}` : ''
        await expectWellFormed(await worker(`/v1/classify${query}`, postJson({ text: 'a short note' })), [200, 400])
      }),
      { seed: SEED, numRuns: RUNS },
    )
    await expectServing()
  })

  it('random methods and paths', async () => {
    const segment = fc.oneof(fc.constantFrom('v1', 'classify', 'model', 'files', 'healthz', 'web', 'openapi.json', '..', '.', '%2e%2e', '%00', 'manifest.json', 'spam', ''), fc.webSegment())
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), fc.array(segment, { minLength: 1, maxLength: 5 }), async (method, segments) => {
        const body = method === 'GET' || method === 'HEAD' ? undefined : '{"text":"hi"}'
        const res = await worker(`/${segments.join('/')}`, { method, body, headers: body ? { 'content-type': 'application/json' } : undefined })
        // 200/304/206 for files and pages, 4xx otherwise; 503 is excluded too: the model is loaded.
        await expectWellFormed(res, [200, 206, 304, 400, 404, 405, 413, 415], false)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    await expectServing()
  })
})
