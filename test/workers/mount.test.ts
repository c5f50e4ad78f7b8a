// resmemRoutes(): the ResMem API mounted in an app of one's own, in workerd with the real model from the
// assets. Under the mount path it must answer as the whole worker does at the root.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { resmemRoutes } from '../../workers/mount.ts'
import { env, MODEL, ORIGIN, postJson, worker } from './helpers.ts'

const app = new Hono()
app.get('/', (c) => c.text('my app'))
app.route('/ml', resmemRoutes())
app.route('/tenants/:tenant/ml', resmemRoutes())

const request = (path: string, init?: RequestInit) => app.request(`${ORIGIN}${path}`, init, env)
const TEXT = 'WIN a FREE cruise!!! Click here to claim your prize now'

describe('resmemRoutes() mounted at /ml', () => {
  it('classifies exactly as the worker does at the root, and leaves the app its own routes', async () => {
    const [mounted, root] = await Promise.all([request('/ml/v1/classify?explain=1', postJson({ text: TEXT })), worker('/v1/classify?explain=1', postJson({ text: TEXT }))])
    expect(mounted.status).toBe(200)
    expect(await mounted.json()).toEqual(await root.json())
    expect(await (await request('/')).text()).toBe('my app')
  })

  it('answers the model, health, the bundle files and errors under the mount path', async () => {
    const model = (await (await request('/ml/v1/model')).json()) as { name: string }
    expect(model.name).toBe((await (await worker('/v1/model')).json() as { name: string }).name)
    expect((await request('/ml/healthz')).status).toBe(200)
    const file = await request('/ml/v1/model/files/manifest.json')
    expect(file.status).toBe(200)
    expect(((await file.json()) as { name: string }).name).toBe(model.name)

    const missing = await request('/ml/v1/nothing')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found')
    const bad = await request('/ml/v1/classify', postJson({ txt: TEXT }))
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request')
  })

  it('names the mount path as the server in /openapi.json, with path parameters filled in', async () => {
    const doc = (await (await request('/ml/openapi.json')).json()) as { servers: { url: string }[]; paths: Record<string, unknown> }
    expect(doc.servers).toEqual([{ url: `${ORIGIN}/ml` }])
    expect(Object.keys(doc.paths)).toContain('/v1/classify')
    const tenant = (await (await request('/tenants/acme/ml/openapi.json')).json()) as { servers: { url: string }[] }
    expect(tenant.servers).toEqual([{ url: `${ORIGIN}/tenants/acme/ml` }])
    expect((await request('/tenants/acme/ml/v1/classify', postJson({ text: TEXT }))).status).toBe(200)
  })

  it('serves the bundle its options name', async () => {
    const other = new Hono()
    other.route('/ml', resmemRoutes({ model: 'no-such-bundle' }))
    const res = await other.request(`${ORIGIN}/ml/v1/classify`, postJson({ text: TEXT }), env)
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('model_unavailable')
    expect(body.error.message).toContain('no-such-bundle/')
    expect(MODEL).not.toBe('no-such-bundle')
  })
})
