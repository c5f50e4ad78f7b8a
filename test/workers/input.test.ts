// Bad and odd input against the real worker (the staged bundle, onnxruntime-web in workerd): every case gets a
// 4xx JSON error `{"error": {"code", "message"}}` or a correct answer, never a 5xx, and the worker answers a
// good request right after it. Decisions this pins down (README "Operations and security"):
// - an empty or whitespace-only text is a 400 (nothing to classify), also inside a batch (`texts.i`);
// - unknown body fields and unknown query parameters are 400s (strict), so a typo cannot change an answer;
// - a text longer than the model's maximum tokens is cut and answered with `truncated: true`.
import { beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/memory/manifest.ts'
import type { Classification } from '../../src/types.ts'
import { modelStaged, postJson, worker } from './helpers.ts'

const MAX_BODY_BYTES = 1 << 20 // wrangler.toml
const MAX_BATCH = 32 // wrangler.toml
const GOOD = 'Hi Tom, the meeting moved to Thursday at 10am. Can you send me the slides before then?'

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] }
}

let manifest: Manifest

beforeAll(async () => {
  if (!modelStaged) throw new Error('test/workers/input.test.ts needs the staged bundle: run `npm run build:worker`')
  const res = await worker('/healthz')
  if (res.status !== 200) throw new Error(`the worker cannot load its model: ${await res.text()}`)
  manifest = (await (await worker('/v1/model')).json()) as Manifest
})

/** A bad request: its status and code, the JSON error shape, and a good request answered right after. */
async function expectRejected(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await res.json()) as ErrorBody
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code })
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  expect(body.error.message).toEqual(expect.any(String))
  expect(body.error.message.length).toBeGreaterThan(0)
  await expectServing()
  return body.error
}

/** A correct answer to `count` texts (one object for `text`, `{results}` for `texts`), then a good request. */
async function expectAnswered(res: Response, count = 1): Promise<Classification[]> {
  expect(res.status, await res.clone().text()).toBe(200)
  const body = (await res.json()) as Classification | { results: Classification[] }
  const results = 'results' in body ? body.results : [body]
  expect(results).toHaveLength(count)
  for (const r of results) {
    expect(manifest.labels).toContain(r.label)
    expect(r.scores.reduce((s, x) => s + x.score, 0)).toBeCloseTo(1, 6)
    expect(typeof r.truncated).toBe('boolean')
  }
  await expectServing()
  return results
}

async function expectServing(): Promise<void> {
  const res = await worker('/v1/classify', postJson({ text: GOOD }))
  expect(res.status).toBe(200)
  expect(((await res.json()) as Classification).label).toEqual(expect.any(String))
}

const classify = (body: unknown, query = '') => worker(`/v1/classify${query}`, postJson(body))
const raw = (body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }) => worker('/v1/classify', { method: 'POST', headers, body })

/**
 * `bytes` bytes of a JSON body, written in 64 KiB chunks into a stream without a Content-Length of its own.
 * The worker stops reading at its limit; the writes it never takes fail here, quietly, as a client's would.
 */
function streamed(bytes: number): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream()
  const writer = writable.getWriter()
  void (async () => {
    const chunk = new Uint8Array(65536).fill(0x20)
    chunk.set(new TextEncoder().encode('{"text":"'))
    for (let sent = 0; sent < bytes; sent += chunk.length) await writer.write(chunk)
    await writer.close()
  })().catch(() => undefined)
  return readable
}

describe('the body is not usable JSON', () => {
  it.each([
    ['plain words', 'hello world'],
    ['cut short', '{"text": "hi'],
    ['empty', ''],
    ['a trailing comma', '{"text": "hi",}'],
    ['single quotes', "{'text': 'hi'}"],
    ['NaN', '{"text": NaN}'],
  ])('%s: 400 invalid_json', async (_, body) => {
    await expectRejected(await raw(body), 400, 'invalid_json')
  })

  it('invalid UTF-8 inside a string is decoded with U+FFFD and answered', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"text":"caf'), 0xc3, 0x28, 0xff, 0xfe, ...new TextEncoder().encode(' ok"}')])
    await expectAnswered(await raw(bytes))
  })

  it('a UTF-8 byte order mark before the JSON is skipped (the Fetch body decoder drops it)', async () => {
    await expectAnswered(await raw(`\ufeff${JSON.stringify({ text: GOOD })}`))
  })
})

describe('the content type is not JSON', () => {
  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['a near miss', 'application/jsonx'],
    ['xml', 'application/xml'],
  ])('%s: 415 unsupported_media_type', async (_, type) => {
    const err = await expectRejected(await raw(JSON.stringify({ text: GOOD }), { 'content-type': type }), 415, 'unsupported_media_type')
    expect(err.message).toContain(type)
  })

  it('no content type: 415', async () => {
    await expectRejected(await worker('/v1/classify', { method: 'POST', body: new TextEncoder().encode(JSON.stringify({ text: GOOD })) }), 415, 'unsupported_media_type')
  })

  it('JSON with parameters or a +json suffix is accepted', async () => {
    await expectAnswered(await raw(JSON.stringify({ text: GOOD }), { 'content-type': 'Application/JSON; charset=UTF-8' }))
    await expectAnswered(await raw(JSON.stringify({ text: GOOD }), { 'content-type': 'application/vnd.resmem+json' }))
  })
})

