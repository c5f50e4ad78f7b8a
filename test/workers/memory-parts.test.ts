// A memory written in parts (src/memory/parts.ts), served by the worker's real loader inside workerd: the staged
// bundle re-split into parts of 400 KiB answers exactly as its one memory.bin does; a part missing, corrupt or
// listed with another SHA-256 makes the load fail with 503 and the part's name in the reason.
import { createApp } from '../../workers/app.ts'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/memory/manifest.ts'
import { editJson, manifestOf, readFiles, withParts, type BundleFiles } from './bundle-files.ts'
import { env, MODEL, postJson, staged, TUNED_K } from './helpers.ts'

const PART_BYTES = 400 * 1024
const TEXTS = [
  'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!',
  'Hi Tom, the meeting moved to Thursday at 10am. Can you send me the slides before then? Thanks, Anna',
  'Cheap meds online, no prescription needed, order today',
  'Are we still on for dinner tonight? I can bring dessert.',
]

let good: BundleFiles
let parts: BundleFiles

beforeAll(async () => {
  good = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
  parts = await withParts(good, PART_BYTES)
})

async function serve(files: BundleFiles) {
  const app = createApp()
  const vars = { ...env, ASSETS: staged('bundle', files).binding, MODEL: 'bundle', LOAD_RETRY_SECONDS: '30' }
  return (path: string, init?: RequestInit) => app.request(path, init, vars)
}

describe('a memory in parts', () => {
  it('is split into parts, each listed with its rows, size and SHA-256', () => {
    const m = manifestOf(parts)
    expect(m.memory.parts!.length).toBeGreaterThan(2)
    expect(m.memory.parts!.reduce((n, p) => n + p.rows, 0)).toBe(m.memory.rows)
    for (const p of m.memory.parts!) {
      expect(parts.get(p.file)!.length).toBe(p.bytes)
      expect(p.bytes).toBeLessThanOrEqual(PART_BYTES)
    }
    expect(parts.has('memory.bin')).toBe(false)
  })

  it('answers exactly as the same memory in one file', async () => {
    const [whole, split] = await Promise.all([serve(good), serve(parts)])
    const body = postJson({ texts: TEXTS })
    const a = await whole(`/v1/classify?explain=1&k=${TUNED_K}`, body)
    const b = await split(`/v1/classify?explain=1&k=${TUNED_K}`, body)
    expect(a.status).toBe(200)
    expect(b.status).toBe(200)
    const results = (await b.json()) as { results: { neighbors: unknown[] }[] }
    expect(results).toEqual(await a.json())
    expect(results.results[0].neighbors.length).toBeGreaterThan(0)
    const health = (await (await split('/healthz')).json()) as { memoryRows: number }
    expect(health.memoryRows).toBe(manifestOf(parts).memory.rows)
  })

  const part = (files: BundleFiles, i: number) => manifestOf(files).memory.parts![i].file
  const cases: [string, (files: BundleFiles) => BundleFiles, (files: BundleFiles) => string[]][] = [
    ['a missing part', (f) => { const out = new Map(f); out.delete(part(f, 1)); return out }, (f) => ['missing_file', part(f, 1)]],
    ['a corrupt part (one byte changed)', (f) => { const bytes = Uint8Array.from(f.get(part(f, 2))!); bytes[bytes.length >> 1] ^= 1; return new Map(f).set(part(f, 2), bytes) }, (f) => ['corrupt', part(f, 2), 'checksum']],
    ['a part listed with another SHA-256', (f) => editJson<Manifest>(f, 'manifest.json', (m) => void (m.memory.parts![0].sha256 = '0'.repeat(64))), (f) => ['corrupt', part(f, 0), 'SHA-256']],
    ['parts that hold fewer rows than the memory', (f) => editJson<Manifest>(f, 'manifest.json', (m) => void (m.memory.rows += 1)), () => ['corrupt', 'memory.parts hold']],
  ]
  it.each(cases)('%s: 503 with the reason', async (_, breakIt, reason) => {
    const request = await serve(breakIt(parts))
    const res = await request('/v1/classify', postJson({ text: TEXTS[0] }))
    expect(res.status).toBe(503)
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('model_unavailable')
    for (const word of reason(parts)) expect(error.message).toContain(word)
  })
})
