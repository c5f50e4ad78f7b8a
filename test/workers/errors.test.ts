import { describe, expect, it, vi } from 'vitest'
import { createApp } from '../../workers/app.ts'
import type { Bindings } from '../../workers/env.ts'
import { env, fakeModel, postJson } from './helpers.ts'

const app = createApp({ loader: async () => fakeModel() })
const request = (path: string, init?: RequestInit, vars: Partial<Bindings> = {}) => app.request(path, init, { ...env, ...vars })

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as { error: { code: string; message: string; details?: { path: string; message: string }[] } }
  expect(body.error.code).toBe(code)
  expect(body.error.message).toEqual(expect.any(String))
  return body.error
}

describe('request errors are JSON with a fitting status', () => {
  it('415 for a body that is not JSON', async () => {
    const err = await expectError(await request('/v1/classify', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }), 415, 'unsupported_media_type')
    expect(err.message).toContain('text/plain')
    await expectError(await request('/v1/classify', { method: 'POST', body: '{"text":"hi"}' }), 415, 'unsupported_media_type')
  })

  it('accepts a charset parameter on the JSON media type', async () => {
    const res = await request('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"text":"hi"}' })
    expect(res.status).toBe(200)
  })

  it('400 invalid_json for malformed or empty JSON', async () => {
    await expectError(await request('/v1/classify', postJson('{"text": ')), 400, 'invalid_json')
    await expectError(await request('/v1/classify', postJson('')), 400, 'invalid_json')
  })

  it('400 invalid_request names the failing field path', async () => {
    const err = await expectError(await request('/v1/classify', postJson({ texts: ['ok', 42] })), 400, 'invalid_request')
    expect(err.details).toEqual([{ path: 'texts.1', message: expect.stringContaining('string') }])
    expect(err.message).toMatch(/^texts\.1: /)
  })

  it('400 for an unknown field, both or neither of text/texts, an empty batch, a wrong type', async () => {
    const unknown = await expectError(await request('/v1/classify', postJson({ text: 'a', lang: 'en' })), 400, 'invalid_request')
    expect(unknown.details).toEqual([{ path: 'lang', message: 'unknown field' }])
    const both = await expectError(await request('/v1/classify', postJson({ text: 'a', texts: ['b'] })), 400, 'invalid_request')
    expect(both.message).toContain('exactly one of')
    await expectError(await request('/v1/classify', postJson({})), 400, 'invalid_request')
    const empty = await expectError(await request('/v1/classify', postJson({ texts: [] })), 400, 'invalid_request')
    expect(empty.details?.[0].path).toBe('texts')
    const wrong = await expectError(await request('/v1/classify', postJson({ text: 7 })), 400, 'invalid_request')
    expect(wrong.details?.[0].path).toBe('text')
    await expectError(await request('/v1/classify', postJson([1, 2])), 400, 'invalid_request')
    await expectError(await request('/v1/classify', postJson('null')), 400, 'invalid_request')
  })

  it('400 for a bad explain query value', async () => {
    const err = await expectError(await request('/v1/classify?explain=yes', postJson({ text: 'a' })), 400, 'invalid_request')
    expect(err.details?.[0].path).toBe('explain')
  })

  it('400 for more texts than MAX_BATCH', async () => {
    const texts = ['a', 'b', 'c']
    const err = await expectError(await request('/v1/classify', postJson({ texts }), { MAX_BATCH: '2' }), 400, 'invalid_request')
    expect(err.details).toEqual([{ path: 'texts', message: 'at most 2 texts per request, got 3' }])
    expect((await request('/v1/classify', postJson({ texts: texts.slice(0, 2) }), { MAX_BATCH: '2' })).status).toBe(200)
  })

  it('the default batch limit is 32', async () => {
    const texts = Array.from({ length: 33 }, (_, i) => `t${i}`)
    await expectError(await request('/v1/classify', postJson({ texts }), { MAX_BATCH: undefined }), 400, 'invalid_request')
    expect((await request('/v1/classify', postJson({ texts: texts.slice(1) }), { MAX_BATCH: undefined })).status).toBe(200)
  })

  it('413 for a body over MAX_BODY_BYTES', async () => {
    const err = await expectError(await request('/v1/classify', postJson({ text: 'x'.repeat(200) }), { MAX_BODY_BYTES: '100' }), 413, 'payload_too_large')
    expect(err.message).toContain('100 bytes')
  })

  it('413 for a body that passes MAX_BODY_BYTES while streaming, whatever its Content-Length claims', async () => {
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new TextEncoder().encode('{"text":"' + 'x'.repeat(1000))),
    })
    const init = { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '10' }, body, duplex: 'half' } as RequestInit
    await expectError(await request('/v1/classify', init, { MAX_BODY_BYTES: '5000' }), 413, 'payload_too_large')
  })

  it('400 bad_request for a body that breaks off (the client went away), not a 5xx', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent) return c.error(new Error('Network connection lost.'))
        sent = true
        c.enqueue(new TextEncoder().encode('{"text":"half'))
      },
    })
    const err = await expectError(await request('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit), 400, 'bad_request')
    expect(err.message).toBe('the body could not be read to its end (Network connection lost.)')
    expect(log).not.toHaveBeenCalled()
    log.mockRestore()
  })

  it('404 for an unknown path, also for the bundle files behind the assets binding', async () => {
    const err = await expectError(await request('/v2/classify'), 404, 'not_found')
    expect(err.message).toBe('no route for GET /v2/classify')
  })

  it('405 with an Allow header for a known path and the wrong method', async () => {
    const get = await request('/v1/classify')
    await expectError(get, 405, 'method_not_allowed')
    expect(get.headers.get('allow')).toBe('POST')
    const del = await request('/healthz', { method: 'DELETE' })
    await expectError(del, 405, 'method_not_allowed')
    expect(del.headers.get('allow')).toBe('GET, HEAD')
  })

  it('HEAD works wherever GET does', async () => {
    const res = await request('/healthz', { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
  })

  it('500 misconfigured for an unusable var, naming it', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    const err = await expectError(await request('/healthz', undefined, { MAX_BATCH: 'lots' }), 500, 'misconfigured')
    expect(err.message).toContain('MAX_BATCH')
    await expectError(await request('/healthz', undefined, { MODEL: '../secrets' }), 500, 'misconfigured')
    expect(log).toHaveBeenCalledTimes(2)
    log.mockRestore()
  })

  it('500 internal_error without internals when classification throws (logged, not answered)', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    const broken = createApp({ loader: async () => fakeModel({ classify: async () => Promise.reject(new Error('tensor shape [1,9] secret detail')) }) })
    const res = await broken.request('/v1/classify', postJson({ text: 'a' }), env)
    const err = await expectError(res, 500, 'internal_error')
    expect(err.message).not.toContain('secret')
    expect(String(log.mock.calls[0][1])).toContain('secret detail')
    log.mockRestore()
  })
})
