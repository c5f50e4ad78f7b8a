import { describe, expect, it } from 'vitest'
import { loadBundle } from '../../src/bundle/load.ts'
import { ArtifactError } from '../../src/bundle/source.ts'
import { cachedBundleSource, cacheKey, cacheWritesSettled, readThrough, settledWithin } from '../../src/browser/cache.ts'
import { bundleFiles, enc } from '../helpers/bundle.ts'

const BASE = 'https://example.test/models/spam/'

/** An in-memory Cache Storage with the slice of the Cache API the source uses. */
function fakeCaches() {
  const stores = new Map<string, Map<string, Uint8Array>>()
  const storage = {
    stores,
    async open(name: string) {
      let store = stores.get(name)
      if (!store) stores.set(name, (store = new Map()))
      const s = store
      const key = (r: RequestInfo | URL) => (typeof r === 'string' ? r : r instanceof URL ? r.href : r.url)
      return {
        async match(r: RequestInfo | URL) {
          const hit = s.get(key(r))
          return hit ? new Response(hit.slice()) : undefined
        },
        async put(r: RequestInfo | URL, res: Response) {
          s.set(key(r), new Uint8Array(await res.arrayBuffer()))
        },
        async keys() {
          return [...s.keys()].map((k) => new Request(k))
        },
        async delete(r: RequestInfo | URL) {
          return s.delete(key(r))
        },
      } as unknown as Cache
    },
  }
  return storage as unknown as CacheStorage & { stores: typeof stores }
}

/** A fetch over a map of URL -> bytes that records what it was asked for. */
function fakeServer(files: Map<string, Uint8Array>, base = BASE) {
  const requests: string[] = []
  let offline = false
  const fetch = (async (input: RequestInfo | URL) => {
    const url = String(input)
    requests.push(url)
    if (offline) throw new TypeError('Failed to fetch')
    const path = url.startsWith(base) ? url.slice(base.length) : url
    const bytes = files.get(path)
    return bytes ? new Response(bytes.slice(), { headers: { 'content-length': String(bytes.length) } }) : new Response('not found', { status: 404 })
  }) as typeof globalThis.fetch
  return {
    fetch,
    requests,
    goOffline: () => {
      offline = true
    },
  }
}

