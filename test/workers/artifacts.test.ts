// Broken artefacts, inside workerd. (1) Random and mutated bytes as memory.bin or manifest.json never crash
// the loader (src/bundle/load.ts, src/memory/format.ts): loadBundle resolves or rejects with an ArtifactError.
// (2) A missing, truncated or mismatched model or memory, staged as another bundle behind the ASSETS binding
// and loaded by the worker's real loader (createApp(): assets -> loadBundle -> onnxruntime-web): /healthz and
// /v1/classify answer 503 with the reason and Retry-After, the worker keeps answering everything else, nothing
// is reloaded before LOAD_RETRY_SECONDS, and once the bundle is fixed the next attempt serves it.
// First: @hono/zod-openapi must extend zod before src/memory/manifest.ts builds its schema (zod 4 adds
// methods per instance), or workers/schemas.ts finds no Manifest.openapi.
import { createApp } from '../../workers/app.ts'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBundle } from '../../src/bundle/load.ts'
import { ArtifactError } from '../../src/bundle/source.ts'
import { sha256Hex } from '../../src/memory/checksum.ts'
import { readMemory } from '../../src/memory/format.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import { editJson, manifestOf, readFiles, rechecksum, sourceOf, withMemory, withModel, type BundleFiles } from './bundle-files.ts'
import { env, MODEL, MODEL_FILE, modelStaged, postJson, staged } from './helpers.ts'

const SEED = 20261126
const CODES = ['missing_file', 'corrupt', 'model_mismatch', 'dimension_mismatch', 'label_mismatch']

let good: BundleFiles

beforeAll(async () => {
  if (!modelStaged) throw new Error('test/workers/artifacts.test.ts needs the staged bundle: run `npm run build:worker`')
  good = await readFiles(async (path) => {
    const res = await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)
    if (!res.ok) throw new Error(`${MODEL}/${path}: HTTP ${res.status}`)
    return new Uint8Array(await res.arrayBuffer())
  })
})

/** loadBundle either loads the files or rejects with an ArtifactError with a known code and a message. */
async function loadsOrArtifactError(files: BundleFiles): Promise<'loaded' | string> {
  try {
    await loadBundle(sourceOf(files))
    return 'loaded'
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(ArtifactError)
    expect(CODES).toContain((err as ArtifactError).code)
    expect((err as Error).message.length).toBeGreaterThan(0)
    return (err as ArtifactError).code
  }
}

const withFile = (files: BundleFiles, path: string, bytes: Uint8Array) => new Map(files).set(path, bytes)
const overwrite = (bytes: Uint8Array, edits: [number, number][]) => {
  const out = Uint8Array.from(bytes)
  for (const [at, value] of edits) out[at % out.length] = value
  return out
}

describe('loadBundle on random and mutated files', () => {
  it('the staged bundle itself loads', async () => {
    expect(await loadsOrArtifactError(good)).toBe('loaded')
  })

  it('random bytes as memory.bin', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        expect(await loadsOrArtifactError(withFile(good, 'memory.bin', bytes))).not.toBe('loaded')
      }),
      { seed: SEED, numRuns: 60 },
    )
  })

  it('memory.bin with bytes overwritten or cut: rejected unless the bytes are unchanged', async () => {
    const memory = good.get('memory.bin')!
    const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
    await fc.assert(
      fc.asyncProperty(edits, fc.option(fc.nat({ max: memory.length - 1 })), async (changes, cut) => {
        let bytes = overwrite(memory, changes)
        if (cut !== null) bytes = bytes.subarray(0, cut)
        const unchanged = bytes.length === memory.length && bytes.every((b, i) => b === memory[i])
        const outcome = await loadsOrArtifactError(withFile(good, 'memory.bin', bytes))
        expect(outcome === 'loaded').toBe(unchanged)
      }),
      { seed: SEED, numRuns: 60 },
    )
  })

  it('memory.bin mutated and re-checksummed, listed by the manifest: only an ArtifactError or a consistent load', async () => {
    const memory = good.get('memory.bin')!
    // The header (sizes, dtypes, scale, fingerprint), the labels JSON and random places in the body.
    const at = fc.oneof(fc.integer({ min: 0, max: 127 }), fc.nat({ max: memory.length - 33 }))
    const edits = fc.array(fc.tuple(at, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
    await fc.assert(
      fc.asyncProperty(edits, async (changes) => {
        const mutated = new Uint8Array(memory.length)
        mutated.set(overwrite(memory.subarray(0, memory.length - 32), changes))
        const bytes = await rechecksum(mutated)
        const sha = await sha256Hex(bytes)
        const listed = editJson<Manifest>(withFile(good, 'memory.bin', bytes), 'manifest.json', (m) => {
          m.memory.sha256 = sha
        })
        const outcome = await loadsOrArtifactError(listed)
        if (outcome === 'loaded') {
          const m = await readMemory(bytes)
          expect(m.keys.data.length).toBe(m.rows * m.dim)
          expect(m.rowLabels.every((id) => id < m.labels.length)).toBe(true)
        }
      }),
      { seed: SEED, numRuns: 60 },
    )
  })

  it('random bytes and random JSON as manifest.json', async () => {
    const manifest = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v) ?? '')),
    )
    await fc.assert(
      fc.asyncProperty(manifest, async (bytes) => {
        expect(await loadsOrArtifactError(withFile(good, 'manifest.json', bytes))).not.toBe('loaded')
      }),
      { seed: SEED, numRuns: 60 },
    )
  })

  it('manifest.json with one field replaced by any JSON value, or removed', async () => {
    const paths: string[][] = []
    const walk = (value: unknown, path: string[]) => {
      if (value && typeof value === 'object' && !(Array.isArray(value) && path.at(-1) === 'grid')) {
        for (const [key, child] of Object.entries(value)) walk(child, [...path, key])
      }
      if (path.length) paths.push(path)
    }
    walk(manifestOf(good), [])
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.option(fc.jsonValue({ maxDepth: 2 })), async (path, value) => {
        const files = editJson(good, 'manifest.json', (m) => {
          const parent = path.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, m)
          if (value === null) delete parent[path.at(-1)!]
          else parent[path.at(-1)!] = value
        })
        await loadsOrArtifactError(files)
      }),
      { seed: SEED, numRuns: 80 },
    )
  })
})

