// Bundles from an R2 bucket (BUNDLE_SOURCE = "r2", workers/r2.ts) in workerd, with miniflare's local R2 as the
// BUNDLES binding: the staged bundle uploaded object by object answers exactly as the static assets do; a missing
// object is the 503 that names it; "r2" without a bucket bound is a configuration error that says what to add.
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../workers/app.ts'
import type { R2BucketLike } from '../../workers/r2.ts'
import { readFiles, type BundleFiles } from './bundle-files.ts'
import { env, MODEL, postJson, TUNED_K } from './helpers.ts'

interface R2Bucket extends R2BucketLike {
  put(key: string, value: Uint8Array): Promise<unknown>
  delete(key: string): Promise<void>
}

const TEXTS = ['Congratulations! You have WON a FREE cruise. Click here now to claim your prize!!!', 'Hi Tom, can we move our meeting to Thursday?']
const bucket = (env as unknown as { BUNDLES: R2Bucket }).BUNDLES
const ask = (vars: object) => createApp().request(`/v1/classify?explain=1&k=${TUNED_K}`, postJson({ texts: TEXTS }), { ...env, ...vars })

let files: BundleFiles

beforeAll(async () => {
  files = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
  for (const [path, bytes] of files) await bucket.put(`from-r2/${path}`, bytes)
})

describe('bundles from an R2 bucket', () => {
  it('answers exactly as the same bundle from the static assets', async () => {
    const fromAssets = await ask({})
    const fromR2 = await ask({ BUNDLE_SOURCE: 'r2', MODEL: 'from-r2' })
    expect(fromR2.status).toBe(200)
    const body = (await fromR2.json()) as { results: { neighbors: unknown[] }[] }
    expect(body).toEqual(await fromAssets.json())
    expect(body.results[0].neighbors.length).toBe(TUNED_K)
  })

  it('a missing object: 503 naming its key', async () => {
    for (const [path, bytes] of files) await bucket.put(`half-uploaded/${path}`, bytes)
    await bucket.delete('half-uploaded/memory.bin')
    const res = await ask({ BUNDLE_SOURCE: 'r2', MODEL: 'half-uploaded' })
    expect(res.status).toBe(503)
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.message).toContain('half-uploaded/memory.bin: not in the R2 bucket bound as BUNDLES')
  })

  it('BUNDLE_SOURCE = "r2" with no bucket bound, or an unknown source: the configuration error says what to fix', async () => {
    const message = async (res: Response) => ((await res.json()) as { error: { message: string } }).error.message
    const unbound = await ask({ BUNDLE_SOURCE: 'r2', BUNDLES: undefined })
    expect(unbound.status).toBeGreaterThanOrEqual(500)
    expect(await message(unbound)).toContain('no R2 bucket is bound as BUNDLES')
    const unknown = await ask({ BUNDLE_SOURCE: 's3' })
    expect(unknown.status).toBeGreaterThanOrEqual(500)
    expect(await message(unknown)).toContain('BUNDLE_SOURCE must be "assets" or "r2", got "s3"')
  })
})