describe('cachedBundleSource', () => {
  it('downloads a bundle once; the next load reads all but manifest.json from the cache', async () => {
    const files = await bundleFiles()
    const caches = fakeCaches()
    const first = fakeServer(files)
    const a = cachedBundleSource(BASE, { fetch: first.fetch, caches })
    const bundleA = await loadBundle(a.source)
    expect(a.stats.cache).toEqual([])
    expect(a.stats.network).toHaveLength(6)

    const second = fakeServer(files)
    const b = cachedBundleSource(BASE, { fetch: second.fetch, caches })
    const bundleB = await loadBundle(b.source)
    expect(second.requests).toEqual([`${BASE}manifest.json`])
    expect(b.stats.cache.sort()).toEqual(['config.json', 'memory.bin', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'].map((p) => BASE + p).sort())
    expect(bundleB.model).toEqual(bundleA.model)
    expect(bundleB.memory.rows).toBe(bundleA.memory.rows)
  })

  it('a new build (other hashes in manifest.json) never gets the old files, and prune() drops them', async () => {
    const caches = fakeCaches()
    const old = await bundleFiles()
    await loadBundle(cachedBundleSource(BASE, { fetch: fakeServer(old).fetch, caches }).source)

    // The next build: other bytes under the same names, and a manifest naming their hashes.
    const next = new Map([...old].map(([path, bytes]) => [path, Uint8Array.from([...bytes, 1])]))
    const manifest = JSON.parse(new TextDecoder().decode(old.get('manifest.json')))
    manifest.model.sha256 = 'c'.repeat(64)
    manifest.memory.sha256 = 'd'.repeat(64)
    next.set('manifest.json', enc(manifest))
    const server = fakeServer(next)
    const source = cachedBundleSource(BASE, { fetch: server.fetch, caches })
    for (const path of ['manifest.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'memory.bin']) {
      expect(await source.source(path)).toEqual(next.get(path))
    }
    expect(source.stats.cache).toEqual([])
    expect(server.requests).toContain(`${BASE}onnx/model.onnx`)
    expect(await source.prune()).toBe(5)
    const left = [...caches.stores.get('resmem')!.keys()]
    // manifest.json (the last one seen) and the 5 files of the new build.
    expect(left).toHaveLength(6)
  })

  it('reads the memory from memoryUrl when given', async () => {
    const files = await bundleFiles()
    const memory = files.get('memory.bin')!
    files.delete('memory.bin')
    const elsewhere = 'https://cdn.example.test/memories/spam-v1.bin'
    const server = fakeServer(new Map([...files, [elsewhere, memory]]))
    const source = cachedBundleSource(BASE, { fetch: server.fetch, caches: fakeCaches(), memoryUrl: elsewhere })
    const bundle = await loadBundle(source.source)
    expect(bundle.memory.rows).toBe(3)
    expect(server.requests).toContain(elsewhere)
  })

  it('uses the last manifest when offline', async () => {
    const files = await bundleFiles()
    const caches = fakeCaches()
    await loadBundle(cachedBundleSource(BASE, { fetch: fakeServer(files).fetch, caches }).source)
    const offline = fakeServer(files)
    offline.goOffline()
    const source = cachedBundleSource(BASE, { fetch: offline.fetch, caches })
    await loadBundle(source.source)
    expect(source.stats.network).toEqual([])
    expect(source.stats.cache).toHaveLength(6)
  })

  it('works without the Cache API, and with cache: false', async () => {
    const files = await bundleFiles()
    for (const options of [{ caches: undefined }, { caches: fakeCaches(), cache: false as const }]) {
      const server = fakeServer(files)
      const source = cachedBundleSource(BASE, { fetch: server.fetch, ...options })
      await loadBundle(source.source)
      await loadBundle(source.source)
      expect(source.stats.cache).toEqual([])
    }
  })

  it('a cache that refuses to store does not fail the load', async () => {
    const files = await bundleFiles()
    const caches = fakeCaches()
    const open = caches.open.bind(caches)
    caches.open = async (name: string) => Object.assign(await open(name), { put: async () => Promise.reject(new DOMException('quota', 'QuotaExceededError')) })
    const source = cachedBundleSource(BASE, { fetch: fakeServer(files).fetch, caches })
    await expect(loadBundle(source.source)).resolves.toBeTruthy()
  })

  it('reports a missing file as an ArtifactError naming it', async () => {
    const files = await bundleFiles()
    files.delete('tokenizer.json')
    const source = cachedBundleSource(BASE, { fetch: fakeServer(files).fetch, caches: fakeCaches() })
    const err = await loadBundle(source.source).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ArtifactError)
    expect((err as ArtifactError).code).toBe('missing_file')
    expect((err as Error).message).toContain('tokenizer.json')
  })

  it('sends the given headers with every bundle request; a 401 says a token is needed', async () => {
    const files = await bundleFiles()
    const inner = fakeServer(files).fetch
    const TOKEN = 'Bearer rsm_test_0123456789abcdef'
    const seen: (string | null)[] = []
    // A server behind API_TOKEN: the files only with the right Authorization header.
    const guarded = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const auth = new Headers(init?.headers).get('authorization')
      seen.push(auth)
      return auth === TOKEN ? inner(input, init) : new Response('{"error":{"code":"unauthorized"}}', { status: 401 })
    }) as typeof globalThis.fetch
    const refused = await loadBundle(cachedBundleSource(BASE, { fetch: guarded, cache: false }).source).catch((e: unknown) => e)
    expect((refused as Error).message).toMatch(/manifest\.json: HTTP 401 .*asks for an API token/)
    seen.length = 0
    const bundle = await loadBundle(cachedBundleSource(BASE, { fetch: guarded, cache: false, headers: { authorization: TOKEN } }).source)
    expect(bundle.manifest.name).toBe('test')
    expect(seen.length).toBeGreaterThanOrEqual(5)
    expect(seen.every((a) => a === TOKEN)).toBe(true)
  })

  it('reports download progress, ending at the full size', async () => {
    const files = new Map([['manifest.json', enc({ model: { sha256: 'a'.repeat(64) }, memory: { sha256: 'b'.repeat(64) } })], ['x.bin', new Uint8Array(1000)]])
    const seen: { loaded: number; total?: number; cached: boolean }[] = []
    const source = cachedBundleSource(BASE, { fetch: fakeServer(files).fetch, caches: fakeCaches(), onProgress: (p) => seen.push(p) })
    await source.source('x.bin')
    expect(seen.at(-1)).toMatchObject({ loaded: 1000, total: 1000, cached: false })
  })
})

describe('readThrough', () => {
  it('stores under the key and answers from it next time', async () => {
    const cache = await fakeCaches().open('t')
    const url = 'https://example.test/ort/ort-wasm-simd-threaded.wasm'
    const server = fakeServer(new Map([[url, new Uint8Array([0, 97, 115, 109])]]))
    const key = cacheKey(url, 'ort-1.30.0')
    expect(key).toBe(`${url}?resmem=ort-1.30.0`)
    expect((await readThrough(cache, url, key, 'ort', { fetch: server.fetch })).cached).toBe(false)
    expect(await cacheWritesSettled(1000)).toBe(true)
    const again = await readThrough(cache, url, key, 'ort', { fetch: server.fetch })
    expect(again.cached).toBe(true)
    expect([...again.bytes]).toEqual([0, 97, 115, 109])
    expect(server.requests).toHaveLength(1)
  })

  it('a cache write that never ends does not hold up the bytes; waiting for it is bounded', async () => {
    const url = 'https://example.test/ort/ort-wasm-simd-threaded.wasm'
    const server = fakeServer(new Map([[url, new Uint8Array([1, 2, 3])]]))
    const stuck = { match: async () => undefined, put: () => new Promise<void>(() => {}) } as unknown as Cache
    const read = await readThrough(stuck, url, cacheKey(url, 'v'), 'ort', { fetch: server.fetch })
    expect([...read.bytes]).toEqual([1, 2, 3])
    expect(await cacheWritesSettled(50)).toBe(false)
  })
})

describe('settledWithin', () => {
  it('is true for work that ends, failed or not, and false for work that outlasts the wait', async () => {
    expect(await settledWithin(Promise.resolve(1), 1000)).toBe(true)
    expect(await settledWithin(Promise.reject(new Error('quota')), 1000)).toBe(true)
    expect(await settledWithin(new Promise(() => {}), 50)).toBe(false)
  })
})