const without = (path: string) => async (files: BundleFiles) => {
  const out = new Map(files)
  out.delete(path)
  return out
}
const truncated = (path: string) => async (files: BundleFiles) => withFile(files, path, files.get(path)!.subarray(0, files.get(path)!.length >> 1))

const BROKEN: [string, (files: BundleFiles) => Promise<BundleFiles>, string[]][] = [
  ['manifest.json missing', without('manifest.json'), ['missing_file', 'manifest.json']],
  [`${MODEL_FILE} missing`, without(MODEL_FILE), ['missing_file', MODEL_FILE]],
  ['memory.bin missing', without('memory.bin'), ['missing_file', 'memory.bin']],
  ['memory.bin cut in half', truncated('memory.bin'), ['corrupt', 'memory.bin']],
  [`${MODEL_FILE} cut in half`, truncated(MODEL_FILE), ['model_mismatch', MODEL_FILE, 'SHA-256']],
  ['manifest.json cut in half', truncated('manifest.json'), ['corrupt', 'manifest.json', 'not valid JSON']],
  [
    'memory.bin built for another model (manifest updated)',
    async (files) => withMemory(files, { ...(await readMemory(files.get('memory.bin')!)), modelFingerprint: 'ab'.repeat(32) }),
    ['model_mismatch', 'memory.bin: built for model abababababab'],
  ],
  [
    'memory.bin keys of another dimension',
    async (files) => {
      const m = await readMemory(files.get('memory.bin')!)
      if (m.keys.dtype !== 'int8') throw new Error('expected int8 keys')
      const dim = m.dim / 2
      return withMemory(files, { ...m, dim, keys: { ...m.keys, data: m.keys.data.filter((_, i) => i % m.dim < dim) } })
    },
    ['dimension_mismatch', 'dimensions, the model\'s embedding has'],
  ],
  [
    'manifest.json promises more tokens than the model has positions',
    async (files) => editJson<Manifest>(files, 'manifest.json', (m) => void (m.model.maxLength = 100_000)),
    ['corrupt', 'model.maxLength 100000 is over the'],
  ],
  ['config.json labels disagree', async (files) => editJson(files, 'config.json', (c) => void (c.id2label = { 0: 'x', 1: 'y' })), ['label_mismatch', 'labels disagree']],
  // Every fingerprint agrees, the bytes are no ONNX model: onnxruntime-web itself refuses it.
  [`${MODEL_FILE} garbage with matching fingerprints`, async (files) => withModel(files, new TextEncoder().encode('not an onnx model '.repeat(100))), ['Error']],
]

describe('a broken bundle: 503 with the reason, no crash loop, served once fixed', () => {
  const text = postJson({ text: 'Hi Tom, lunch at noon?' })

  it.each(BROKEN)('%s', async (_, breakIt, reason) => {
    const bundle = staged('broken', await breakIt(good))
    const app = createApp()
    const vars = { ...env, ASSETS: bundle.binding, MODEL: 'broken', LOAD_RETRY_SECONDS: '30' }

    const health = await app.request('/healthz', undefined, vars)
    expect(health.status).toBe(503)
    expect(health.headers.get('retry-after')).toBe('30')
    const { error } = (await health.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('model_unavailable')
    for (const part of reason) expect(error.message).toContain(part)
    const reads = bundle.reads()

    const classify = await app.request('/v1/classify', text, vars)
    expect(classify.status).toBe(503)
    expect(Number(classify.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await classify.json()) as { error: { code: string; message: string } }).error).toEqual(error)
    expect((await app.request('/v1/model', undefined, vars)).status).toBe(503)
    // Everything that needs no model still answers, and nothing was read again inside the retry window.
    expect((await app.request('/openapi.json', undefined, vars)).status).toBe(200)
    expect((await app.request('/v1/classify', postJson({ text: '' }), vars)).status).toBe(400)
    expect((await app.request('/nowhere', undefined, vars)).status).toBe(404)
    for (let i = 0; i < 20; i++) expect((await app.request('/healthz', undefined, vars)).status).toBe(503)
    expect(bundle.reads()).toBe(reads)
  })

  it('after LOAD_RETRY_SECONDS the next request tries again, and a fixed bundle is served', async () => {
    const bundle = staged('broken', await truncated('memory.bin')(good))
    const app = createApp()
    const vars = { ...env, ASSETS: bundle.binding, MODEL: 'broken', LOAD_RETRY_SECONDS: '30' }
    expect((await app.request('/healthz', undefined, vars)).status).toBe(503)
    const reads = bundle.reads()
    bundle.replace(good)
    // Still inside the window: the remembered failure, no read.
    expect((await app.request('/v1/classify', text, vars)).status).toBe(503)
    expect(bundle.reads()).toBe(reads)
    // Window over (LOAD_RETRY_SECONDS = 0 from now on): loaded again, served.
    const later = { ...vars, LOAD_RETRY_SECONDS: '0' }
    expect((await app.request('/healthz', undefined, later)).status).toBe(200)
    expect(bundle.reads()).toBeGreaterThan(reads)
    const res = await app.request('/v1/classify', text, later)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { label: string }).label).toEqual(expect.any(String))
  })
})
