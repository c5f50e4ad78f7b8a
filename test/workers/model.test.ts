import { beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/memory/manifest.ts'
import { env, MODEL, MODEL_FILE, worker } from './helpers.ts'

let ready: Response

beforeAll(async () => {
  ready = await worker('/healthz')
})

describe('GET /healthz', () => {
  it('200 once the classifier is loaded, naming the model and how it runs', async () => {
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as { status: string; model: string; memoryRows: number; runtime: { onnxruntime: string; knn: string } }
    expect(body.status).toBe('ok')
    expect(body.runtime.onnxruntime).toMatch(/^onnxruntime-web 1\.\d+\.\d+ \(wasm, 1 thread\)$/)
    expect(body.runtime.knn).toBe('simd')
    expect(body.memoryRows).toBeGreaterThan(0)
  })

  it('restores WebAssembly.instantiate after starting ORT', () => {
    expect(WebAssembly.instantiate.name).toBe('instantiate')
  })
})

describe('GET /v1/model', () => {
  it('serves the manifest: labels, k, sigma, T, memory rows, quantization, fingerprints, versions', async () => {
    const res = await worker('/v1/model')
    expect(res.status).toBe(200)
    const { served, ...m } = (await res.json()) as Manifest & { served: unknown }
    const staged = (await (await env.ASSETS.fetch(`http://assets/${MODEL}/manifest.json`)).json()) as Manifest
    expect(m).toEqual(staged)
    // What answers now, beside the build's record: built memory on or off, the radius, learned rows.
    expect(served).toEqual({ builtMemory: staged.resmem.k > 0 ? 'on' : 'off', k: staged.resmem.k, radius: staged.locality!.radius, learnedRows: 0, novelty: true, alpha: staged.conformal!.alpha, labels: staged.labels.map((label) => ({ label, source: 'model' })) })
    expect(m.labels.length).toBeGreaterThanOrEqual(2)
    expect(m.resmem).toMatchObject({ k: expect.any(Number), sigma: expect.any(Number), temperature: expect.any(Number) })
    expect(m.memory.rows).toBeGreaterThan(0)
    expect(m.memory.quantization.keys).toMatch(/^int8/)
    expect(m.model.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(m.memory.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(Object.keys(m.versions).length).toBeGreaterThan(0)
  })

  it('says whether the memory is served and why, and the score temperatures fitted on val', async () => {
    const m = (await (await worker('/v1/model')).json()) as Manifest
    const d = m.memory.decision!
    expect(d).toMatchObject({ on: expect.any(Boolean), reason: expect.any(String), test: 'mcnemar-exact-one-sided', alpha: 0.05 })
    // Off: the worker answers with the base model (k = 0); the tuned point stays in `tuning`.
    expect(m.resmem.k === 0).toBe(!d.on)
    expect(m.calibration).toMatchObject({ split: 'val', memory: expect.any(Number), base: expect.any(Number) })
  })

  it('the bundle files are not served publicly (run_worker_first)', async () => {
    for (const file of ['manifest.json', MODEL_FILE, 'memory.bin']) {
      const res = await worker(`/${MODEL}/${file}`)
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found')
    }
  })
})