describe('missing, empty and mistyped fields', () => {
  it.each([
    ['no field', {}, 'body'],
    ['empty text', { text: '' }, 'text'],
    ['whitespace text', { text: ' \t\r\n ' }, 'text'],
    ['unicode whitespace text', { text: '\u00a0\u2003\u3000\u2028\ufeff' }, 'text'],
    ['a blank text in a batch', { texts: ['fine', '   '] }, 'texts.1'],
    ['text null', { text: null }, 'text'],
    ['text a number', { text: 7 }, 'text'],
    ['text a boolean', { text: true }, 'text'],
    ['text an array', { text: ['a'] }, 'text'],
    ['text an object', { text: { text: 'a' } }, 'text'],
    ['texts a string', { texts: 'a' }, 'texts'],
    ['texts null', { texts: null }, 'texts'],
    ['texts empty', { texts: [] }, 'texts'],
    ['texts with a number', { texts: ['a', 1] }, 'texts.1'],
    ['texts with an object', { texts: [{ text: 'a' }] }, 'texts.0'],
    ['texts nested', { texts: [['a']] }, 'texts.0'],
    ['text and texts', { text: 'a', texts: ['b'] }, 'body'],
    ['an unknown field', { text: 'a', lang: 'en' }, 'lang'],
    ['a misspelled field', { txt: 'a' }, 'txt'],
    ['__proto__ as a field', JSON.parse('{"text":"a","__proto__":{"polluted":1}}'), '__proto__'],
    ['a top-level array', ['a'], 'body'],
    ['a top-level string', '"a"', 'body'],
    ['a top-level number', '42', 'body'],
    ['a top-level null', 'null', 'body'],
  ])('%s: 400 invalid_request at %j', async (_, body, path) => {
    const err = await expectRejected(await classify(body), 400, 'invalid_request')
    expect(err.details?.map((d) => d.path)).toContain(path)
    expect(err.message.startsWith(`${err.details?.[0].path}: `)).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('the blank-text 400 says why', async () => {
    const err = await expectRejected(await classify({ text: '  ' }), 400, 'invalid_request')
    expect(err.message).toBe('text: must contain a non-whitespace character')
  })

  it('deeply nested JSON (100k levels) is a 400, not a stack overflow', async () => {
    const depth = 100_000
    await expectRejected(await raw(`{"text":${'['.repeat(depth)}${']'.repeat(depth)}}`), 400, 'invalid_request')
    await expectRejected(await raw(`{"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`), 400, 'invalid_request')
  })

  it('a duplicated key keeps the last value, as JSON.parse does', async () => {
    await expectAnswered(await raw(`{"text":"", "text":${JSON.stringify(GOOD)}}`))
  })
})

describe('sizes', () => {
  it(`a 10 MB body with its Content-Length: 413 before it is read`, async () => {
    const body = JSON.stringify({ text: 'x'.repeat(10_000_000) })
    const err = await expectRejected(await raw(body), 413, 'payload_too_large')
    expect(err.message).toBe(`the body is over ${MAX_BODY_BYTES} bytes`)
  })

  it('a 10 MB body streamed without a Content-Length: 413 once the limit is passed', async () => {
    await expectRejected(await worker('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamed(10_000_000) }), 413, 'payload_too_large')
  })

  it('a 10 MB body whose Content-Length claims 20 bytes: 413, the stream is counted, not the header', async () => {
    const init = { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '20' }, body: streamed(10_000_000) }
    await expectRejected(await worker('/v1/classify', init), 413, 'payload_too_large')
  })

  it('a Content-Length over the limit with a small body: 413', async () => {
    await expectRejected(await raw(JSON.stringify({ text: GOOD }), { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) }), 413, 'payload_too_large')
  })

  it('a body just under the limit is read and answered (one text of ~1 MB, truncated)', async () => {
    const text = 'free money click here '.repeat(Math.floor((MAX_BODY_BYTES - 20) / 22))
    expect(JSON.stringify({ text }).length).toBeLessThanOrEqual(MAX_BODY_BYTES)
    const [result] = await expectAnswered(await classify({ text }))
    expect(result.truncated).toBe(true)
  })

  it(`a batch of ${MAX_BATCH + 1} texts: 400 at "texts"; ${MAX_BATCH} are answered`, async () => {
    const texts = Array.from({ length: MAX_BATCH + 1 }, (_, i) => `message number ${i}`)
    const err = await expectRejected(await classify({ texts }), 400, 'invalid_request')
    expect(err.details).toEqual([{ path: 'texts', message: `at most ${MAX_BATCH} texts per request, got ${MAX_BATCH + 1}` }])
    await expectAnswered(await classify({ texts: texts.slice(0, MAX_BATCH) }), MAX_BATCH)
  })

  it("texts longer than the model's maximum tokens are cut and say so; short ones do not", async () => {
    const long = Array.from({ length: manifest.model.maxLength * 3 }, (_, i) => `word${i}`).join(' ')
    const results = await expectAnswered(await classify({ texts: [long, GOOD, `${GOOD} `.repeat(200)] }), 3)
    expect(results.map((r) => r.truncated)).toEqual([true, false, true])
  })
})

describe('unicode edge cases are classified', () => {
  it.each([
    ['emoji', '🙂🎉 free 🎁 prize 👍🏽 🇩🇪 👨‍👩‍👧‍👦'],
    ['emoji only', '🎁🎁🎁🎁'],
    ['right-to-left', 'مرحبا، هل وصلتك الرسالة؟ שלום, מה שלומך?'],
    ['bidi overrides', '\u202egnp.exe\u202c invoice \u2066attached\u2069'],
    ['NUL and control characters', 'a\u0000b\u0001c\u001f\u007f'],
    ['only NUL', '\u0000'],
    ['a lone high surrogate', 'abc \ud800 def'],
    ['a lone low surrogate', '\udfff'],
    ['a reversed surrogate pair', '\udc00\ud800'],
    ['combining marks', `e${'\u0301'.repeat(500)} Z\u0351\u0352\u0357\u0358`],
    ['zero-width characters', '\u200b\u200c\u200d\u2060'],
    ['noncharacters and private use', '\uffff\ufffe\ue000\u{10ffff}'],
    ['CJK and Devanagari', '免费领取大奖 मुफ्त इनाम पाएं'],
  ])('%s', async (_, text) => {
    await expectAnswered(await classify({ text }))
  })

  it('escaped lone surrogates in the JSON source too', async () => {
    await expectAnswered(await raw('{"texts":["\\ud800","\\udfff x","\\udc00\\ud800"]}'), 3)
  })
})

describe('query parameters', () => {
  it.each([
    ['an unknown parameter', '?lang=en', 'lang'],
    ['a misspelled one', '?explian=1', 'explian'],
    ['a case variant', '?K=0', 'K'],
    ['a repeated one', '?explain=1&explain=0', 'explain'],
    ['a bad value', '?explain=yes', 'explain'],
    ['k out of range', '?k=257', 'k'],
    ['k with a NUL', '?k=1%00', 'k'],
  ])('%s: 400 invalid_request at its name', async (_, query, path) => {
    const err = await expectRejected(await classify({ text: GOOD }, query), 400, 'invalid_request')
    expect(err.details?.[0].path).toBe(path)
  })

  it('an unknown parameter says it is unknown', async () => {
    const err = await expectRejected(await classify({ text: GOOD }, '?cache=123'), 400, 'invalid_request')
    expect(err.details).toEqual([{ path: 'cache', message: 'unknown query parameter' }])
  })

  it('a long query string (8 KiB) is a 400', async () => {
    await expectRejected(await classify({ text: GOOD }, `?${'a'.repeat(8192)}=1`), 400, 'invalid_request')
  })

  it('the known ones still work: ?explain=1&k=3', async () => {
    const [result] = await expectAnswered(await classify({ text: GOOD }, '?explain=1&k=3'))
    expect(result.neighbors).toHaveLength(3)
  })
})

describe('methods and routes', () => {
  it.each([
    ['GET', '/v1/classify', 'POST'],
    ['PUT', '/v1/classify', 'POST'],
    ['DELETE', '/v1/classify', 'POST'],
    ['PATCH', '/v1/classify', 'POST'],
    ['OPTIONS', '/v1/classify', 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['POST', '/v1/model', 'GET, HEAD'],
    ['PUT', '/openapi.json', 'GET, HEAD'],
    ['POST', '/', 'GET, HEAD'],
  ])('%s %s: 405 with Allow: %s', async (method, path, allow) => {
    const res = await worker(path, { method, ...(method === 'GET' || method === 'HEAD' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }) })
    expect(res.headers.get('allow')).toBe(allow)
    await expectRejected(res, 405, 'method_not_allowed')
  })

  it.each(['/v2/classify', '/v1/classify/extra', '/v1/classify/', '/V1/CLASSIFY', '/v1', '/%00', '/..%2f..%2fetc%2fpasswd', '/spam/memory.bin', `/${'a'.repeat(4000)}`])(
    'GET %s: 404 not_found',
    async (path) => {
      await expectRejected(await worker(path), 404, 'not_found')
    },
  )

  it('POST to an unknown route: 404', async () => {
    await expectRejected(await worker('/v1/classify-batch', postJson({ text: GOOD })), 404, 'not_found')
  })
})
