import { describe, expect, it } from 'vitest'
import { createApp } from '../../workers/app.ts'
import { lazyModel, ModelUnavailableError, type ServedModel } from '../../workers/classifier.ts'
import { settings } from '../../workers/env.ts'
import { env, fakeModel } from './helpers.ts'

describe('the model loads lazily, once per isolate', () => {
  it('concurrent first requests share one load', async () => {
    let loads = 0
    let release!: (m: ServedModel) => void
    const app = createApp({
      loader: () => {
        loads++
        return new Promise((resolve) => (release = resolve))
      },
    })
    const pending = Array.from({ length: 5 }, () => app.request('/healthz', undefined, env))
    await new Promise((r) => setTimeout(r, 10))
    release(fakeModel())
    const responses = await Promise.all(pending)
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
    expect((await app.request('/v1/model', undefined, env)).status).toBe(200)
    expect(loads).toBe(1)
  })

  it('a failed load answers 503 with the reason and Retry-After, and is retried after LOAD_RETRY_SECONDS', async () => {
    let loads = 0
    const app = createApp({
      loader: async () => {
        loads++
        if (loads === 1) throw new Error('memory.bin: no such file')
        return fakeModel()
      },
    })
    const vars = { ...env, LOAD_RETRY_SECONDS: '60' }
    const first = await app.request('/healthz', undefined, vars)
    expect(first.status).toBe(503)
    expect(first.headers.get('retry-after')).toBe('60')
    expect(await first.json()).toEqual({ error: { code: 'model_unavailable', message: 'the model could not be loaded: Error: memory.bin: no such file' } })
    // Within the retry window: the remembered reason, no new load.
    const again = await app.request('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a"}' }, vars)
    expect(again.status).toBe(503)
    expect(loads).toBe(1)
    // Window over (LOAD_RETRY_SECONDS=0): the next request loads again and succeeds.
    const later = await app.request('/healthz', undefined, { ...env, LOAD_RETRY_SECONDS: '0' })
    expect(later.status).toBe(200)
    expect(loads).toBe(2)
  })

  it('lazyModel keeps a failure for retryMs of its clock', async () => {
    let t = 1000
    let loads = 0
    const get = lazyModel(
      async () => {
        loads++
        throw Object.assign(new Error('bad'), { code: 'corrupt' })
      },
      { now: () => t },
    )
    const s = { ...settings(env), loadRetryMs: 5000 }
    await expect(get(env, s)).rejects.toThrow(ModelUnavailableError)
    await expect(get(env, s)).rejects.toMatchObject({ message: 'Error (corrupt): bad', retryAfter: 5 })
    t += 4000
    await expect(get(env, s)).rejects.toMatchObject({ retryAfter: 1 })
    expect(loads).toBe(1)
    t += 1000
    await expect(get(env, s)).rejects.toThrow('bad')
    expect(loads).toBe(2)
  })

  it('the real loader reports a missing bundle as 503 with the asset path', async () => {
    const app = createApp()
    const res = await app.request('/healthz', undefined, { ...env, MODEL: 'no-such-model' })
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('model_unavailable')
    expect(body.error.message).toContain('no-such-model/manifest.json')
    expect(body.error.message).toContain('missing_file')
  })
})
