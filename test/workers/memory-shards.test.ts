// A memory in Durable Object shards (workers/objects/memory-shard.ts), inside workerd with wrangler.toml's
// MEMORY_SHARD binding: with MEMORY_SHARDS = S the worker loads none of the memory's rows, asks S shard objects
// for their top-k and merges them; every answer (labels, scores, the neighbours with their global rows and
// similarities, at the tuned k and at k = 64) is the one the single scan in the isolate gives. A shard that
// fails or misses its deadline makes the request a 503 saying which shard and why.
import { createApp } from '../../workers/app.ts'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/memory/manifest.ts'
import { shardRange } from '../../workers/objects/memory-shard.ts'
import { editJson, readFiles, type BundleFiles } from './bundle-files.ts'
import { env, MODEL, postJson, staged, TUNED_K } from './helpers.ts'

const TEXTS = [
  'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!',
  'Hi Tom, the meeting moved to Thursday at 10am. Can you send me the slides before then? Thanks, Anna',
  'Cheap meds online, no prescription needed, order today',
  'Are we still on for dinner tonight? I can bring dessert.',
  'Your account has been suspended. Verify your password at the link below within 24 hours.',
  'The quarterly report is attached; numbers for March are still preliminary.',
  'URGENT: wire transfer needed, reply with your bank details',
  'lol see you at the game',
]

const single = createApp()
const ask = (app: ReturnType<typeof createApp>, vars: object, query = `?explain=1&k=${TUNED_K}`) => app.request(`/v1/classify${query}`, postJson({ texts: TEXTS }), { ...env, ...vars })

let reference: unknown
let reference64: unknown

beforeAll(async () => {
  const res = await ask(single, {})
  expect(res.status).toBe(200)
  reference = await res.json()
  reference64 = await (await ask(single, {}, '?explain=1&k=64')).json()
})

describe('a memory in Durable Object shards', () => {
  it('splits the rows into S contiguous ranges covering every row once', () => {
    for (const [rows, count] of [[4139, 3], [10, 4], [3, 5], [0, 2]]) {
      const ranges = Array.from({ length: count }, (_, i) => shardRange(rows, i, count))
      expect(ranges[0].first).toBe(0)
      expect(ranges.at(-1)!.end).toBe(rows)
      for (let i = 1; i < count; i++) expect(ranges[i].first).toBe(ranges[i - 1].end)
      expect(Math.max(...ranges.map((r) => r.end - r.first)) - Math.min(...ranges.map((r) => r.end - r.first))).toBeLessThanOrEqual(1)
    }
  })

  it.each([1, 2, 3, 8])('MEMORY_SHARDS=%i answers exactly as one scan in the isolate', async (shards) => {
    const app = createApp()
    const vars = { MEMORY_SHARDS: String(shards) }
    const res = await ask(app, vars)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { results: { neighbors: { row?: number }[] }[] }
    expect(body).toEqual(reference)
    expect(body.results.flatMap((r) => r.neighbors).length).toBeGreaterThan(0)
    // Deeper than the tuned k: neighbours from every shard, ties and all.
    expect(await (await ask(app, vars, '?explain=1&k=64')).json()).toEqual(reference64)
    const health = (await (await app.request('/healthz', undefined, { ...env, ...vars })).json()) as { runtime: { knn: string }; memoryRows: number }
    expect(health.runtime.knn).toBe(`simd in ${shards} Durable Object shards`)
  })

  it('a shard that fails: 503 naming the shard and the reason, never a partial answer', async () => {
    // The worker serves a manifest whose memory is not the one in the static assets the shards load from
    // (a deployment half done): every shard refuses to answer for another memory.
    const files: BundleFiles = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
    const other = editJson<Manifest>(files, 'manifest.json', (m) => void (m.memory.sha256 = 'e'.repeat(64)))
    const app = createApp()
    const res = await app.request(`/v1/classify?k=${TUNED_K}`, postJson({ text: TEXTS[0] }), { ...env, ASSETS: staged(MODEL, other).binding, MEMORY_SHARDS: '2' })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('memory_unavailable')
    expect(error.message).toMatch(/^the memory could not be searched: memory shard \d of 2 \(rows \d+\.\.\d+\): .*the static assets hold memory/)
  })

  it('a shard that misses MEMORY_SHARD_TIMEOUT_MS: 503 saying so', async () => {
    // The real shard objects, each answer held back 500 ms (a busy or distant object): a deadline of 20 ms must
    // give up on them. (A fresh object's first load is not reliably slower than any fixed deadline: workerd's
    // clock moves only on I/O.)
    const real = env.MEMORY_SHARD!
    const slow = {
      idFromName: (name: string) => real.idFromName(name),
      get: (id: ReturnType<typeof real.idFromName>) => {
        const stub = real.get(id)
        return { search: async (...args: Parameters<typeof stub.search>) => (await new Promise((r) => setTimeout(r, 500)), stub.search(...args)) }
      },
    }
    const app = createApp()
    const res = await app.request(`/v1/classify?k=${TUNED_K}`, postJson({ text: TEXTS[1] }), { ...env, MEMORY_SHARD: slow as unknown as typeof real, MEMORY_SHARDS: '5', MEMORY_SHARD_TIMEOUT_MS: '20' })
    expect(res.status).toBe(503)
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('memory_unavailable')
    expect(error.message).toMatch(/memory shard \d of 5 \(rows \d+\.\.\d+\): no answer within 20 ms/)
  })

  it('MEMORY_SHARDS must be a small whole number', async () => {
    const res = await single.request('/v1/classify', postJson({ text: 'x' }), { ...env, MEMORY_SHARDS: 'two' })
    expect(res.status).toBe(500)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/MEMORY_SHARDS must be an integer in 0\.\.64/)
  })
})
