// The browser side of the worker (workers/routes/web.ts): the demo page at `/`, the browser build at
// `/web/*` and the served bundle's files at `/v1/model/files/*`, all public with CORS `*`.
import { describe, expect, it } from 'vitest'
import { createApp } from '../../workers/app.ts'
import { env, fakeModel, MODEL, MODEL_FILE, worker } from './helpers.ts'

const app = createApp({ loader: async () => fakeModel() })
// `npm run build:worker` (which `npm test` runs first) stages the browser build; without it nothing here can pass.
const webStaged = (await env.ASSETS.fetch('http://assets/web/index.html')).ok

describe('the demo page and the browser build', () => {
  it('the browser build is staged in the assets (npm run build:worker)', () => {
    expect(webStaged, 'workers/build/assets/web/ is missing: run `npm run build:worker`').toBe(true)
  })

  it('GET / is the demo page, revalidated on every load', async () => {
    const res = await worker('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const html = await res.text()
    expect(html).toContain('<script type="module" src="/web/demo.js">')
    expect(html).toContain('aria-live')
  })

  it('GET /web/* serves the browser entry, its worker and the runtime files to any origin', async () => {
    for (const path of ['/web/resmem.js', '/web/worker.js', '/web/knn-simd.wasm', '/web/ort/ort-wasm-simd-threaded.wasm']) {
      const res = await worker(path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*')
      await res.arrayBuffer()
    }
    const js = await worker('/web/resmem.js')
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    expect(await js.text()).toContain('worker.js')
  })

  it('404 JSON for files outside the build, hidden files and traversal', async () => {
    for (const path of ['/web/nope.js', '/web/.env', '/web/../spam/manifest.json', '/web/%2e%2e/spam/manifest.json', '/v1/model/files/../web/index.html', '/v1/model/files/.hidden']) {
      const res = await app.request(path, undefined, env)
      expect(res.status, path).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('not_found')
    }
  })
})

describe('GET /v1/model/files/*', () => {
  it('PUBLIC_MODEL_FILES = "false" keeps them private', async () => {
    const res = await app.request('/v1/model/files/manifest.json', undefined, { ...env, PUBLIC_MODEL_FILES: 'false' })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('PUBLIC_MODEL_FILES')
  })

  it('a PUBLIC_MODEL_FILES other than "true" or "false" fails closed (500 misconfigured), never acts as unset', async () => {
    for (const value of ['False', 'no', '0', 'TRUE']) {
      const res = await app.request('/v1/model/files/manifest.json', undefined, { ...env, PUBLIC_MODEL_FILES: value })
      expect(res.status, value).toBe(500)
      const { error } = (await res.json()) as { error: { code: string; message: string } }
      expect(error.code).toBe('misconfigured')
      expect(error.message).toContain(`"${value}"`)
    }
  })
})

describe('GET /v1/model/files/* with the bundle staged', () => {
  it("serves the bundle's files, manifest.json revalidated on every load", async () => {
    const res = await worker('/v1/model/files/manifest.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const staged = await (await env.ASSETS.fetch(`http://assets/${MODEL}/manifest.json`)).text()
    expect(await res.text()).toBe(staged)
    const model = await worker(`/v1/model/files/${MODEL_FILE}`)
    expect(model.status).toBe(200)
    expect((await model.arrayBuffer()).byteLength).toBeGreaterThan(0)
  })
})
